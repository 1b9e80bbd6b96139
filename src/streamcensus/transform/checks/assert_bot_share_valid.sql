-- check: one row per channel, day and signal; chats of at least k accounts; share in range
with params as (

    select * from run_params

)

select bots.day, bots.channel_id, 'invalid' as problem
from bot_share as bots
cross join params
where
    bots.chatters < params.k
    or bots.known_bots + bots.multi_chat_accounts > bots.chatters
    or bots.bot_share < 0
    or bots.bot_share > 1

union all

select day, channel_id, 'duplicate' as problem
from bot_share
group by day, channel_id, signal
having count(*) > 1
