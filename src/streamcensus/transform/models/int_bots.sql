-- model: int_bots
-- inputs: viewing_sessions, calendar, run_days, run_params
-- output: curated Parquet lake/curated/int_bots/date=YYYY-MM-DD/ (pseudonymous, deleted
--   after the retention period like viewing_sessions; never published): which accounts
--   are bots, for every model that counts people (bots are not people, P3/P6)
-- grain: one row per UTC day and viewer pseudonym seen that day in either signal
--   (day, viewer)
-- Bots: known public bots (flagged at collection, matched by pseudonym), and accounts in at
--   least bot_min_chats chats at one snapshot (or window) on any day of a rolling window of
--   7 UTC days ending on `day` (the day and the 6 before, as far as they are still kept):
--   lurker bots sit in many chats on busy days, and a quiet or partial day alone would
--   unflag them. Pseudonyms change when the key rotates, so the window holds within a key.
-- units: peak_chats (most chats at one snapshot that day, either signal); window_peak_chats
--   (most over the window); window_days (days of the window the account was seen)
-- materialized: curated
-- order: viewer

with sessions as (

    select * from viewing_sessions

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

daily as (

    select
        sessions.day,
        sessions.viewer,
        max(sessions.peak_chats) as peak_chats,
        max(case when sessions.is_known_bot then 1 else 0 end) as known_bot
    from sessions
    group by sessions.day, sessions.viewer

),

numbered as (

    select daily.*, days.day_number
    from daily
    inner join days on daily.day = days.day

),

targets as (

    select numbered.*
    from numbered
    inner join run on numbered.day = run.day

),

windowed as (

    select
        targets.day,
        targets.viewer,
        max(targets.peak_chats) as peak_chats,
        max(targets.known_bot) as known_bot,
        max(earlier.peak_chats) as window_peak_chats,
        count(*) as window_days
    from targets
    inner join numbered as earlier
        on
            targets.viewer = earlier.viewer
            and earlier.day_number <= targets.day_number
            and earlier.day_number > targets.day_number - 7
    group by targets.day, targets.viewer

),

final as (

    select
        windowed.day,
        windowed.viewer,
        (windowed.known_bot = 1 or windowed.window_peak_chats >= params.bot_min_chats)
            as is_bot,
        windowed.known_bot = 1 as is_known_bot,
        cast(windowed.peak_chats as integer) as peak_chats,
        cast(windowed.window_peak_chats as integer) as window_peak_chats,
        cast(windowed.window_days as integer) as window_days
    from windowed
    cross join params

)

select * from final
