-- model: bot_share
-- inputs: viewing_sessions, run_days, run_params
-- output: table bot_share (serving)
-- grain: one row per channel, UTC day and signal (day, channel_id, signal), for chats of at
--   least k accounts in that signal ('chat_list': accounts in the chat list;
--   'chat_activity': accounts that posted)
-- units: chatters (distinct accounts in the chat that day); known_bots (accounts flagged as
--   public service bots, P6); multi_chat_accounts (other accounts seen in at least
--   bot_min_chats chats at one snapshot that day, in the same signal); bot_share
--   (bots / chatters, 0..1)
-- materialized: incremental

with sessions as (

    select * from viewing_sessions
    where day in (select day from run_days)

),

params as (

    select * from run_params

),

accounts as (

    select
        sessions.day,
        sessions.signal,
        sessions.channel_id,
        sessions.viewer,
        max(case when sessions.is_known_bot then 1 else 0 end) as known_bot,
        max(
            case
                when not sessions.is_known_bot and sessions.peak_chats >= params.bot_min_chats
                    then 1
                else 0
            end
        ) as multi_chat
    from sessions
    cross join params
    group by sessions.day, sessions.signal, sessions.channel_id, sessions.viewer

),

counts as (

    select
        day,
        signal,
        channel_id,
        count(*) as chatters,
        sum(known_bot) as known_bots,
        sum(multi_chat) as multi_chat_accounts
    from accounts
    group by day, signal, channel_id

),

final as (

    select
        counts.day,
        counts.channel_id,
        counts.signal,
        cast(counts.chatters as integer) as chatters,
        cast(counts.known_bots as integer) as known_bots,
        cast(counts.multi_chat_accounts as integer) as multi_chat_accounts,
        round(cast(counts.known_bots + counts.multi_chat_accounts as double) / counts.chatters, 4)
            as bot_share,
        params.bot_min_chats
    from counts
    cross join params
    where counts.chatters >= params.k

)

select * from final
