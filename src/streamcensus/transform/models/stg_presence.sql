-- model: stg_presence
-- inputs: raw_chatters (presence observations of the run's days, read from lake/raw/chatters)
-- output: temporary view stg_presence (pseudonymous: never published, never persisted)
-- grain: one row per snapshot, channel and viewer pseudonym (a presence observation)
-- units: slot (5-minute grid index since 1970-01-01, integer)
-- materialized: view

with source as (

    select * from raw_chatters

),

final as (

    select
        day,
        slot,
        snapshot_id,
        snapshot_ts,
        channel_id,
        viewer,
        is_bot as is_known_bot
    from source

)

select * from final
