-- model: stg_presence
-- inputs: raw_chatters (chat lists: presence observations of the run's days, read from
--   lake/raw/chatters), stg_chat_activity (who posted, per 5-minute window)
-- output: temporary view stg_presence (pseudonymous: never published, never persisted)
-- grain: one row per signal, snapshot, channel and viewer pseudonym (a presence
--   observation). signal: 'chat_list' (the account was in the chat list at the snapshot:
--   lurkers included, only for channels whose chat list may be read) or 'chat_activity'
--   (the account posted in the window ending at the snapshot: every joined channel)
-- units: slot (5-minute grid index since 1970-01-01, integer)
-- materialized: view

with chat_list as (

    select * from raw_chatters

),

chat_activity as (

    select * from stg_chat_activity

),

final as (

    select
        day,
        'chat_list' as signal,
        slot,
        snapshot_id,
        snapshot_ts,
        channel_id,
        viewer,
        is_bot as is_known_bot
    from chat_list

    union all

    select
        day,
        'chat_activity' as signal,
        slot,
        snapshot_id,
        snapshot_ts,
        channel_id,
        viewer,
        is_known_bot
    from chat_activity

)

select * from final
