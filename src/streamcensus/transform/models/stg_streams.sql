-- model: stg_streams
-- inputs: raw_streams (stream facts loaded from lake/raw/streams), loaded_files
-- chatters_status 'ok' becomes 'missing' when the snapshot's chatters file was not loaded
--   (quarantined, or lost with a killed collector): its chats were read but are unknown
-- output: temporary view stg_streams
-- grain: one row per snapshot and live channel (snapshot_id, channel_id)
-- units: viewer_count (viewers, as Helix reports them); slot (5-minute grid index since
--   1970-01-01, integer); snapshot_epoch, started_epoch (seconds since 1970-01-01 UTC)
-- materialized: view

with source as (

    select * from raw_streams

),

chatters_loaded as (

    select distinct snapshot_id from loaded_files
    where kind = 'chatters'

),

final as (

    select
        day,
        slot,
        snapshot_id,
        snapshot_ts,
        snapshot_epoch,
        channel_id,
        channel_login,
        channel_name,
        stream_id,
        language,
        game_id,
        game_name,
        title,
        viewer_count,
        started_at,
        started_epoch,
        is_mature,
        rank,
        tracked,
        case
            when
                source.chatters_status = 'ok'
                and source.snapshot_id not in (select snapshot_id from chatters_loaded)
                then 'missing'
            else source.chatters_status
        end as chatters_status,
        chatters_total
    from source

)

select * from final
