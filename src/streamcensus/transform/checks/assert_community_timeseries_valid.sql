-- check: one row per snapshot (and per snapshot and game; chatters per snapshot, signal
-- and game); counts in range, chatters >= k
with params as (

    select * from run_params

)

select snapshot_id, 'invalid' as problem
from community_timeseries
cross join params
where
    live_channels < 0
    or viewers < 0
    or viewers_per_live_channel < 0

union all

select snapshot_id, 'duplicate' as problem
from community_timeseries
group by snapshot_id
having count(*) > 1

union all

select by_game.snapshot_id, 'invalid by game' as problem
from community_timeseries_by_game as by_game
cross join params
where by_game.live_channels < 1 or by_game.viewers < 0

union all

select snapshot_id, 'duplicate by game' as problem
from community_timeseries_by_game
group by snapshot_id, game_id
having count(*) > 1

union all

select chatters.snapshot_id, 'invalid chatters' as problem
from community_chatters as chatters
cross join params
where
    chatters.chatters < params.k
    or chatters.channels_read < 1
    or chatters.signal not in ('chat_list', 'chat_activity')

union all

select snapshot_id, 'duplicate chatters' as problem
from community_chatters
group by snapshot_id, signal
having count(*) > 1

union all

select by_game.snapshot_id, 'invalid chatters by game' as problem
from community_chatters_by_game as by_game
cross join params
where by_game.chatters < params.k

union all

select snapshot_id, 'duplicate chatters by game' as problem
from community_chatters_by_game
group by snapshot_id, signal, game_id
having count(*) > 1
