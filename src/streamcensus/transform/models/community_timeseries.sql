-- model: community_timeseries
-- inputs: stg_streams, stg_presence, stg_manifests, run_days, run_params
-- output: table community_timeseries (serving)
-- grain: one row per snapshot (snapshot_id) of the run's days
-- units: live_channels (channels); viewers (Σ Helix viewer_count, viewers);
--   viewers_per_live_channel (viewers / live channels, the write-up's headline ratio);
--   chatters (distinct accounts in any chat read, null under k); chatters_per_viewer
--   (chatters / viewers of the channels whose chat was read)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

presence as (

    select * from stg_presence

),

manifests as (

    select * from stg_manifests
    where day in (select day from run_days)

),

params as (

    select * from run_params

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
        sum(viewer_count) as viewers,
        sum(case when chatters_status = 'ok' then 1 else 0 end) as channels_with_chatters,
        sum(case when chatters_status = 'ok' then viewer_count else 0 end) as viewers_read
    from streams
    group by slot

),

chatter_totals as (

    select slot, count(distinct viewer) as chatters
    from presence
    group by slot

),

final as (

    select
        snapshots.day,
        snapshots.snapshot_id,
        snapshots.snapshot_ts,
        coalesce(manifests.status, 'no manifest') as snapshot_status,
        cast(coalesce(channel_totals.live_channels, 0) as integer) as live_channels,
        cast(coalesce(channel_totals.viewers, 0) as bigint) as viewers,
        case
            when channel_totals.live_channels > 0
                then round(cast(channel_totals.viewers as double) / channel_totals.live_channels, 2)
        end as viewers_per_live_channel,
        cast(coalesce(channel_totals.channels_with_chatters, 0) as integer)
            as channels_with_chatters,
        case when chatter_totals.chatters >= params.k then chatter_totals.chatters end
            as chatters,
        case
            when chatter_totals.chatters >= params.k and channel_totals.viewers_read > 0
                then round(cast(chatter_totals.chatters as double) / channel_totals.viewers_read, 4)
        end as chatters_per_viewer
    from snapshots
    left join channel_totals on snapshots.slot = channel_totals.slot
    left join chatter_totals on snapshots.slot = chatter_totals.slot
    left join manifests on snapshots.slot = manifests.slot
    cross join params

)

select * from final
