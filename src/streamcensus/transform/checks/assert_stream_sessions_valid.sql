-- check: one row per broadcast; peak >= average >= 0; times and durations in range
select stream_id, 'invalid' as problem
from stream_sessions
where
    stream_id is null
    or channel_id is null
    or started_at is null
    or ended_at is null
    or duration_minutes < 0
    or snapshots < 1
    or avg_viewers < 0
    or peak_viewers < avg_viewers
    or viewer_hours < 0
    or (peak_chatters is not null and peak_chatters < avg_chatters)
    or peak_chatters < (select k from run_params)
    or avg_chatters < (select k from run_params)

union all

select stream_id, 'duplicate' as problem
from stream_sessions
group by stream_id
having count(*) > 1
