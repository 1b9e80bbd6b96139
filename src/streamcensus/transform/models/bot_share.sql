-- model: bot_share
-- inputs: viewing_sessions, bounded_sessions, int_bots, run_days, run_params
-- output: table bot_share (serving)
-- grain: one row per channel, UTC day and signal (day, channel_id, signal), for chats of at
--   least k people (noisy, bots excluded) in that signal ('chat_list': accounts in the chat
--   list; 'chat_activity': accounts that posted)
-- units: people (bounded_sessions: accounts that are not bots, each counted in at most
--   contribution_bound chats per day and signal: the same figure as
--   channel_day_presence.unique_chatters); known_bots (accounts flagged as public
--   service bots, P6); multi_chat_accounts (other accounts seen in at least bot_min_chats
--   chats at one snapshot on a day of int_bots' rolling 7-day window); chatters (people + bots);
--   bot_share (bots / chatters, 0..1). Published values are noisy (transform/protect.py):
--   this query gives exact counts, and chatters and bot_share are computed from the noisy
--   counts after it (null here)
-- materialized: incremental

with sessions as (

    select * from viewing_sessions
    where day in (select day from run_days)

),

params as (

    select * from run_params

),

bots as (

    select * from int_bots
    where is_bot and day in (select day from run_days)

),

people as (

    select * from bounded_sessions
    where day in (select day from run_days)

),

people_counts as (

    select people.day, people.signal, people.channel_id, count(distinct people.viewer) as people
    from people
    group by people.day, people.signal, people.channel_id

),

chats as (

    select distinct day, signal, channel_id from sessions

),

accounts as (

    select
        sessions.day,
        sessions.signal,
        sessions.channel_id,
        sessions.viewer,
        max(case when bots.is_known_bot then 1 else 0 end) as known_bot,
        max(case when bots.is_bot and not bots.is_known_bot then 1 else 0 end) as multi_chat
    from sessions
    inner join bots on sessions.day = bots.day and sessions.viewer = bots.viewer
    group by sessions.day, sessions.signal, sessions.channel_id, sessions.viewer

),

bot_counts as (

    select
        day,
        signal,
        channel_id,
        sum(known_bot) as known_bots,
        sum(multi_chat) as multi_chat_accounts
    from accounts
    group by day, signal, channel_id

),

counts as (

    select
        chats.day,
        chats.signal,
        chats.channel_id,
        coalesce(bot_counts.known_bots, 0) as known_bots,
        coalesce(bot_counts.multi_chat_accounts, 0) as multi_chat_accounts
    from chats
    left join bot_counts
        on
            chats.day = bot_counts.day
            and chats.signal = bot_counts.signal
            and chats.channel_id = bot_counts.channel_id

),

final as (

    select
        counts.day,
        counts.channel_id,
        counts.signal,
        cast(null as integer) as chatters,
        cast(coalesce(people_counts.people, 0) as integer) as people,
        cast(counts.known_bots as integer) as known_bots,
        cast(counts.multi_chat_accounts as integer) as multi_chat_accounts,
        cast(null as double) as bot_share,
        params.bot_min_chats
    from counts
    left join people_counts
        on
            counts.day = people_counts.day
            and counts.signal = people_counts.signal
            and counts.channel_id = people_counts.channel_id
    cross join params

)

select * from final
