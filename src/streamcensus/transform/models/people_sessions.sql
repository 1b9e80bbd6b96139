-- model: people_sessions
-- inputs: viewing_sessions, int_bots, calendar, run_days, run_params
-- output: temporary view people_sessions (pseudonymous: never published, never persisted):
--   the one definition of "people" for every model that counts them (P3, P6)
-- grain: one row per viewing session of a person (as viewing_sessions): sessions of
--   accounts int_bots flags as bots that day are left out, and only the days a run's
--   figures read are kept (the run's days and the lookback or 7-day window before them)
-- units: as viewing_sessions; contribution_rank (the rank of the session's chat among the
--   person's chats that day and signal, by contribution_draw, 1 = first: figures that bound
--   a person's contribution count her only in chats ranked up to
--   run_params.contribution_bound, docs/privacy.md); contribution_draw (md5 of the run's
--   secret salt, from the noise key, the channel and the pseudonym: a keyed, deterministic
--   order of a person's chats, the same every day, so a window of days re-ranks on it and
--   keeps the same chats as each of its days)
-- materialized: view

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

people as (

    select sessions.*
    from sessions
    inner join span_days on sessions.day = span_days.day
    where not exists (
        select 1 from bots
        where bots.day = sessions.day and bots.viewer = sessions.viewer and bots.is_bot
    )

),

chats as (

    select
        people.day,
        people.signal,
        people.viewer,
        people.channel_id,
        md5(
            concat(params.contribution_salt, '|', people.channel_id, '|',
                cast(people.viewer as varchar))
        ) as contribution_draw
    from people
    cross join params
    group by people.day, people.signal, people.viewer, people.channel_id, params.contribution_salt

),

ranked as (

    select
        chats.*,
        row_number() over (
            partition by chats.day, chats.signal, chats.viewer
            order by chats.contribution_draw, chats.channel_id
        ) as contribution_rank
    from chats

),

final as (

    select
        people.*,
        ranked.contribution_draw,
        cast(ranked.contribution_rank as integer) as contribution_rank
    from people
    inner join ranked
        on
            people.day = ranked.day
            and people.signal = ranked.signal
            and people.viewer = ranked.viewer
            and people.channel_id = ranked.channel_id

)

select * from final
