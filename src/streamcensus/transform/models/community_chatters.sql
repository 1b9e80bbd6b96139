-- model: community_chatters
-- inputs: int_snapshot_channels, int_presence_snapshots, run_days, run_params
-- output: table community_chatters (serving)
-- grain: one row per snapshot and signal (snapshot_id, signal) where that signal was read
--   in at least one live channel. signal: 'chat_list' (people in the chat lists read: only
--   channels whose chat list may be read) or 'chat_activity' (people who posted in the
--   5-minute window ending at the snapshot: every joined channel)
-- units: channels_read (live channels whose presence was read); viewers_read (Σ Helix
--   viewer_count of those channels, viewers); chatters (distinct accounts in any of those
--   chats, null under k); chatters_per_viewer (chatters / viewers_read)
-- materialized: incremental

with snapshots as (

    select * from int_snapshot_channels
    where day in (select day from run_days)

),

chatter_totals as (

    select * from int_presence_snapshots

),

params as (

    select * from run_params

),

reads as (

    select
        day,
        slot,
        snapshot_id,
        snapshot_ts,
        signal,
        sum(case when presence_read then 1 else 0 end) as channels_read,
        sum(case when presence_read then viewer_count else 0 end) as viewers_read
    from snapshots
    group by day, slot, snapshot_id, snapshot_ts, signal

),

final as (

    select
        reads.day,
        reads.snapshot_id,
        reads.snapshot_ts,
        reads.signal,
        cast(reads.channels_read as integer) as channels_read,
        cast(reads.viewers_read as bigint) as viewers_read,
        case
            when chatter_totals.chatters >= params.k then cast(chatter_totals.chatters as bigint)
        end as chatters,
        case
            when chatter_totals.chatters >= params.k and reads.viewers_read > 0
                then round(cast(chatter_totals.chatters as double) / reads.viewers_read, 4)
        end as chatters_per_viewer
    from reads
    left join chatter_totals
        on reads.slot = chatter_totals.slot and reads.signal = chatter_totals.signal
    cross join params
    where reads.channels_read > 0

)

select * from final
