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
-- plan: pairs start from each person's chats (at most contribution_bound per period), a
--   self-join on the person, so the work grows with people x bound^2, never with
--   channels^2. A person's chats of a day are made distinct once (never the sessions
--   again): a day's period takes them as they are (bounded_sessions keeps at most
--   contribution_bound), a week re-ranks by the same draw the chats of the people who
--   hold more than contribution_bound in it (the others keep all theirs). The steps are
--   materialised in order, so every join after the self-join has one small side (a
--   period's chats) and the optimizer cannot join two channel tables first.
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

windows as materialized (

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

day_chats as materialized (

    -- a person's chats of a day (her first contribution_bound, as bounded_sessions keeps);
    -- the draw is one per chat and person (grouped on the keys alone, it is carried along)
    select
        sessions.day,
        sessions.signal,
        sessions.viewer,
        sessions.channel_id,
        min(sessions.contribution_draw) as contribution_draw
    from sessions
    where sessions.day in (select member_day from windows)
    group by sessions.day, sessions.signal, sessions.viewer, sessions.channel_id

),

week_chats as materialized (

    select
        windows.day,
        windows.window_days,
        day_chats.signal,
        day_chats.channel_id,
        day_chats.viewer,
        min(day_chats.contribution_draw) as contribution_draw
    from day_chats
    inner join windows on day_chats.day = windows.member_day
    where windows.window_days > 1
    group by
        windows.day,
        windows.window_days,
        day_chats.signal,
        day_chats.channel_id,
        day_chats.viewer

),

crowded_weeks as materialized (

    -- the people in more chats of a week than the bound: only theirs are re-ranked
    select week_chats.day, week_chats.window_days, week_chats.signal, week_chats.viewer
    from week_chats
    cross join params
    group by
        week_chats.day,
        week_chats.window_days,
        week_chats.signal,
        week_chats.viewer,
        params.contribution_bound
    having count(*) > params.contribution_bound

),

ranked_week_chats as (

    select
        week_chats.*,
        row_number() over (
            partition by
                week_chats.day,
                week_chats.window_days,
                week_chats.signal,
                week_chats.viewer
            order by week_chats.contribution_draw, week_chats.channel_id
        ) as window_rank
    from week_chats
    where exists (
        select 1 from crowded_weeks
        where
            crowded_weeks.day = week_chats.day
            and crowded_weeks.window_days = week_chats.window_days
            and crowded_weeks.signal = week_chats.signal
            and crowded_weeks.viewer = week_chats.viewer
    )

    union all

    -- within the bound: all her chats of the week count (rank 1 stands for that)
    select
        week_chats.*,
        1 as window_rank
    from week_chats
    where not exists (
        select 1 from crowded_weeks
        where
            crowded_weeks.day = week_chats.day
            and crowded_weeks.window_days = week_chats.window_days
            and crowded_weeks.signal = week_chats.signal
            and crowded_weeks.viewer = week_chats.viewer
    )

),

people as materialized (

    -- a day: her chats of the day, already at most contribution_bound
    select
        windows.day,
        windows.window_days,
        day_chats.signal,
        day_chats.channel_id,
        day_chats.viewer
    from day_chats
    inner join windows on day_chats.day = windows.member_day
    where windows.window_days = 1

    union all

    -- a week: her first contribution_bound chats of the week, by the same draw
    select
        ranked_week_chats.day,
        ranked_week_chats.window_days,
        ranked_week_chats.signal,
        ranked_week_chats.channel_id,
        ranked_week_chats.viewer
    from ranked_week_chats
    cross join params
    where ranked_week_chats.window_rank <= params.contribution_bound

),

coverage as materialized (

    select windows.day, windows.window_days, count(presence_days.day) as days_covered
    from windows
    left join presence_days on windows.member_day = presence_days.day
    group by windows.day, windows.window_days

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

names as materialized (

    select day, window_days, channel_id, channel_login from ranked_names where recency = 1

),

channels as materialized (

    -- a period's chats: people and login (one small row per chat)
    select
        sizes.day,
        sizes.window_days,
        sizes.signal,
        sizes.channel_id,
        sizes.chatters,
        names.channel_login
    from (
        select day, window_days, signal, channel_id, count(*) as chatters
        from people
        group by day, window_days, signal, channel_id
    ) as sizes
    left join names
        on
            sizes.day = names.day
            and sizes.window_days = names.window_days
            and sizes.channel_id = names.channel_id

),

pairs as materialized (

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

pairs_a as materialized (

    select
        pairs.*,
        channels.chatters as chatters_a,
        channels.channel_login as channel_login_a
    from pairs
    inner join channels
        on
            pairs.day = channels.day
            and pairs.window_days = channels.window_days
            and pairs.signal = channels.signal
            and pairs.channel_a = channels.channel_id

),

pairs_ab as materialized (

    select
        pairs_a.*,
        channels.chatters as chatters_b,
        channels.channel_login as channel_login_b
    from pairs_a
    inner join channels
        on
            pairs_a.day = channels.day
            and pairs_a.window_days = channels.window_days
            and pairs_a.signal = channels.signal
            and pairs_a.channel_b = channels.channel_id

),

final as (

    select
        pairs_ab.day,
        pairs_ab.window_days,
        pairs_ab.signal,
        pairs_ab.channel_a,
        pairs_ab.channel_login_a,
        pairs_ab.channel_b,
        pairs_ab.channel_login_b,
        cast(pairs_ab.shared_chatters as integer) as shared_chatters,
        cast(pairs_ab.chatters_a as integer) as chatters_a,
        cast(pairs_ab.chatters_b as integer) as chatters_b,
        cast(null as double) as share_a,
        cast(null as double) as share_b,
        cast(null as double) as jaccard,
        cast(coverage.days_covered as integer) as days_covered,
        coverage.days_covered = pairs_ab.window_days as complete
    from pairs_ab
    inner join coverage
        on
            pairs_ab.day = coverage.day
            and pairs_ab.window_days = coverage.window_days

)

select * from final
