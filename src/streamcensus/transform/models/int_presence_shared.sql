-- model: int_presence_shared
-- inputs: stg_presence, bounded_sessions, run_days
-- output: temporary table int_presence_shared (pseudonymous: never published, never
--   persisted; the run's days only): the people of int_presence_people present in more
--   than one of their counted chats at one snapshot, so a game's series counts each person
--   once however many of its chats she is in; computed by the loader's presence pass when
--   it ran (transform/presence.py)
-- grain: one row per signal, snapshot, channel and person (signal, slot, channel_id,
--   viewer), for a person in at least two of the chats she counts in (bounded_sessions)
--   at that snapshot and signal
-- units: slot (5-minute grid index since 1970-01-01)
-- materialized: temp

with presence as (

    select * from stg_presence
    where day in (select day from run_days)

),

counted as (

    select distinct day, signal, viewer, channel_id from bounded_sessions
    where day in (select day from run_days) and peak_chats > 1

),

people as (

    select presence.day, presence.signal, presence.slot, presence.channel_id, presence.viewer
    from presence
    inner join counted
        on
            presence.day = counted.day
            and presence.signal = counted.signal
            and presence.viewer = counted.viewer
            and presence.channel_id = counted.channel_id

),

several as (

    select day, signal, slot, viewer
    from people
    group by day, signal, slot, viewer
    having count(*) > 1

),

final as (

    select people.day, people.signal, people.slot, people.channel_id, people.viewer
    from people
    inner join several
        on
            people.day = several.day
            and people.signal = several.signal
            and people.slot = several.slot
            and people.viewer = several.viewer

)

select * from final
