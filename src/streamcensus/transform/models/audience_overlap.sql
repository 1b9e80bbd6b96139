-- model: audience_overlap
-- inputs: bounded_sessions, stg_streams, curated_files, calendar, run_days, run_params
-- output: table audience_overlap (serving)
-- grain: one row per period, signal and channel pair (day, window_days, signal, channel_a,
--   channel_b) with channel_a < channel_b; window_days = 1 is the day itself, 7 the rolling
--   week ending on it. signal: 'chat_list' (people in both chat lists: only over the
--   channels whose chat list is read) or 'chat_activity' (people who posted in both chats:
--   the whole community)
-- units: shared_chatters (people seen in both chats in the period); chatters_a, chatters_b
--   (people in each chat in the period); share_a, share_b (shared / each side, 0..1);
--   jaccard (shared / union, 0..1). The people counts are published noisy, pairs whose
--   noisy shared count or either side is under k are dropped, and the shares and Jaccard
--   are computed from the noisy counts (transform/protect.py): this query gives exact
--   counts for every pair sharing anyone, and null shares.
--   People: bounded_sessions (accounts int_bots does not flag), each person counted in at
--   most contribution_bound chats of the period (per signal): the first of her chats by
--   contribution_draw, so a 1-day period holds the same people as channel_day_presence
--   and a 7-day one the first chats of the week's people.
--   days_covered (days of the period with presence kept: under window_days, e.g. before
--   collection began or past retention, the figures rest on fewer days); complete
--   (days_covered = window_days)
-- materialized: incremental

with sessions as (

    select * from bounded_sessions

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

window_chats as (

    select distinct
        windows.day,
        windows.window_days,
        sessions.signal,
        sessions.channel_id,
        sessions.viewer,
        sessions.contribution_draw
    from sessions
    inner join windows on sessions.day = windows.member_day

),

ranked_chats as (

    select
        window_chats.*,
        row_number() over (
            partition by
                window_chats.day,
                window_chats.window_days,
                window_chats.signal,
                window_chats.viewer
            order by window_chats.contribution_draw, window_chats.channel_id
        ) as window_rank
    from window_chats

),

people as (

    select
        ranked_chats.day,
        ranked_chats.window_days,
        ranked_chats.signal,
        ranked_chats.channel_id,
        ranked_chats.viewer
    from ranked_chats
    cross join params
    where ranked_chats.window_rank <= params.contribution_bound

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

    select * from pairs

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
        cast(null as double) as share_a,
        cast(null as double) as share_b,
        cast(null as double) as jaccard,
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
