-- check: one row per channel and day; ranges; published chatter counts at least k
with params as (

    select * from run_params

)

select channel_day.day, channel_day.channel_id, 'invalid' as problem
from channel_day
cross join params
where
    channel_day.airtime_hours <= 0
    or channel_day.airtime_hours > 24
    or channel_day.avg_viewers < 0
    or channel_day.peak_viewers < channel_day.avg_viewers
    or channel_day.viewer_hours < 0
    or channel_day.unique_chatters < params.k
    or channel_day.avg_chatters < params.k
    or channel_day.returning_chatters < params.k
    or channel_day.returning_chatters > channel_day.unique_chatters
    or channel_day.bot_share < 0
    or channel_day.bot_share > 1
    or (channel_day.signal = 'chat_list' and not channel_day.has_chat_list)
    or (channel_day.signal = 'chat_activity' and not channel_day.has_chat_activity)
    or (channel_day.signal is null and (channel_day.has_chat_list or channel_day.has_chat_activity))

union all

select day, channel_id, 'duplicate' as problem
from channel_day
group by day, channel_id
having count(*) > 1
