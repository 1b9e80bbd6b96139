-- check: one row per channel, day and signal; published people counts at least k; ranges
with params as (

    select * from run_params

)

select presence.day, presence.channel_id, 'invalid' as problem
from channel_day_presence as presence
cross join params
where
    presence.signal not in ('chat_list', 'chat_activity')
    or presence.snapshots_read < 0
    or presence.snapshots_missed < 0
    or presence.unique_chatters < params.k
    or presence.avg_chatters < params.k
    or presence.returning_chatters < params.k
    or presence.returning_chatters > presence.unique_chatters
    or presence.bot_share < 0
    or presence.bot_share > 1
    or presence.complete <> (presence.snapshots_missed = 0)

union all

select day, channel_id, 'duplicate' as problem
from channel_day_presence
group by day, channel_id, signal
having count(*) > 1
