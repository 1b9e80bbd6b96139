-- model: viewing_sessions
-- inputs: stg_presence, run_params
-- output: curated Parquet lake/curated/viewing_sessions/date=YYYY-MM-DD/ (pseudonymous,
--   deleted after the retention period; never published)
-- grain: one row per signal and viewing session: consecutive presence observations of one
--   viewer pseudonym in one channel within one UTC day, in one signal ('chat_list': in the
--   chat list; 'chat_activity': posted in the window); a gap of more than one missed
--   snapshot (or window) starts a new session
-- Presence is unique per snapshot, channel and viewer (the collector drops duplicates).
-- A different day is a different session, since day partitions are loaded independently.
-- units: minutes (minutes from the first to the last observation plus one interval);
--   observations (snapshots the viewer was seen in); peak_chats (most chats the viewer was
--   in at one snapshot that day in the same signal, for bot detection)
-- materialized: curated
-- order: signal, channel_id, first_seen, viewer

with presence as (

    select * from stg_presence

),

params as (

    select * from run_params

),

viewer_chats as (

    select day, signal, slot, viewer, count(*) as chats
    from presence
    group by day, signal, slot, viewer

),

viewer_peaks as (

    select day, signal, viewer, max(chats) as peak_chats
    from viewer_chats
    group by day, signal, viewer

),

steps as (

    select
        day,
        signal,
        channel_id,
        viewer,
        slot,
        snapshot_ts,
        is_known_bot,
        lag(slot) over by_viewer as previous_slot,
        lag(channel_id) over by_viewer as previous_channel_id
    from presence
    window by_viewer as (partition by signal, viewer order by day, channel_id, slot)

),

marked as (

    select
        steps.day,
        steps.signal,
        steps.channel_id,
        steps.viewer,
        steps.slot,
        steps.snapshot_ts,
        steps.is_known_bot,
        case
            when
                steps.previous_slot is null
                or steps.previous_channel_id <> steps.channel_id
                or steps.slot - steps.previous_slot > 2  -- a slot is one grid interval
                then 1
            else 0
        end as starts_session
    from steps
    cross join params

),

numbered as (

    select
        day,
        signal,
        channel_id,
        viewer,
        slot,
        snapshot_ts,
        is_known_bot,
        sum(starts_session) over (
            partition by signal, viewer
            order by day, channel_id, slot
            rows between unbounded preceding and current row
        ) as session_number
    from marked

),

sessions as (

    select
        day,
        signal,
        channel_id,
        viewer,
        session_number,
        min(snapshot_ts) as first_seen,
        max(snapshot_ts) as last_seen,
        min(slot) as first_slot,
        max(slot) as last_slot,
        count(*) as observations,
        max(case when is_known_bot then 1 else 0 end) as known_bot
    from numbered
    group by day, signal, channel_id, viewer, session_number

),

final as (

    select
        sessions.day,
        sessions.signal,
        sessions.channel_id,
        sessions.viewer,
        sessions.first_seen,
        sessions.last_seen,
        cast(
            (sessions.last_slot - sessions.first_slot + 1) * params.interval_minutes as integer
        )
            as minutes,
        cast(sessions.observations as integer) as observations,
        sessions.known_bot = 1 as is_known_bot,
        cast(viewer_peaks.peak_chats as integer) as peak_chats
    from sessions
    inner join viewer_peaks
        on
            sessions.day = viewer_peaks.day
            and sessions.signal = viewer_peaks.signal
            and sessions.viewer = viewer_peaks.viewer
    cross join params

)

select * from final
