-- model: viewer_habits
-- inputs: people_sessions, calendar, run_days, run_params
-- output: table viewer_habits (serving): the community's viewing schedule, in aggregate only
-- grain: one row per day, signal, metric and bucket (day, signal, metric, bucket). signal:
--   'chat_list' (people_sessions, bots excluded, in the chat lists read: only channels
--   whose chat list may be read)
--   or 'chat_activity' (people who posted: the whole community). Metrics:
--   hour_of_week: people chatting in each hour of the day; bucket = (ISO weekday - 1) × 24
--     + hour (0 = Monday 00:00-00:59 UTC); buckets under k are not published;
--   sessions_per_viewer, channels_per_viewer: people by their number of viewing sessions /
--     distinct channels that day;
--   session_minutes: viewing sessions by length in minutes (at most contribution_bound
--     sessions per person and day: her earliest);
--   days_active_per_week: people by days active in the 7 days ending on `day` (loyalty).
--   This query gives every bucket's exact value (empty buckets too: every bucket of a
--   distribution that has anyone, every hour of a day that has anyone, so whether a
--   bucket is empty is not told by its absence), null shares, and raw_people (the day's
--   people, the hour shares' denominator). transform/protect.py then adds noise to every
--   value and, on the noisy values only, merges each distribution's neighbouring buckets,
--   from the lowest up, into runs that each reach k (a last run under k joins the one
--   before; a distribution under k in total is not published), drops hours under k,
--   computes the shares, and drops raw_people.
-- units: value (people, or sessions for session_minutes, see `unit`); share (value / all
--   people active that day for hour_of_week, value / the distribution's total otherwise);
--   bucket_min, bucket_max (the bucket's range in the metric's unit; null max = open)
-- materialized: incremental

with people as not materialized (

    select * from people_sessions

),

days as (

    select * from calendar

),

params as (

    select * from run_params

),

hours as (

    select * from (
        values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11),
        (12), (13), (14), (15), (16), (17), (18), (19), (20), (21), (22), (23)
    ) as hours_of_day (hour)

),

count_buckets as (

    select * from (
        values (1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 5), (5, 6, 10), (6, 11, null)
    ) as buckets (bucket, bucket_min, bucket_max)

),

minute_buckets as (

    select * from (
        values (1, 0, 5), (2, 6, 15), (3, 16, 30), (4, 31, 60), (5, 61, 120), (6, 121, 240),
        (7, 241, null)
    ) as buckets (bucket, bucket_min, bucket_max)

),

today_sessions as not materialized (

    select * from people
    where day in (select day from run_days)

),



session_hours as (

    select distinct
        day,
        signal,
        viewer,
        extract(hour from first_seen) as first_hour,
        extract(hour from last_seen) as last_hour
    from today_sessions

),

active_hours as (

    select distinct session_hours.day, session_hours.signal, hours.hour, session_hours.viewer
    from session_hours
    inner join hours
        on hours.hour >= session_hours.first_hour and hours.hour <= session_hours.last_hour

),

hour_counts as (

    select
        active_hours.day,
        active_hours.signal,
        (days.isodow - 1) * 24 + active_hours.hour as bucket,
        count(*) as n
    from active_hours
    inner join days on active_hours.day = days.day
    group by active_hours.day, active_hours.signal, days.isodow, active_hours.hour

),

per_viewer as (

    select
        day,
        signal,
        viewer,
        count(*) as session_count,
        count(distinct channel_id) as channel_count
    from today_sessions
    group by day, signal, viewer

),

day_people as (

    select day, signal, count(*) as people
    from per_viewer
    group by day, signal

),

tagged_sessions as (

    select
        today_sessions.day,
        today_sessions.signal,
        today_sessions.viewer,
        today_sessions.channel_id,
        today_sessions.first_seen,
        today_sessions.minutes,
        per_viewer.session_count
    from today_sessions
    inner join per_viewer
        on
            today_sessions.day = per_viewer.day
            and today_sessions.signal = per_viewer.signal
            and today_sessions.viewer = per_viewer.viewer

),

ranked_sessions as (

    select
        tagged_sessions.*,
        row_number() over (
            partition by tagged_sessions.day, tagged_sessions.signal, tagged_sessions.viewer
            order by tagged_sessions.first_seen, tagged_sessions.channel_id
        ) as session_rank
    from tagged_sessions
    cross join params
    where tagged_sessions.session_count > params.contribution_bound

),

counted_sessions as (

    select tagged_sessions.day, tagged_sessions.signal, tagged_sessions.minutes
    from tagged_sessions
    cross join params
    where tagged_sessions.session_count <= params.contribution_bound

    union all

    select ranked_sessions.day, ranked_sessions.signal, ranked_sessions.minutes
    from ranked_sessions
    cross join params
    where ranked_sessions.session_rank <= params.contribution_bound

),

week_days as (

    select today.day, member.day as member_day
    from days as today
    inner join days as member
        on
            member.day_number <= today.day_number
            and member.day_number > today.day_number - 7
    where today.day in (select day from run_days)

),

viewer_days as (

    select distinct day, signal, viewer from people

),

week_activity as (

    select
        week_days.day,
        viewer_days.signal,
        viewer_days.viewer,
        count(*) as days_active
    from viewer_days
    inner join week_days on viewer_days.day = week_days.member_day
    group by week_days.day, viewer_days.signal, viewer_days.viewer

),

distributions as (

    select
        per_viewer.day,
        per_viewer.signal,
        'sessions_per_viewer' as metric,
        'people' as unit,
        count_buckets.bucket,
        count_buckets.bucket_min,
        count_buckets.bucket_max,
        count(*) as n
    from per_viewer
    inner join count_buckets
        on
            per_viewer.session_count >= count_buckets.bucket_min
            and (
                count_buckets.bucket_max is null
                or per_viewer.session_count <= count_buckets.bucket_max
            )
    group by
        per_viewer.day,
        per_viewer.signal,
        count_buckets.bucket,
        count_buckets.bucket_min,
        count_buckets.bucket_max

    union all

    select
        per_viewer.day,
        per_viewer.signal,
        'channels_per_viewer' as metric,
        'people' as unit,
        count_buckets.bucket,
        count_buckets.bucket_min,
        count_buckets.bucket_max,
        count(*) as n
    from per_viewer
    inner join count_buckets
        on
            per_viewer.channel_count >= count_buckets.bucket_min
            and (
                count_buckets.bucket_max is null
                or per_viewer.channel_count <= count_buckets.bucket_max
            )
    group by
        per_viewer.day,
        per_viewer.signal,
        count_buckets.bucket,
        count_buckets.bucket_min,
        count_buckets.bucket_max

    union all

    select
        counted_sessions.day,
        counted_sessions.signal,
        'session_minutes' as metric,
        'sessions' as unit,
        minute_buckets.bucket,
        minute_buckets.bucket_min,
        minute_buckets.bucket_max,
        count(*) as n
    from counted_sessions
    inner join minute_buckets
        on
            counted_sessions.minutes >= minute_buckets.bucket_min
            and (
                minute_buckets.bucket_max is null
                or counted_sessions.minutes <= minute_buckets.bucket_max
            )
    group by
        counted_sessions.day,
        counted_sessions.signal,
        minute_buckets.bucket,
        minute_buckets.bucket_min,
        minute_buckets.bucket_max

    union all

    select
        day,
        signal,
        'days_active_per_week' as metric,
        'people' as unit,
        days_active as bucket,
        days_active as bucket_min,
        days_active as bucket_max,
        count(*) as n
    from week_activity
    group by day, signal, days_active

),

active_days as (

    select * from (
        values (1), (2), (3), (4), (5), (6), (7)
    ) as active_days (days_active)

),

groups as (

    select distinct day, signal, metric, unit from distributions

),

bucket_grid as (

    select
        groups.day,
        groups.signal,
        groups.metric,
        groups.unit,
        count_buckets.bucket,
        count_buckets.bucket_min,
        count_buckets.bucket_max
    from groups
    cross join count_buckets
    where groups.metric in ('sessions_per_viewer', 'channels_per_viewer')

    union all

    select
        groups.day,
        groups.signal,
        groups.metric,
        groups.unit,
        minute_buckets.bucket,
        minute_buckets.bucket_min,
        minute_buckets.bucket_max
    from groups
    cross join minute_buckets
    where groups.metric = 'session_minutes'

    union all

    select
        groups.day,
        groups.signal,
        groups.metric,
        groups.unit,
        active_days.days_active as bucket,
        active_days.days_active as bucket_min,
        active_days.days_active as bucket_max
    from groups
    cross join active_days
    where groups.metric = 'days_active_per_week'

),

published_distributions as (

    select
        bucket_grid.day,
        bucket_grid.signal,
        bucket_grid.metric,
        bucket_grid.unit,
        bucket_grid.bucket,
        bucket_grid.bucket_min,
        bucket_grid.bucket_max,
        coalesce(distributions.n, 0) as n,
        cast(null as double) as share,
        cast(null as bigint) as raw_people
    from bucket_grid
    left join distributions
        on
            bucket_grid.day = distributions.day
            and bucket_grid.signal = distributions.signal
            and bucket_grid.metric = distributions.metric
            and bucket_grid.bucket = distributions.bucket

),

hour_grid as (

    select
        day_people.day,
        day_people.signal,
        (days.isodow - 1) * 24 + hours.hour as bucket,
        day_people.people
    from day_people
    inner join days on day_people.day = days.day
    cross join hours

),

published_hours as (

    select
        hour_grid.day,
        hour_grid.signal,
        'hour_of_week' as metric,
        'people' as unit,
        hour_grid.bucket,
        hour_grid.bucket as bucket_min,
        hour_grid.bucket as bucket_max,
        coalesce(hour_counts.n, 0) as n,
        cast(null as double) as share,
        hour_grid.people as raw_people
    from hour_grid
    left join hour_counts
        on
            hour_grid.day = hour_counts.day
            and hour_grid.signal = hour_counts.signal
            and hour_grid.bucket = hour_counts.bucket

),

combined as (

    select * from published_distributions
    union all
    select * from published_hours

),

final as (

    select
        day,
        signal,
        metric,
        unit,
        cast(bucket as integer) as bucket,
        cast(bucket_min as integer) as bucket_min,
        cast(bucket_max as integer) as bucket_max,
        cast(n as integer) as value,
        round(share, 6) as share,
        cast(raw_people as bigint) as raw_people
    from combined

)

select * from final
