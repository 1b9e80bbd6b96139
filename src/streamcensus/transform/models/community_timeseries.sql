-- model: community_timeseries
-- inputs: stg_streams, stg_manifests, loaded_files, run_days
-- output: table community_timeseries (serving)
-- grain: one row per snapshot (snapshot_id) of the run's days
-- units: live_channels (channels); viewers (Σ Helix viewer_count, viewers);
--   viewers_per_live_channel (viewers / live channels, the write-up's headline ratio);
--   chatters per signal are in community_chatters; snapshot_status (the
--   manifest's complete or partial; 'streams missing' when its stream facts were not
--   loaded, e.g. quarantined: live_channels and viewers are then unknown, null)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

manifests as (

    select * from stg_manifests
    where day in (select day from run_days)

),

streams_loaded as (

    select distinct snapshot_id from loaded_files
    where kind = 'streams'

),

snapshots as (

    select day, slot, snapshot_id, snapshot_ts from streams
    union
    select day, slot, snapshot_id, grid_time as snapshot_ts from manifests

),

channel_totals as (

    select
        slot,
        count(*) as live_channels,
        sum(viewer_count) as viewers
    from streams
    group by slot

),

final as (

    select
        snapshots.day,
        snapshots.snapshot_id,
        snapshots.snapshot_ts,
        case
            when streams_loaded.snapshot_id is null then 'streams missing'
            else coalesce(manifests.status, 'no manifest')
        end as snapshot_status,
        case
            when streams_loaded.snapshot_id is not null
                then cast(coalesce(channel_totals.live_channels, 0) as integer)
        end as live_channels,
        case
            when streams_loaded.snapshot_id is not null
                then cast(coalesce(channel_totals.viewers, 0) as bigint)
        end as viewers,
        case
            when channel_totals.live_channels > 0
                then round(cast(channel_totals.viewers as double) / channel_totals.live_channels, 2)
        end as viewers_per_live_channel
    from snapshots
    left join channel_totals on snapshots.slot = channel_totals.slot
    left join manifests on snapshots.slot = manifests.slot
    left join streams_loaded on snapshots.snapshot_id = streams_loaded.snapshot_id

)

select * from final
