-- model: community_timeseries_by_game
-- inputs: stg_streams, int_presence_games, run_days, run_params
-- output: table community_timeseries_by_game (serving)
-- grain: one row per snapshot and game (snapshot_id, game_id)
-- units: live_channels (channels); viewers (Σ Helix viewer_count); viewers_per_live_channel
--   (viewers / channels); chatters (distinct accounts in that game's chats, null under k)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

game_chatters as (

    select * from int_presence_games

),

params as (

    select * from run_params

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
            as viewers_per_live_channel,
        case when game_chatters.chatters >= params.k then game_chatters.chatters end as chatters
    from game_totals
    left join game_chatters
        on game_totals.slot = game_chatters.slot and game_totals.game_id = game_chatters.game_id
    cross join params

)

select * from final
