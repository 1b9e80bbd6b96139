-- model: pipeline_health
-- inputs: stg_manifests, stg_chat_coverage, chat_list_readers, loaded_days, loaded_files,
--   orphaned_files, quarantined_files, curated_files, run_days, run_params
-- output: table pipeline_health (serving)
-- grain: one row per loaded UTC day (day); the run's days are rebuilt, retention marks
--   older days presence_retired itself
-- units: snapshots_* (snapshots; expected = a full day on the grid); requests, retries,
--   api_errors, http_429, rate_limit_waits (events); rate_limit_wait_seconds (seconds);
--   raw_bytes, raw_chatters_bytes, curated_bytes (bytes on disk); presence_observations
--   (rows of the loaded chatters files); *_bytes_per_observation (bytes per presence
--   observation, raw chatters files and curated viewing sessions);
--   snapshots_without_manifest (snapshots with data files but no loadable manifest: those
--   files are orphaned, not loaded); day_complete (false when the day was loaded before it
--   was over: its figures are partial);
--   chat-list readers (user tokens): chat_list_readers (tokens seen), chat_list_tokens_tripped
--   (tokens whose breaker tripped that day, see chat_list_readers for who and why),
--   chat_list_channels_affected (listed channels those tokens could then not read);
--   chat activity: activity_observations (rows of the loaded chat_activity files),
--   chat_windows (channel windows in chat_coverage), chat_windows_partial,
--   chat_windows_not_joined, chat_windows_missing (read but the activity file not loaded),
--   chat_partial_share (partial / chat_windows, 0..1), chat_channels_not_joined (channels
--   with a window never joined); follower totals: followers_readings (hourly readings due),
--   followers_readings_complete, followers_readings_partial, followers_readings_no_token,
--   followers_channels (most channels read in one reading)
-- after: viewing_sessions
-- materialized: incremental

with manifests as (

    select * from stg_manifests
    where day in (select day from run_days)

),

loaded as (

    select * from loaded_days
    where day in (select day from run_days)

),

files as (

    select * from loaded_files
    where day in (select day from run_days)

),

orphans as (

    select * from orphaned_files
    where day in (select day from run_days)

),

coverage as (

    select * from stg_chat_coverage
    where day in (select day from run_days)

),

readers as (

    select * from chat_list_readers
    where day in (select day from run_days)

),

quarantine as (

    select * from quarantined_files
    where day in (select day from run_days)

),

curated as (

    select * from curated_files
    where model = 'viewing_sessions' and day in (select day from run_days)

),

params as (

    select * from run_params

),

manifest_days as (

    select
        day,
        count(*) as snapshots,
        sum(case when status = 'complete' then 1 else 0 end) as snapshots_complete,
        sum(case when status = 'partial' then 1 else 0 end) as snapshots_partial,
        sum(requests) as requests,
        sum(retries) as retries,
        sum(errors_total) as api_errors,
        sum(http_429) as http_429,
        sum(rate_limit_waits) as rate_limit_waits,
        round(sum(rate_limit_wait_seconds), 3) as rate_limit_wait_seconds,
        sum(missing_count) as missing_items,
        sum(case when followers_status <> '' then 1 else 0 end) as followers_readings,
        sum(case when followers_status = 'complete' then 1 else 0 end)
            as followers_readings_complete,
        sum(case when followers_status = 'partial' then 1 else 0 end)
            as followers_readings_partial,
        sum(case when followers_status = 'no user token' then 1 else 0 end)
            as followers_readings_no_token,
        max(followers_channels) as followers_channels
    from manifests
    group by day

),

file_days as (

    select
        day,
        count(*) as raw_files,
        sum(bytes) as raw_bytes,
        sum(case when kind = 'chatters' then bytes else 0 end) as raw_chatters_bytes,
        sum(case when kind = 'chatters' then rows else 0 end) as presence_observations,
        sum(case when kind = 'chat_activity' then rows else 0 end) as activity_observations
    from files
    group by day

),

coverage_days as (

    select
        day,
        count(*) as chat_windows,
        sum(case when status = 'partial' then 1 else 0 end) as chat_windows_partial,
        sum(case when status = 'not_joined' then 1 else 0 end) as chat_windows_not_joined,
        sum(case when status = 'missing' then 1 else 0 end) as chat_windows_missing,
        count(distinct case when status = 'not_joined' then channel_id end)
            as chat_channels_not_joined
    from coverage
    group by day

),

reader_days as (

    select
        day,
        count(*) as chat_list_readers,
        sum(case when tripped then 1 else 0 end) as chat_list_tokens_tripped,
        sum(case when tripped then channels_affected else 0 end) as chat_list_channels_affected
    from readers
    group by day

),

orphan_days as (

    select day, count(distinct snapshot_id) as snapshots_without_manifest
    from orphans
    group by day

),

quarantine_days as (

    select day, count(*) as quarantined_files, sum(bytes) as quarantined_bytes
    from quarantine
    group by day

),

curated_days as (

    select day, sum(bytes) as curated_bytes, sum(rows) as viewing_sessions
    from curated
    group by day

),

final as (

    select
        loaded.day,
        cast(params.snapshots_per_day as integer) as snapshots_expected,
        cast(coalesce(manifest_days.snapshots, 0) as integer) as snapshots,
        cast(coalesce(manifest_days.snapshots_complete, 0) as integer) as snapshots_complete,
        cast(coalesce(manifest_days.snapshots_partial, 0) as integer) as snapshots_partial,
        cast(coalesce(orphan_days.snapshots_without_manifest, 0) as integer)
            as snapshots_without_manifest,
        cast(coalesce(manifest_days.requests, 0) as bigint) as requests,
        cast(coalesce(manifest_days.retries, 0) as bigint) as retries,
        cast(coalesce(manifest_days.api_errors, 0) as bigint) as api_errors,
        cast(coalesce(manifest_days.http_429, 0) as bigint) as http_429,
        cast(coalesce(manifest_days.rate_limit_waits, 0) as bigint) as rate_limit_waits,
        coalesce(manifest_days.rate_limit_wait_seconds, 0) as rate_limit_wait_seconds,
        cast(coalesce(manifest_days.missing_items, 0) as bigint) as missing_items,
        cast(coalesce(file_days.raw_files, 0) as integer) as raw_files,
        cast(coalesce(file_days.raw_bytes, 0) as bigint) as raw_bytes,
        cast(coalesce(file_days.raw_chatters_bytes, 0) as bigint) as raw_chatters_bytes,
        cast(coalesce(curated_days.curated_bytes, 0) as bigint) as curated_bytes,
        cast(coalesce(file_days.presence_observations, 0) as bigint) as presence_observations,
        cast(coalesce(curated_days.viewing_sessions, 0) as bigint) as viewing_sessions,
        case
            when file_days.presence_observations > 0
                then round(
                    cast(file_days.raw_chatters_bytes as double) / file_days.presence_observations, 3
                )
        end as raw_bytes_per_observation,
        case
            when file_days.presence_observations > 0
                then round(
                    cast(curated_days.curated_bytes as double) / file_days.presence_observations, 3
                )
        end as curated_bytes_per_observation,
        cast(coalesce(quarantine_days.quarantined_files, 0) as integer) as quarantined_files,
        cast(coalesce(quarantine_days.quarantined_bytes, 0) as bigint) as quarantined_bytes,
        cast(coalesce(reader_days.chat_list_readers, 0) as integer) as chat_list_readers,
        cast(coalesce(reader_days.chat_list_tokens_tripped, 0) as integer)
            as chat_list_tokens_tripped,
        cast(coalesce(reader_days.chat_list_channels_affected, 0) as integer)
            as chat_list_channels_affected,
        cast(coalesce(file_days.activity_observations, 0) as bigint) as activity_observations,
        cast(coalesce(coverage_days.chat_windows, 0) as integer) as chat_windows,
        cast(coalesce(coverage_days.chat_windows_partial, 0) as integer) as chat_windows_partial,
        cast(coalesce(coverage_days.chat_windows_not_joined, 0) as integer)
            as chat_windows_not_joined,
        cast(coalesce(coverage_days.chat_windows_missing, 0) as integer) as chat_windows_missing,
        case
            when coverage_days.chat_windows > 0
                then round(
                    cast(coverage_days.chat_windows_partial as double) / coverage_days.chat_windows,
                    4
                )
        end as chat_partial_share,
        cast(coalesce(coverage_days.chat_channels_not_joined, 0) as integer)
            as chat_channels_not_joined,
        cast(coalesce(manifest_days.followers_readings, 0) as integer) as followers_readings,
        cast(coalesce(manifest_days.followers_readings_complete, 0) as integer)
            as followers_readings_complete,
        cast(coalesce(manifest_days.followers_readings_partial, 0) as integer)
            as followers_readings_partial,
        cast(coalesce(manifest_days.followers_readings_no_token, 0) as integer)
            as followers_readings_no_token,
        cast(coalesce(manifest_days.followers_channels, 0) as integer) as followers_channels,
        loaded.presence_retired,
        coalesce(loaded.complete, true) as day_complete
    from loaded
    left join manifest_days on loaded.day = manifest_days.day
    left join file_days on loaded.day = file_days.day
    left join orphan_days on loaded.day = orphan_days.day
    left join quarantine_days on loaded.day = quarantine_days.day
    left join curated_days on loaded.day = curated_days.day
    left join coverage_days on loaded.day = coverage_days.day
    left join reader_days on loaded.day = reader_days.day
    cross join params

)

select * from final
