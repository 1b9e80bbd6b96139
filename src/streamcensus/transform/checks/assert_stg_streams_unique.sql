-- check: one stream fact per snapshot and channel in the run's days
select snapshot_id, channel_id, count(*) as copies
from stg_streams
where day in (select day from run_days)
group by snapshot_id, channel_id
having count(*) > 1
