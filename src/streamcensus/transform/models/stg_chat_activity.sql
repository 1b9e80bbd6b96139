-- model: stg_chat_activity
-- inputs: raw_chat_activity (who posted in each 5-minute window, read from
--   lake/raw/chat_activity; pseudonymous: never published, never persisted)
-- output: temporary view stg_chat_activity
-- grain: one row per window, channel and poster pseudonym (an activity observation); the
--   window is [snapshot_ts - 5 minutes, snapshot_ts), so its slot is the one of its end,
--   the grid time of the snapshot it belongs to
-- units: slot (5-minute grid index since 1970-01-01, integer); messages (chat messages
--   the account posted in the window)
-- materialized: view

with source as (

    select * from raw_chat_activity

),

final as (

    select
        day,
        slot,
        snapshot_id,
        snapshot_ts,
        channel_id,
        viewer,
        is_bot as is_known_bot,
        messages
    from source

)

select * from final
