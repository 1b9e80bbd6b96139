-- model: audience_overlap
-- inputs: viewing_sessions, stg_streams, curated_files, calendar, run_days, run_params
-- output: table audience_overlap (serving)
-- grain: one row per period, signal and channel pair (day, window_days, signal, channel_a,
--   channel_b) with channel_a < channel_b; window_days = 1 is the day itself, 7 the rolling
--   week ending on it. signal: 'chat_list' (people in both chat lists: only over the
--   channels whose chat list is read) or 'chat_activity' (people who posted in both chats:
--   the whole community)
-- units: shared_chatters (people seen in both chats in the period; pairs under k are not
--   published, P3); chatters_a, chatters_b (people in each chat in the period);
--   share_a, share_b (shared / each side, 0..1); jaccard (shared / union, 0..1).
--   People: accounts that are neither known bots nor in bot_min_chats chats at one snapshot.
--   days_covered (days of the period with presence kept: under window_days, e.g. before
--   collection began or past retention, the figures rest on fewer days); complete
--   (days_covered = window_days)
-- materialized: incremental

with sessions as (

    select * from viewing_sessions

),

streams as (

    select * from stg_streams

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

windows as (

    select today.day, 1 as window_days, today.day as member_day
    from days as today
    where today.day in (select day from run_days)

    union all

    select today.day, 7 as window_days, member.day as member_day
    from days as today
    inner join days as member
        on
            member.day_number <= today.day_number
            and member.day_number > today.day_number - 7
    where today.day in (select day from run_days)

),

people as (

    select distinct
        windows.day,
        windows.window_days,
        sessions.signal,
        sessions.channel_id,
        sessions.viewer
    from sessions
    inner join windows on sessions.day = windows.member_day
    cross join params
    where not sessions.is_known_bot and sessions.peak_chats < params.bot_min_chats

),

coverage as (

    select windows.day, windows.window_days, count(presence_days.day) as days_covered
    from windows
    left join presence_days on windows.member_day = presence_days.day
    group by windows.day, windows.window_days

),

channel_sizes as (

    select day, window_days, signal, channel_id, count(*) as chatters
    from people
    group by day, window_days, signal, channel_id

),

pairs as (

    select
        side_a.day,
        side_a.window_days,
        side_a.signal,
        side_a.channel_id as channel_a,
        side_b.channel_id as channel_b,
        count(*) as shared_chatters
    from people as side_a
    inner join people as side_b
        on
            side_a.day = side_b.day
            and side_a.window_days = side_b.window_days
            and side_a.signal = side_b.signal
            and side_a.viewer = side_b.viewer
            and side_a.channel_id < side_b.channel_id
    group by side_a.day, side_a.window_days, side_a.signal, side_a.channel_id, side_b.channel_id

),

published_pairs as (

    select pairs.*
    from pairs
    cross join params
    where pairs.shared_chatters >= params.k

),

ranked_names as (

    select
        windows.day,
        windows.window_days,
        streams.channel_id,
        streams.channel_login,
        row_number() over (
            partition by windows.day, windows.window_days, streams.channel_id
            order by streams.slot desc
        ) as recency
    from streams
    inner join windows on streams.day = windows.member_day

),

names as (

    select * from ranked_names where recency = 1

),

final as (

    select
        published_pairs.day,
        published_pairs.window_days,
        published_pairs.signal,
        published_pairs.channel_a,
        names_a.channel_login as channel_login_a,
        published_pairs.channel_b,
        names_b.channel_login as channel_login_b,
        cast(published_pairs.shared_chatters as integer) as shared_chatters,
        cast(sizes_a.chatters as integer) as chatters_a,
        cast(sizes_b.chatters as integer) as chatters_b,
        round(cast(published_pairs.shared_chatters as double) / sizes_a.chatters, 6) as share_a,
        round(cast(published_pairs.shared_chatters as double) / sizes_b.chatters, 6) as share_b,
        round(
            cast(published_pairs.shared_chatters as double)
            / (sizes_a.chatters + sizes_b.chatters - published_pairs.shared_chatters),
            6
        ) as jaccard,
        cast(coverage.days_covered as integer) as days_covered,
        coverage.days_covered = published_pairs.window_days as complete
    from published_pairs
    inner join coverage
        on
            published_pairs.day = coverage.day
            and published_pairs.window_days = coverage.window_days
    inner join channel_sizes as sizes_a
        on
            published_pairs.day = sizes_a.day
            and published_pairs.window_days = sizes_a.window_days
            and published_pairs.signal = sizes_a.signal
            and published_pairs.channel_a = sizes_a.channel_id
    inner join channel_sizes as sizes_b
        on
            published_pairs.day = sizes_b.day
            and published_pairs.window_days = sizes_b.window_days
            and published_pairs.signal = sizes_b.signal
            and published_pairs.channel_b = sizes_b.channel_id
    left join names as names_a
        on
            published_pairs.day = names_a.day
            and published_pairs.window_days = names_a.window_days
            and published_pairs.channel_a = names_a.channel_id
    left join names as names_b
        on
            published_pairs.day = names_b.day
            and published_pairs.window_days = names_b.window_days
            and published_pairs.channel_b = names_b.channel_id

)

select * from final
