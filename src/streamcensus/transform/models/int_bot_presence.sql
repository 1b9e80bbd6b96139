-- model: int_bot_presence
-- inputs: stg_presence, int_bots, run_days
-- output: temporary table int_bot_presence (internal, the run's days only): how many of the
--   accounts int_bots flags as bots were present, snapshot by snapshot, so the community
--   series counts people as every other figure does (bots are not people, P6); computed by
--   the loader's presence pass when it ran (transform/presence.py)
-- grain: one row per signal and snapshot with a bot present (signal, slot)
-- units: bots (distinct bot accounts in any chat read at that snapshot)
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

    select
        presence.day,
        presence.signal,
        presence.slot,
        cast(count(distinct presence.viewer) as bigint) as bots
    from presence
    inner join bots on presence.day = bots.day and presence.viewer = bots.viewer
    group by presence.day, presence.signal, presence.slot

)

select * from final
