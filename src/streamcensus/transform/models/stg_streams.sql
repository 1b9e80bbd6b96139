-- model: stg_streams
-- inputs: raw_streams (stream facts loaded from lake/raw/streams)
-- output: temporary view stg_streams
-- grain: one row per snapshot and live channel (snapshot_id, channel_id)
-- units: viewer_count (viewers, as Helix reports them); slot (5-minute grid index since
--   1970-01-01, integer); snapshot_epoch, started_epoch (seconds since 1970-01-01 UTC)
-- materialized: view

with source as (

    select * from raw_streams

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
        chatters_status,
        chatters_total
    from source

)

select * from final
