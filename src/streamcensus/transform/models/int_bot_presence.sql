-- model: int_bot_presence
-- inputs: stg_presence, int_bots, run_days
-- output: temporary table int_bot_presence (internal, pseudonymous, the run's days only):
--   where the accounts int_bots flags as bots were, snapshot by snapshot, so the community
--   and game series count people as every other figure does (bots are not people, P6)
-- grain: one row per signal, snapshot, channel and bot account present (signal, slot,
--   channel_id, viewer)
-- units: slot (5-minute grid index since 1970-01-01)
-- materialized: temp

with presence as (

    select * from stg_presence
    where day in (select day from run_days)

),

bots as (

    select * from int_bots
    where is_bot and day in (select day from run_days)

),

final as (

    select presence.day, presence.signal, presence.slot, presence.channel_id, presence.viewer
    from presence
    inner join bots on presence.day = bots.day and presence.viewer = bots.viewer

)

select * from final
