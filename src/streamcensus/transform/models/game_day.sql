-- model: game_day
-- inputs: stg_streams, run_days, run_params
-- output: table game_day (serving)
-- grain: one row per game and UTC day (day, game_id) with at least one channel live in it
--   (streams without a category are left out)
-- units: channels (distinct channels live in the game that day); snapshots (snapshots with
--   the game live on at least one channel); live_hours (snapshots × interval, hours);
--   airtime_hours (channel-hours: Σ channels live in the game × interval, hours);
--   peak_viewers (most viewers of the game at one snapshot: Σ Helix viewer_count over its
--   channels); avg_viewers (viewers per snapshot while the game was live); viewer_hours
--   (Σ viewer_count × interval, viewer-hours)
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

per_snapshot as (

    select
        day,
        slot,
        game_id,
        count(*) as live_channels,
        sum(viewer_count) as viewers
    from streams
    group by day, slot, game_id

),

totals as (

    select
        day,
        game_id,
        count(*) as snapshots,
        sum(live_channels) as channel_snapshots,
        max(viewers) as peak_viewers,
        sum(viewers) as viewer_sum
    from per_snapshot
    group by day, game_id

),

channels as (

    select day, game_id, count(distinct channel_id) as channels
    from streams
    group by day, game_id

),

ranked_names as (

    select
        day,
        game_id,
        game_name,
        row_number() over (partition by day, game_id order by slot desc, game_name) as recency
    from streams

),

names as (

    select * from ranked_names where recency = 1

),

final as (

    select
        totals.day,
        totals.game_id,
        names.game_name,
        cast(channels.channels as integer) as channels,
        cast(totals.snapshots as integer) as snapshots,
        round(cast(totals.snapshots * params.interval_minutes as double) / 60, 4) as live_hours,
        round(cast(totals.channel_snapshots * params.interval_minutes as double) / 60, 4)
            as airtime_hours,
        cast(totals.peak_viewers as bigint) as peak_viewers,
        round(cast(totals.viewer_sum as double) / totals.snapshots, 2) as avg_viewers,
        round(cast(totals.viewer_sum * params.interval_minutes as double) / 60, 4)
            as viewer_hours
    from totals
    inner join channels on totals.day = channels.day and totals.game_id = channels.game_id
    inner join names on totals.day = names.day and totals.game_id = names.game_id
    cross join params

)

select * from final
