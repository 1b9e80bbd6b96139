-- model: int_presence_channels
-- inputs: stg_presence, run_params
-- output: temporary table int_presence_channels (internal, the run's days only): per-chat
--   counts, computed by the loader's presence pass when it ran (transform/presence.py)
-- grain: one row per signal, snapshot and channel with presence (signal, slot, channel_id)
-- units: chatters, known_bot_chatters, multi_chat_chatters (accounts in the chat list, or
--   that posted in the window, per signal; multi-chat: not a known bot, in at least
--   bot_min_chats chats at that snapshot in the same signal)
-- Presence is unique per snapshot, channel and viewer (the collector drops duplicates).
-- materialized: temp

with presence as (

    select * from stg_presence

),

params as (

    select * from run_params

),

viewer_chats as (

    select signal, slot, viewer, count(*) as chats
    from presence
    group by signal, slot, viewer

),

flagged as (

    select
        presence.day,
        presence.signal,
        presence.slot,
        presence.channel_id,
        presence.is_known_bot,
        viewer_chats.chats
    from presence
    inner join viewer_chats
        on
            presence.signal = viewer_chats.signal
            and presence.slot = viewer_chats.slot
            and presence.viewer = viewer_chats.viewer

),

final as (

    select
        flagged.day,
        flagged.signal,
        flagged.slot,
        flagged.channel_id,
        cast(count(*) as bigint) as chatters,
        cast(sum(case when flagged.is_known_bot then 1 else 0 end) as bigint)
            as known_bot_chatters,
        cast(
            sum(
                case
                    when not flagged.is_known_bot and flagged.chats >= params.bot_min_chats
                        then 1
                    else 0
                end
            ) as bigint
        ) as multi_chat_chatters
    from flagged
    cross join params
    group by flagged.day, flagged.signal, flagged.slot, flagged.channel_id

)

select * from final
