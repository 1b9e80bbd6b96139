-- model: community_timeseries_by_game
-- inputs: stg_streams, run_days
-- output: table community_timeseries_by_game (serving)
-- grain: one row per snapshot and game (snapshot_id, game_id)
-- units: live_channels (channels); viewers (Σ Helix viewer_count); viewers_per_live_channel
--   (viewers / channels); chatters per signal are in community_chatters_by_game
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

game_totals as (

    select
        day,
        slot,
        snapshot_id,
        snapshot_ts,
        game_id,
        max(game_name) as game_name,
        count(*) as live_channels,
        sum(viewer_count) as viewers
    from streams
    group by day, slot, snapshot_id, snapshot_ts, game_id

),

final as (

    select
        game_totals.day,
        game_totals.snapshot_id,
        game_totals.snapshot_ts,
        game_totals.game_id,
        game_totals.game_name,
        cast(game_totals.live_channels as integer) as live_channels,
        cast(game_totals.viewers as bigint) as viewers,
        round(cast(game_totals.viewers as double) / game_totals.live_channels, 2)
            as viewers_per_live_channel
    from game_totals

)

select * from final
