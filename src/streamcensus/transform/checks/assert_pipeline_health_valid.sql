-- check: one row per day; snapshot counts add up; sizes not negative
select day, 'invalid' as problem
from pipeline_health
where
    snapshots_complete + snapshots_partial <> snapshots
    or raw_bytes < 0
    or curated_bytes < 0
    or presence_observations < 0

union all

select day, 'duplicate' as problem
from pipeline_health
group by day
having count(*) > 1
