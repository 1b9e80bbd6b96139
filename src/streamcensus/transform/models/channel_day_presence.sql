-- model: channel_day_presence
-- inputs: int_snapshot_channels, bounded_sessions, bot_share, curated_files, calendar,
--   run_days, run_params
-- output: table channel_day_presence (serving)
-- grain: one row per channel, UTC day and signal (day, channel_id, signal) where that signal
--   was read or tried at least once. signal: 'chat_list' (people in the chat list, lurkers
--   included: only channels whose chat list may be read) or 'chat_activity' (people who
--   posted in a 5-minute window: every joined channel)
-- units: snapshots_read (snapshots, or windows, whose presence was read);
--   snapshots_missed (tried and not obtained in full: chat list failed or its file not
--   loaded; activity window partial, not joined or its file not loaded; the people counts
--   are then low); unique_chatters (distinct people that day: bounded_sessions,
--   bots excluded, each person counted in at most contribution_bound chats per day and
--   signal); avg_chatters (those people per snapshot read: their observations / snapshots
--   read); chatters_per_viewer (avg_chatters / viewers per snapshot read);
--   returning_chatters (those people also seen in this chat in the same signal on one of
--   the lookback_days previous days, where it was one of their contribution_bound chats);
--   returning_days_covered (previous days of the lookback
--   with presence still kept); bot_share (0..1, from bot_share); complete (no snapshot
--   of the signal missed).
--   People counts are published noisy and null under k (transform/protect.py): this query
--   gives them exact, chatters_per_viewer is computed from the noisy average after it, and
--   raw_viewers_per_snapshot (its denominator) is dropped there
-- materialized: incremental

with snapshots as (

    select * from int_snapshot_channels
    where day in (select day from run_days)

),

sessions as (

    select * from bounded_sessions

),

bots as (

    select * from bot_share
    where day in (select day from run_days)

),

days as (

    select * from calendar

),

params as (

    select * from run_params

),

presence_days as (

    select distinct day from curated_files
    where model = 'viewing_sessions' and not retired

),

reads as (

    select
        day,
        channel_id,
        signal,
        sum(case when presence_read then 1 else 0 end) as snapshots_read,
        sum(case when presence_missed then 1 else 0 end) as snapshots_missed,
        sum(case when presence_read then viewer_count else 0 end) as viewer_sum_read
    from snapshots
    group by day, channel_id, signal

),

tried as (

    select * from reads
    where snapshots_read > 0 or snapshots_missed > 0

),

counted as (

    select * from sessions

),

people_today as (

    select
        counted.day,
        counted.signal,
        counted.channel_id,
        counted.viewer,
        sum(counted.observations) as observations
    from counted
    where counted.day in (select day from run_days)
    group by counted.day, counted.signal, counted.channel_id, counted.viewer

),

chatter_counts as (

    select
        day,
        signal,
        channel_id,
        count(*) as unique_chatters,
        sum(observations) as person_snapshots
    from people_today
    group by day, signal, channel_id

),

lookback as (

    select today.day, seen_day.day as seen_day
    from days as today
    inner join days as seen_day
        on seen_day.day_number < today.day_number
    cross join params
    where
        today.day in (select day from run_days)
        and seen_day.day_number >= today.day_number - params.lookback_days

),

people_before as (

    select distinct
        lookback.day,
        counted.signal,
        counted.channel_id,
        counted.viewer
    from counted
    inner join lookback on counted.day = lookback.seen_day

),

lookback_coverage as (

    select lookback.day, count(presence_days.day) as days_covered
    from lookback
    left join presence_days on lookback.seen_day = presence_days.day
    group by lookback.day

),

returning_counts as (

    select
        people_today.day,
        people_today.signal,
        people_today.channel_id,
        count(*) as returning_chatters
    from people_today
    inner join people_before
        on
            people_today.day = people_before.day
            and people_today.signal = people_before.signal
            and people_today.channel_id = people_before.channel_id
            and people_today.viewer = people_before.viewer
    group by people_today.day, people_today.signal, people_today.channel_id

),

final as (

    select
        tried.day,
        tried.channel_id,
        tried.signal,
        cast(tried.snapshots_read as integer) as snapshots_read,
        cast(tried.snapshots_missed as integer) as snapshots_missed,
        case
            when tried.snapshots_read > 0
                then cast(coalesce(chatter_counts.unique_chatters, 0) as integer)
        end as unique_chatters,
        case
            when tried.snapshots_read > 0
                then cast(coalesce(chatter_counts.person_snapshots, 0) as double)
                / tried.snapshots_read
        end as avg_chatters,
        cast(null as double) as chatters_per_viewer,
        case
            when tried.snapshots_read > 0
                then cast(coalesce(returning_counts.returning_chatters, 0) as integer)
        end as returning_chatters,
        cast(coalesce(lookback_coverage.days_covered, 0) as integer) as returning_days_covered,
        bots.bot_share,
        tried.snapshots_missed = 0 as complete,
        case
            when tried.snapshots_read > 0
                then cast(tried.viewer_sum_read as double) / tried.snapshots_read
        end as raw_viewers_per_snapshot
    from tried
    left join chatter_counts
        on
            tried.day = chatter_counts.day
            and tried.signal = chatter_counts.signal
            and tried.channel_id = chatter_counts.channel_id
    left join returning_counts
        on
            tried.day = returning_counts.day
            and tried.signal = returning_counts.signal
            and tried.channel_id = returning_counts.channel_id
    left join bots
        on
            tried.day = bots.day
            and tried.signal = bots.signal
            and tried.channel_id = bots.channel_id
    left join lookback_coverage on tried.day = lookback_coverage.day
    cross join params

)

select * from final
