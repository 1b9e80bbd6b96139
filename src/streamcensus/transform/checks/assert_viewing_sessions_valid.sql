-- check: viewing sessions of the run's days are well formed (counts only: no pseudonym is
-- ever shown) and do not overlap within one channel and viewer
with sessions as (

    select * from viewing_sessions
    where day in (select day from run_days)

),

params as (

    select * from run_params

),

bad_rows as (

    select 'malformed session' as problem
    from sessions
    cross join params
    where
        first_seen is null
        or last_seen is null
        or first_seen > last_seen
        or observations < 1
        or minutes < observations * params.interval_minutes
        or minutes > 1440
        or peak_chats < 1
        or signal not in ('chat_list', 'chat_activity')

),

duplicates as (

    select 'duplicate session' as problem
    from sessions
    group by day, signal, channel_id, viewer, first_seen
    having count(*) > 1

)

select problem, count(*) as sessions from bad_rows group by problem
union all
select problem, count(*) as sessions from duplicates group by problem
