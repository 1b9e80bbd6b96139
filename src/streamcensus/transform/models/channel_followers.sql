-- model: channel_followers
-- inputs: stg_followers, stg_streams, calendar, run_days
-- output: table channel_followers (serving): follower totals and growth per channel-day
-- grain: one row per channel and UTC day with at least one hourly reading (day, channel_id)
-- units: followers (the day's last reading, followers; Helix's total: a public
--   per-channel figure, not a count of viewers, so no k applies); followers_at (its time);
--   readings (hourly readings that day); gained_day (followers minus the previous day's
--   last reading, or minus the day's first reading when the previous day has none);
--   gained_day_since (the reading it is counted from); gained_7d (followers minus the last
--   reading of the day 7 days before, or minus the first reading of the 7 days ending on
--   the day when that day has none); gained_7d_since (its reading); a growth measured
--   from a later reading than a whole period covers less than the period
-- materialized: incremental

with readings as (

    select * from stg_followers

),

streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

days as (

    select * from calendar

),

run as (

    select days.day, days.day_number
    from days
    where days.day in (select day from run_days)

),

numbered as (

    select readings.*, days.day_number
    from readings
    inner join days on readings.day = days.day

),

-- each run day's readings back to 7 days before it (the reading the week counts from)
spans as (

    select
        run.day,
        run.day_number as run_day_number,
        numbered.channel_id,
        numbered.day_number,
        numbered.snapshot_ts,
        numbered.followers_total
    from run
    inner join numbered
        on
            numbered.day_number <= run.day_number
            and numbered.day_number >= run.day_number - 7

),

ranked as (

    select
        spans.*,
        row_number() over (
            partition by spans.day, spans.channel_id, spans.day_number
            order by spans.snapshot_ts desc
        ) as from_last,
        row_number() over (
            partition by spans.day, spans.channel_id, spans.day_number
            order by spans.snapshot_ts
        ) as from_first,
        row_number() over (
            partition by
                spans.day,
                spans.channel_id,
                case when spans.day_number > spans.run_day_number - 7 then 1 else 0 end
            order by spans.snapshot_ts
        ) as in_week
    from spans

),

today as (

    select day, channel_id, snapshot_ts, followers_total
    from ranked
    where day_number = run_day_number and from_last = 1

),

today_first as (

    select day, channel_id, snapshot_ts, followers_total
    from ranked
    where day_number = run_day_number and from_first = 1

),

day_counts as (

    select day, channel_id, count(*) as readings
    from ranked
    where day_number = run_day_number
    group by day, channel_id

),

yesterday as (

    select day, channel_id, snapshot_ts, followers_total
    from ranked
    where day_number = run_day_number - 1 and from_last = 1

),

week_before as (

    select day, channel_id, snapshot_ts, followers_total
    from ranked
    where day_number = run_day_number - 7 and from_last = 1

),

week_first as (

    select day, channel_id, snapshot_ts, followers_total
    from ranked
    where day_number > run_day_number - 7 and in_week = 1

),

ranked_names as (

    select
        day,
        channel_id,
        channel_login,
        channel_name,
        row_number() over (partition by day, channel_id order by slot desc) as recency
    from streams

),

names as (

    select * from ranked_names where recency = 1

),

final as (

    select
        today.day,
        today.channel_id,
        names.channel_login,
        names.channel_name,
        cast(today.followers_total as bigint) as followers,
        today.snapshot_ts as followers_at,
        cast(day_counts.readings as integer) as readings,
        cast(
            today.followers_total - coalesce(yesterday.followers_total, today_first.followers_total)
            as bigint
        ) as gained_day,
        coalesce(yesterday.snapshot_ts, today_first.snapshot_ts) as gained_day_since,
        cast(
            today.followers_total - coalesce(week_before.followers_total, week_first.followers_total)
            as bigint
        ) as gained_7d,
        coalesce(week_before.snapshot_ts, week_first.snapshot_ts) as gained_7d_since
    from today
    inner join today_first
        on today.day = today_first.day and today.channel_id = today_first.channel_id
    inner join day_counts
        on today.day = day_counts.day and today.channel_id = day_counts.channel_id
    inner join week_first
        on today.day = week_first.day and today.channel_id = week_first.channel_id
    left join yesterday
        on today.day = yesterday.day and today.channel_id = yesterday.channel_id
    left join week_before
        on today.day = week_before.day and today.channel_id = week_before.channel_id
    left join names on today.day = names.day and today.channel_id = names.channel_id

)

select * from final
