-- model: int_presence_snapshots
-- inputs: stg_presence
-- output: temporary table int_presence_snapshots (internal, the run's days only), computed
--   by the loader's presence pass when it ran (transform/presence.py)
-- grain: one row per signal and snapshot with presence (signal, slot)
-- units: chatters (distinct accounts in any chat read at that snapshot)
-- materialized: temp

with presence as (

    select * from stg_presence

),

final as (

    select day, signal, slot, cast(count(distinct viewer) as bigint) as chatters
    from presence
    group by day, signal, slot

)

select * from final
