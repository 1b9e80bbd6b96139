-- check: one row per period and ordered pair; shared >= k (P3); shares and Jaccard in range
with params as (

    select * from run_params

)

select overlap.day, overlap.channel_a, overlap.channel_b, 'invalid' as problem
from audience_overlap as overlap
cross join params
where
    overlap.window_days not in (1, 7)
    or overlap.signal not in ('chat_list', 'chat_activity')
    or overlap.channel_a >= overlap.channel_b
    or overlap.shared_chatters < params.k
    or overlap.shared_chatters > overlap.chatters_a
    or overlap.shared_chatters > overlap.chatters_b
    or overlap.jaccard <= 0
    or overlap.jaccard > 1
    or overlap.share_a > 1
    or overlap.share_b > 1

union all

select day, channel_a, channel_b, 'duplicate' as problem
from audience_overlap
group by day, window_days, signal, channel_a, channel_b
having count(*) > 1
