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
--   same chats as each of its days); contribution_rank (1 = her first chat that day: the
--   rank of the chat among her chats of the day and signal, the same on each of her
--   sessions in it, so her highest rank is the number of chats she counts in)
-- materialized: temp

with people as (

    select * from people_sessions

),

params as (

    select * from run_params

),

drawn as (

    select
        people.*,
        md5(
            concat(params.contribution_salt, '|', people.channel_id, '|',
                cast(people.viewer as varchar))
        ) as contribution_draw
    from people
    cross join params

),

ranked as (

    select
        drawn.*,
        cast(
            dense_rank() over (
                partition by drawn.day, drawn.signal, drawn.viewer
                order by drawn.contribution_draw, drawn.channel_id
            ) as integer
        ) as contribution_rank
    from drawn

),

final as (

    select ranked.*
    from ranked
    cross join params
    where ranked.contribution_rank <= params.contribution_bound

)

select * from final
