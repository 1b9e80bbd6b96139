-- model: pipeline_health
-- inputs: stg_manifests, loaded_days, loaded_files, orphaned_files, quarantined_files,
--   curated_files, run_days, run_params
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
--   was over: its figures are partial)
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
        sum(missing_count) as missing_items
    from manifests
    group by day

),

file_days as (

    select
        day,
        count(*) as raw_files,
        sum(bytes) as raw_bytes,
        sum(case when kind = 'chatters' then bytes else 0 end) as raw_chatters_bytes,
        sum(case when kind = 'chatters' then rows else 0 end) as presence_observations
    from files
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
        loaded.presence_retired,
        coalesce(loaded.complete, true) as day_complete
    from loaded
    left join manifest_days on loaded.day = manifest_days.day
    left join file_days on loaded.day = file_days.day
    left join orphan_days on loaded.day = orphan_days.day
    left join quarantine_days on loaded.day = quarantine_days.day
    left join curated_days on loaded.day = curated_days.day
    cross join params

)

select * from final
