-- check: every published bucket holds at least k (P3); one row per day, metric and bucket
with params as (

    select * from run_params

)

select habits.day, habits.metric, habits.bucket, 'invalid' as problem
from viewer_habits as habits
cross join params
where
    habits.value < params.k
    or habits.signal not in ('chat_list', 'chat_activity')
    or habits.share < 0
    or habits.share > 1
    or habits.bucket_min > habits.bucket_max

union all

select day, metric, bucket, 'duplicate' as problem
from viewer_habits
group by day, signal, metric, bucket
having count(*) > 1
