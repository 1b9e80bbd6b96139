-- model: rankings
-- inputs: channel_day, game_day, ranking_chatters, loaded_days, calendar, run_days
-- output: table rankings (serving)
-- grain: one row per day, window, kind, subject, measure and signal (day, window_days, kind,
--   subject_id, measure, signal) for every channel and game live in the window. window_days:
--   1 (the day), 7 or 30 (the days ending on it); kind: 'channels' or 'games'; measure:
--   hours_watched, peak_viewers, avg_viewers, airtime_hours (signal null) or chatters
--   (signal 'chat_list' or 'chat_activity')
-- units: hours_watched (viewer-hours: Σ Helix viewer_count × interval); peak_viewers (most
--   viewers at one snapshot); avg_viewers (viewers per snapshot while live: hours_watched /
--   hours live; for a game, hours with at least one channel live in it); airtime_hours
--   (hours live; for a game, channel-hours); chatters (people over the window, from
--   ranking_chatters: published noisy values, null under k). previous_value: the same
--   measure over the previous period of the same length (the window_days days before the
--   window); null when no day of that period was loaded (chatters: when its figure was not
--   published), 0 for a viewer figure of a subject not live then (its average: null).
--   change (value - previous_value), change_pct (change / previous_value, null when that
--   is 0 or null); rank (1 = largest value among the kind's subjects, null when the value
--   is). days_covered, previous_days_covered (days of each period loaded; chatters: with
--   presence kept); complete (days_covered = window_days)
-- Viewer figures are Twitch's public per-channel counts; the only people count, chatters,
--   is read already protected (noise, then k), so every change is computed from
--   published values
-- materialized: incremental

with days as (

    select day, day_number from calendar

),

today as (

    select day, day_number from calendar
    where day in (select day from run_days)

),

windows as (

    select 1 as window_days
    union all
    select 7 as window_days
    union all
    select 30 as window_days

),

signals as (

    select 'chat_list' as signal
    union all
    select 'chat_activity' as signal

),

loaded as (

    select distinct day from loaded_days

),

periods as (

    select
        today.day,
        windows.window_days,
        member.day as member_day,
        today.day_number - member.day_number < windows.window_days as is_current
    from today
    cross join windows
    inner join days as member
        on
            member.day_number <= today.day_number
            and member.day_number > today.day_number - 2 * windows.window_days

),

coverage as (

    select
        periods.day,
        periods.window_days,
        sum(case when periods.is_current and loaded.day is not null then 1 else 0 end)
            as days_covered,
        sum(case when not periods.is_current and loaded.day is not null then 1 else 0 end)
            as previous_days_covered
    from periods
    left join loaded on periods.member_day = loaded.day
    group by periods.day, periods.window_days

),

channel_periods as (

    select
        periods.day,
        periods.window_days,
        periods.is_current,
        'channels' as kind,
        channel_day.channel_id as subject_id,
        sum(channel_day.viewer_hours) as hours_watched,
        max(channel_day.peak_viewers) as peak_viewers,
        sum(channel_day.airtime_hours) as airtime_hours,
        sum(channel_day.airtime_hours) as live_hours
    from periods
    inner join channel_day on periods.member_day = channel_day.day
    group by periods.day, periods.window_days, periods.is_current, channel_day.channel_id

),

game_periods as (

    select
        periods.day,
        periods.window_days,
        periods.is_current,
        'games' as kind,
        game_day.game_id as subject_id,
        sum(game_day.viewer_hours) as hours_watched,
        max(game_day.peak_viewers) as peak_viewers,
        sum(game_day.airtime_hours) as airtime_hours,
        sum(game_day.live_hours) as live_hours
    from periods
    inner join game_day on periods.member_day = game_day.day
    group by periods.day, periods.window_days, periods.is_current, game_day.game_id

),

subject_periods as (

    select * from channel_periods
    union all
    select * from game_periods

),

ranked_channel_names as (

    select
        periods.day,
        periods.window_days,
        'channels' as kind,
        channel_day.channel_id as subject_id,
        channel_day.channel_login as subject_login,
        channel_day.channel_name as subject_name,
        channel_day.main_game,
        row_number() over (
            partition by periods.day, periods.window_days, channel_day.channel_id
            order by channel_day.day desc
        ) as recency
    from periods
    inner join channel_day on periods.member_day = channel_day.day
    where periods.is_current

),

ranked_game_names as (

    select
        periods.day,
        periods.window_days,
        'games' as kind,
        game_day.game_id as subject_id,
        cast(null as varchar) as subject_login,
        game_day.game_name as subject_name,
        cast(null as varchar) as main_game,
        row_number() over (
            partition by periods.day, periods.window_days, game_day.game_id
            order by game_day.day desc
        ) as recency
    from periods
    inner join game_day on periods.member_day = game_day.day
    where periods.is_current

),

names as (

    select * from ranked_channel_names where recency = 1
    union all
    select * from ranked_game_names where recency = 1

),

paired as (

    select
        cur.day,
        cur.window_days,
        cur.kind,
        cur.subject_id,
        cur.hours_watched,
        cur.peak_viewers,
        cur.airtime_hours,
        cur.live_hours,
        case when coverage.previous_days_covered > 0 then coalesce(prev.hours_watched, 0) end
            as previous_hours_watched,
        case when coverage.previous_days_covered > 0 then coalesce(prev.peak_viewers, 0) end
            as previous_peak_viewers,
        case when coverage.previous_days_covered > 0 then coalesce(prev.airtime_hours, 0) end
            as previous_airtime_hours,
        case
            when coverage.previous_days_covered > 0 and prev.live_hours > 0
                then round(prev.hours_watched / prev.live_hours, 2)
        end as previous_avg_viewers,
        coverage.days_covered,
        coverage.previous_days_covered
    from subject_periods as cur
    inner join coverage on cur.day = coverage.day and cur.window_days = coverage.window_days
    left join subject_periods as prev
        on
            cur.day = prev.day
            and cur.window_days = prev.window_days
            and cur.kind = prev.kind
            and cur.subject_id = prev.subject_id
            and not prev.is_current
    where cur.is_current

),

viewer_measures as (

    select
        day, window_days, kind, subject_id, 'hours_watched' as measure,
        hours_watched as value, previous_hours_watched as previous_value,
        days_covered, previous_days_covered
    from paired
    union all
    select
        day, window_days, kind, subject_id, 'peak_viewers' as measure,
        peak_viewers as value, previous_peak_viewers as previous_value,
        days_covered, previous_days_covered
    from paired
    union all
    select
        day, window_days, kind, subject_id, 'avg_viewers' as measure,
        case when live_hours > 0 then round(hours_watched / live_hours, 2) end as value,
        previous_avg_viewers as previous_value,
        days_covered, previous_days_covered
    from paired
    union all
    select
        day, window_days, kind, subject_id, 'airtime_hours' as measure,
        airtime_hours as value, previous_airtime_hours as previous_value,
        days_covered, previous_days_covered
    from paired

),

chatters_now as (

    select * from ranking_chatters
    where day in (select day from run_days)

),

chatters_now_coverage as (

    select day, window_days, signal, max(days_covered) as days_covered
    from chatters_now
    group by day, window_days, signal

),

previous_days as (

    select today.day, windows.window_days, before.day as previous_day
    from today
    cross join windows
    inner join days as before on before.day_number = today.day_number - windows.window_days

),

chatters_before as (

    select
        previous_days.day,
        ranking_chatters.window_days,
        ranking_chatters.signal,
        ranking_chatters.kind,
        ranking_chatters.subject_id,
        ranking_chatters.chatters,
        ranking_chatters.days_covered
    from ranking_chatters
    inner join previous_days
        on
            ranking_chatters.day = previous_days.previous_day
            and ranking_chatters.window_days = previous_days.window_days

),

chatters_before_coverage as (

    select day, window_days, signal, max(days_covered) as days_covered
    from chatters_before
    group by day, window_days, signal

),

chatter_measures as (

    select
        cur.day,
        cur.window_days,
        cur.kind,
        cur.subject_id,
        signals.signal,
        cast(chatters_now.chatters as double) as value,
        cast(chatters_before.chatters as double) as previous_value,
        coalesce(chatters_now_coverage.days_covered, 0) as days_covered,
        coalesce(chatters_before_coverage.days_covered, 0) as previous_days_covered
    from paired as cur
    cross join signals
    left join chatters_now
        on
            cur.day = chatters_now.day
            and cur.window_days = chatters_now.window_days
            and cur.kind = chatters_now.kind
            and cur.subject_id = chatters_now.subject_id
            and signals.signal = chatters_now.signal
    left join chatters_now_coverage
        on
            cur.day = chatters_now_coverage.day
            and cur.window_days = chatters_now_coverage.window_days
            and signals.signal = chatters_now_coverage.signal
    left join chatters_before
        on
            cur.day = chatters_before.day
            and cur.window_days = chatters_before.window_days
            and cur.kind = chatters_before.kind
            and cur.subject_id = chatters_before.subject_id
            and signals.signal = chatters_before.signal
    left join chatters_before_coverage
        on
            cur.day = chatters_before_coverage.day
            and cur.window_days = chatters_before_coverage.window_days
            and signals.signal = chatters_before_coverage.signal

),

measures as (

    select
        day, window_days, kind, subject_id, measure, cast(null as varchar) as signal,
        cast(value as double) as value, cast(previous_value as double) as previous_value,
        days_covered, previous_days_covered
    from viewer_measures
    union all
    select
        day, window_days, kind, subject_id, 'chatters' as measure, signal,
        value, previous_value, days_covered, previous_days_covered
    from chatter_measures

),

ranked as (

    select
        measures.*,
        row_number() over (
            partition by day, window_days, kind, measure, signal
            order by case when value is null then 1 else 0 end, value desc, subject_id
        ) as position
    from measures

),

final as (

    select
        ranked.day,
        cast(ranked.window_days as integer) as window_days,
        ranked.kind,
        ranked.subject_id,
        names.subject_login,
        names.subject_name,
        names.main_game,
        ranked.measure,
        ranked.signal,
        round(ranked.value, 4) as value,
        round(ranked.previous_value, 4) as previous_value,
        round(ranked.value - ranked.previous_value, 4) as change,
        case
            when ranked.previous_value > 0
                then round((ranked.value - ranked.previous_value) / ranked.previous_value, 4)
        end as change_pct,
        cast(case when ranked.value is not null then ranked.position end as integer) as rank,
        cast(ranked.days_covered as integer) as days_covered,
        cast(ranked.previous_days_covered as integer) as previous_days_covered,
        ranked.days_covered = ranked.window_days as complete
    from ranked
    inner join names
        on
            ranked.day = names.day
            and ranked.window_days = names.window_days
            and ranked.kind = names.kind
            and ranked.subject_id = names.subject_id

)

select * from final
