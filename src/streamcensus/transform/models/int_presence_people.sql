-- model: int_presence_people
-- inputs: stg_presence, bounded_sessions, run_days
-- output: temporary table int_presence_people (internal, the run's days only): the people
--   the per-snapshot series count, so a chat's curve, a game's series and a broadcast's
--   figures count the same people, in the same chats, as the day's figures
--   (docs/privacy.md); computed by the loader's presence pass when it ran
--   (transform/presence.py)
-- grain: one row per signal, snapshot and channel with people present (signal, slot,
--   channel_id)
-- units: people (persons present: people_sessions' accounts, those int_bots flags that day
--   left out, each counted only in the chats she counts in that day and signal,
--   bounded_sessions: at most contribution_bound chats)
-- Presence is unique per snapshot, channel and viewer (the collector drops duplicates).
-- materialized: temp

with presence as (

    select * from stg_presence
    where day in (select day from run_days)

),

counted as (

    select distinct day, signal, viewer, channel_id from bounded_sessions
    where day in (select day from run_days)

),

final as (

    select
        presence.day,
        presence.signal,
        presence.slot,
        presence.channel_id,
        cast(count(*) as bigint) as people
    from presence
    inner join counted
        on
            presence.day = counted.day
            and presence.signal = counted.signal
            and presence.viewer = counted.viewer
            and presence.channel_id = counted.channel_id
    group by presence.day, presence.signal, presence.slot, presence.channel_id

)

select * from final
