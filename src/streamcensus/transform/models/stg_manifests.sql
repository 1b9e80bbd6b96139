-- model: stg_manifests
-- inputs: raw_manifests (snapshot manifests loaded from lake/raw/manifest)
-- output: temporary view stg_manifests
-- grain: one row per snapshot (snapshot_id)
-- units: duration_seconds, rate_limit_wait_seconds (seconds); counters (requests, events);
--   chat_list_grounds_json, chat_list_readers_json: the manifest's containers as JSON text
--   (read by the Python models chat_list_grounds and chat_list_readers)
-- materialized: view

with source as (

    select * from raw_manifests

),

final as (

    select
        day,
        slot,
        snapshot_id,
        grid_time,
        started_at,
        ended_at,
        duration_seconds,
        status,
        channels_listed,
        channels_tracked,
        channels_with_chatters,
        channels_forbidden,
        channels_failed,
        channels_offline,
        coalesce(presence_observations, 0) as presence_observations,
        coalesce(optout_dropped, 0) as optout_dropped,
        coalesce(requests, 0) as requests,
        coalesce(retries, 0) as retries,
        coalesce(rate_limit_waits, 0) as rate_limit_waits,
        coalesce(rate_limit_wait_seconds, 0) as rate_limit_wait_seconds,
        coalesce(http_429, 0) as http_429,
        coalesce(errors_total, 0) as errors_total,
        coalesce(missing_count, 0) as missing_count,
        key_id,
        chat_list_grounds_json,
        chat_list_readers_json,
        coalesce(followers_status, '') as followers_status,
        coalesce(followers_channels, 0) as followers_channels,
        collector_version
    from source

)

select * from final
