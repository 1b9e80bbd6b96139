-- check: windows, shares and sizes in range, every channel in one community, sizes true
select day, window_days, community_id, 'invalid' as problem
from communities
where
    window_days not in (1, 7, 30)
    or signal not in ('chat_list', 'chat_activity')
    or inside_share < 0
    or inside_share > 1
    or matched_jaccard < 0
    or matched_jaccard > 1
    or community_channels < 1

union all

select day, window_days, min(community_id) as community_id, 'duplicate' as problem
from communities
group by day, window_days, signal, channel_id
having count(*) > 1

union all

select day, window_days, community_id, 'size' as problem
from communities
group by day, window_days, signal, community_id
having count(*) <> min(community_channels) or count(*) <> max(community_channels)
