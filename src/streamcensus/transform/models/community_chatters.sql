-- model: community_chatters
-- inputs: int_snapshot_channels, int_presence_snapshots, int_bot_presence, run_days, run_params
-- output: table community_chatters (serving)
-- grain: one row per snapshot and signal (snapshot_id, signal) where that signal was read
--   in at least one live channel. signal: 'chat_list' (people in the chat lists read: only
--   channels whose chat list may be read) or 'chat_activity' (people who posted in the
--   5-minute window ending at the snapshot: every joined channel)
-- units: channels_read (live channels whose presence was read); viewers_read (Σ Helix
--   viewer_count of those channels, viewers); chatters (distinct people in any of those chats:
--   accounts, less those int_bots flags as bots that day; 0 when nobody was there);
--   chatters_per_viewer (chatters / viewers_read). chatters is published as the hour's
--   average per snapshot, noisy and null under k (one figure per hour and signal, the
--   same value on every snapshot of the hour), and chatters_per_viewer is computed from it
--   over the hour's average viewers_read (transform/protect.py): this query gives the
--   exact count per snapshot and a null ratio
-- materialized: incremental

with snapshots as (

    select * from int_snapshot_channels
    where day in (select day from run_days)

),

chatter_totals as (

    select * from int_presence_snapshots

),

bot_presence as (

    select * from int_bot_presence

),

params as (

    select * from run_params

),

bot_totals as (

    select signal, slot, bots
    from bot_presence

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
        cast(coalesce(chatter_totals.chatters, 0) - coalesce(bot_totals.bots, 0) as bigint)
            as chatters,
        cast(null as double) as chatters_per_viewer
    from reads
    left join chatter_totals
        on reads.slot = chatter_totals.slot and reads.signal = chatter_totals.signal
    left join bot_totals
        on reads.slot = bot_totals.slot and reads.signal = bot_totals.signal
    cross join params
    where reads.channels_read > 0

)

select * from final
