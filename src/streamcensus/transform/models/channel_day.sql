-- model: channel_day
-- inputs: stg_streams, stg_manifests, channel_day_presence, run_days, run_params
-- output: table channel_day (serving)
-- grain: one row per channel and UTC day (day, channel_id) with the channel live that day
-- units: airtime_hours (snapshots live × interval, hours); peak_viewers, avg_viewers
--   (viewers; average over the snapshots live); viewer_hours (Σ viewer_count × interval,
--   viewer-hours); has_chat_list, has_chat_activity (which presence signals were read
--   that day); signal (the one the presence figures come from: 'chat_list' where the
--   channel has one, since it counts lurkers too, else 'chat_activity', else null);
--   unique_chatters, avg_chatters, chatters_per_viewer, returning_chatters, bot_share,
--   returning_days_covered (from channel_day_presence for that signal, null under k);
--   chat_snapshots_missed (snapshots, or windows, of that signal tried but not obtained in
--   full: the people counts are then low); day_snapshots (snapshots taken that day, of
--   snapshots_per_day); complete (the whole day was collected and no snapshot of the
--   signal missed)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

presence as (

    select * from channel_day_presence
    where day in (select day from run_days)

),

params as (

    select * from run_params

),

manifests as (

    select * from stg_manifests
    where day in (select day from run_days)

),

day_snapshots as (

    select day, count(distinct slot) as snapshots
    from (
        select day, slot from streams
        union
        select day, slot from manifests
    ) as taken
    group by day

),

airtime as (

    select
        day,
        channel_id,
        count(*) as snapshots,
        count(distinct stream_id) as broadcasts,
        max(viewer_count) as peak_viewers,
        sum(viewer_count) as viewer_sum
    from streams
    group by day, channel_id

),

signals as (

    select
        day,
        channel_id,
        max(case when signal = 'chat_list' and snapshots_read > 0 then 1 else 0 end)
            as has_chat_list,
        max(case when signal = 'chat_activity' and snapshots_read > 0 then 1 else 0 end)
            as has_chat_activity
    from presence
    group by day, channel_id

),

chosen as (

    select
        day,
        channel_id,
        has_chat_list = 1 as has_chat_list,
        has_chat_activity = 1 as has_chat_activity,
        case
            when has_chat_list = 1 then 'chat_list'
            when has_chat_activity = 1 then 'chat_activity'
        end as signal
    from signals

),

ranked_names as (

    select
        day,
        channel_id,
        channel_login,
        channel_name,
        row_number() over (partition by day, channel_id order by slot desc) as recency
    from streams

),

names as (

    select * from ranked_names where recency = 1

),

game_snapshots as (

    select day, channel_id, game_name, count(*) as snapshots
    from streams
    group by day, channel_id, game_name

),

ranked_games as (

    select
        day,
        channel_id,
        game_name,
        row_number() over (
            partition by day, channel_id order by snapshots desc, game_name
        ) as position
    from game_snapshots

),

final as (

    select
        airtime.day,
        airtime.channel_id,
        names.channel_login,
        names.channel_name,
        ranked_games.game_name as main_game,
        cast(airtime.broadcasts as integer) as broadcasts,
        cast(airtime.snapshots as integer) as snapshots,
        round(cast(airtime.snapshots * params.interval_minutes as double) / 60, 4)
            as airtime_hours,
        airtime.peak_viewers,
        round(cast(airtime.viewer_sum as double) / airtime.snapshots, 2) as avg_viewers,
        round(cast(airtime.viewer_sum * params.interval_minutes as double) / 60, 4)
            as viewer_hours,
        coalesce(chosen.has_chat_list, false) as has_chat_list,
        coalesce(chosen.has_chat_activity, false) as has_chat_activity,
        chosen.signal,
        presence.unique_chatters,
        presence.avg_chatters,
        presence.chatters_per_viewer,
        presence.returning_chatters,
        presence.bot_share,
        cast(coalesce(presence.snapshots_missed, 0) as integer) as chat_snapshots_missed,
        cast(coalesce(day_snapshots.snapshots, 0) as integer) as day_snapshots,
        cast(coalesce(presence.returning_days_covered, 0) as integer) as returning_days_covered,
        coalesce(presence.snapshots_missed, 0) = 0
        and coalesce(day_snapshots.snapshots, 0) >= params.snapshots_per_day as complete
    from airtime
    inner join names on airtime.day = names.day and airtime.channel_id = names.channel_id
    inner join ranked_games
        on
            airtime.day = ranked_games.day
            and airtime.channel_id = ranked_games.channel_id
            and ranked_games.position = 1
    left join chosen on airtime.day = chosen.day and airtime.channel_id = chosen.channel_id
    left join presence
        on
            chosen.day = presence.day
            and chosen.channel_id = presence.channel_id
            and chosen.signal = presence.signal
    left join day_snapshots on airtime.day = day_snapshots.day
    cross join params

)

select * from final
