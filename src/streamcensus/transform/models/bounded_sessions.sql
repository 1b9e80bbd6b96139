-- model: bounded_sessions
-- inputs: people_sessions, run_params
-- output: temporary table bounded_sessions (pseudonymous: never published, never persisted):
--   the people the per-chat figures count, each in at most contribution_bound chats per
--   day and signal (the contribution bound, docs/privacy.md)
-- grain: one row per viewing session of a person (as people_sessions), in the chats she
--   counts in: her first contribution_bound chats of the day and signal by
--   contribution_draw
-- units: as people_sessions; contribution_draw (md5 of the run's secret salt, derived from
--   the noise key, the channel and the pseudonym: a keyed, deterministic order of a
--   person's chats, the same every day, so a window of days re-ranks on it and keeps the
--   same chats as each of its days); contribution_rank (1 = her first chat that day)
-- materialized: temp

with people as (

    select * from people_sessions

),

params as (

    select * from run_params

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

kept as (

    select ranked.*
    from ranked
    cross join params
    where ranked.contribution_rank <= params.contribution_bound

),

final as (

    select
        people.*,
        kept.contribution_draw,
        cast(kept.contribution_rank as integer) as contribution_rank
    from people
    inner join kept
        on
            people.day = kept.day
            and people.signal = kept.signal
            and people.viewer = kept.viewer
            and people.channel_id = kept.channel_id

)

select * from final
