-- model: people_sessions
-- inputs: viewing_sessions, int_bots, calendar, run_days, run_params
-- output: temporary table people_sessions (pseudonymous: never published, never persisted):
--   the one definition of "people" for every model that counts them (P3, P6)
-- grain: one row per viewing session of a person (as viewing_sessions): sessions of
--   accounts int_bots flags as bots that day are left out, and only the days a run's
--   figures read are kept (the run's days and the lookback or 7-day window before them)
-- units: as viewing_sessions
-- materialized: temp

with sessions as (

    select * from viewing_sessions

),

bots as (

    select * from int_bots

),

days as (

    select * from calendar

),

run as (

    select * from run_days

),

params as (

    select * from run_params

),

run_span as (

    select
        min(days.day_number) - greatest(params.lookback_days, 6) as first_number,
        max(days.day_number) as last_number
    from days
    inner join run on days.day = run.day
    cross join params
    group by params.lookback_days

),

span_days as (

    select days.day
    from days
    cross join run_span
    where days.day_number between run_span.first_number and run_span.last_number

),

final as (

    select sessions.*
    from sessions
    inner join span_days on sessions.day = span_days.day
    where not exists (
        select 1 from bots
        where bots.day = sessions.day and bots.viewer = sessions.viewer and bots.is_bot
    )

)

select * from final
