-- model: game_channel_day
-- inputs: stg_streams, run_days, run_params
-- output: table game_channel_day (serving)
-- grain: one row per game, channel and UTC day (day, game_id, channel_id) with the channel
--   live in that game at least once (streams without a category are left out)
-- units: snapshots (snapshots live in the game); airtime_hours (snapshots × interval,
--   hours); peak_viewers (viewers); viewer_hours (Σ viewer_count × interval,
--   viewer-hours); first_ts, last_ts (the first and last snapshot of the channel in the
--   game that day: the span its chatters are counted for the game in ranking_chatters)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where
        day in (select day from run_days)
        and game_id is not null
        and game_id <> ''

),

params as (

    select * from run_params

),

played as (

    select
        day,
        game_id,
        channel_id,
        count(*) as snapshots,
        max(viewer_count) as peak_viewers,
        sum(viewer_count) as viewer_sum,
        min(snapshot_ts) as first_ts,
        max(snapshot_ts) as last_ts
    from streams
    group by day, game_id, channel_id

),

ranked_names as (

    select
        day,
        game_id,
        channel_id,
        game_name,
        channel_login,
        channel_name,
        row_number() over (
            partition by day, game_id, channel_id order by slot desc
        ) as recency
    from streams

),

names as (

    select * from ranked_names where recency = 1

),

final as (

    select
        played.day,
        played.game_id,
        names.game_name,
        played.channel_id,
        names.channel_login,
        names.channel_name,
        cast(played.snapshots as integer) as snapshots,
        round(cast(played.snapshots * params.interval_minutes as double) / 60, 4)
            as airtime_hours,
        cast(played.peak_viewers as bigint) as peak_viewers,
        round(cast(played.viewer_sum * params.interval_minutes as double) / 60, 4)
            as viewer_hours,
        played.first_ts,
        played.last_ts
    from played
    inner join names
        on
            played.day = names.day
            and played.game_id = names.game_id
            and played.channel_id = names.channel_id
    cross join params

)

select * from final
