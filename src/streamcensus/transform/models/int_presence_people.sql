-- model: int_presence_people
-- inputs: stg_presence, bounded_sessions, run_days
-- output: temporary view int_presence_people (pseudonymous: never published, never
--   persisted): the presence the per-snapshot series count, so a chat's curve, a game's
--   series and a broadcast's figures count the same people, in the same chats, as the
--   day's figures (docs/privacy.md)
-- grain: one row per signal, snapshot, channel and person present (signal, slot,
--   channel_id, viewer), the run's days only: a presence observation of a person
--   (people_sessions: accounts int_bots flags that day left out) in one of the chats she
--   counts in that day and signal (bounded_sessions: at most contribution_bound chats)
-- units: slot (5-minute grid index since 1970-01-01)
-- materialized: view

with presence as (

    select * from stg_presence
    where day in (select day from run_days)

),

counted as (

    select distinct day, signal, viewer, channel_id from bounded_sessions
    where day in (select day from run_days)

),

final as (

    select presence.day, presence.signal, presence.slot, presence.channel_id, presence.viewer
    from presence
    inner join counted
        on
            presence.day = counted.day
            and presence.signal = counted.signal
            and presence.viewer = counted.viewer
            and presence.channel_id = counted.channel_id

)

select * from final
