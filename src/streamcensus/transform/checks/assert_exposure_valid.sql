-- check: shares and intervals in range, at least k people behind every row, unique rows
with params as (

    select * from run_params

)

select exposure.day, exposure.measure, exposure.points, 'invalid' as problem
from exposure
cross join params
where
    exposure.unique_share < 0
    or exposure.unique_share > 1
    or exposure.ci_low > exposure.unique_share
    or exposure.ci_high < exposure.unique_share
    or exposure.sample_size < params.k
    or exposure.population < exposure.sample_size
    or exposure.window_days not in (1, 7)
    or exposure.signal not in ('chat_list', 'chat_activity')

union all

select day, measure, points, 'duplicate' as problem
from exposure
group by day, window_days, signal, measure, points
having count(*) > 1
