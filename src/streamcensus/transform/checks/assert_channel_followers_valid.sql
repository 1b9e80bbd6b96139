-- check: one row per channel and day (and per reading of the curve); totals not negative
select day, channel_id, 'invalid' as problem
from channel_followers
where followers < 0 or readings < 1 or gained_day_since > followers_at

union all

select day, channel_id, 'duplicate' as problem
from channel_followers
group by day, channel_id
having count(*) > 1

union all

select day, channel_id, 'duplicate reading' as problem
from channel_followers_hourly
group by day, channel_id, snapshot_ts
having count(*) > 1
