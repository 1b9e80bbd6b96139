-- model: channel_day
-- inputs: int_snapshot_channels, stg_streams, stg_manifests, viewing_sessions, bot_share,
--   curated_files, calendar, run_days, run_params
-- output: table channel_day (serving)
-- grain: one row per channel and UTC day (day, channel_id) with the channel live that day
-- units: airtime_hours (snapshots live × interval, hours); peak_viewers, avg_viewers
--   (viewers; average over the snapshots live); viewer_hours (Σ viewer_count × interval,
--   viewer-hours); unique_chatters (distinct accounts in chat that day, null under k);
--   avg_chatters (accounts per snapshot read); chatters_per_viewer (Σ chatters / Σ viewers
--   over snapshots whose chat was read); returning_chatters (people, bots excluded, also
--   seen in this chat on one of the lookback_days previous days; null under k);
--   bot_share (0..1, from bot_share); chat_snapshots_missed (snapshots whose chat list was
--   tried but not obtained: failed, or its file not loaded; unique_chatters and
--   returning_chatters are then low); day_snapshots (snapshots taken that day, of
--   snapshots_per_day); returning_days_covered (previous days of the lookback with
--   presence still kept: under lookback_days, e.g. past retention, returning_chatters is
--   low); complete (the whole day was collected and every chat list of the channel read)
-- materialized: incremental

with snapshots as (

    select * from int_snapshot_channels
    where day in (select day from run_days)

),

streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

sessions as (

    select * from viewing_sessions

),

bots as (

    select * from bot_share
    where day in (select day from run_days)

),

days as (

    select * from calendar

),

params as (

    select * from run_params

),

manifests as (

    select * from stg_manifests
    where day in (select day from run_days)

),

presence_days as (

    select distinct day from curated_files
    where model = 'viewing_sessions' and not retired

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
        sum(viewer_count) as viewer_sum,
        sum(case when chatters_status = 'ok' then 1 else 0 end) as chatter_snapshots,
        sum(case when chatters_status = 'ok' then chatters else 0 end) as chatter_sum,
        sum(case when chatters_status = 'ok' then viewer_count else 0 end) as viewer_sum_read,
        sum(case when chatters_status in ('error', 'missing') then 1 else 0 end)
            as chat_snapshots_missed
    from snapshots
    group by day, channel_id

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

accounts_today as (

    select
        sessions.day,
        sessions.channel_id,
        sessions.viewer,
        max(
            case
                when sessions.is_known_bot or sessions.peak_chats >= params.bot_min_chats then 1
                else 0
            end
        ) as bot
    from sessions
    cross join params
    where sessions.day in (select day from run_days)
    group by sessions.day, sessions.channel_id, sessions.viewer

),

chatter_counts as (

    select day, channel_id, count(*) as unique_chatters
    from accounts_today
    group by day, channel_id

),

lookback as (

    select today.day, seen_day.day as seen_day
    from days as today
    inner join days as seen_day
        on seen_day.day_number < today.day_number
    cross join params
    where
        today.day in (select day from run_days)
        and seen_day.day_number >= today.day_number - params.lookback_days

),

people_before as (

    select distinct
        lookback.day,
        sessions.channel_id,
        sessions.viewer
    from sessions
    inner join lookback on sessions.day = lookback.seen_day
    cross join params
    where not sessions.is_known_bot and sessions.peak_chats < params.bot_min_chats

),

lookback_coverage as (

    select lookback.day, count(presence_days.day) as days_covered
    from lookback
    left join presence_days on lookback.seen_day = presence_days.day
    group by lookback.day

),

returning_counts as (

    select accounts_today.day, accounts_today.channel_id, count(*) as returning_chatters
    from accounts_today
    inner join people_before
        on
            accounts_today.day = people_before.day
            and accounts_today.channel_id = people_before.channel_id
            and accounts_today.viewer = people_before.viewer
    where accounts_today.bot = 0
    group by accounts_today.day, accounts_today.channel_id

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
        case
            when chatter_counts.unique_chatters >= params.k
                then cast(chatter_counts.unique_chatters as integer)
        end as unique_chatters,
        -- an average under k would publish a small group (P3): both need avg ≥ k
        case
            when airtime.chatter_snapshots > 0
                and cast(airtime.chatter_sum as double) / airtime.chatter_snapshots >= params.k
                then round(cast(airtime.chatter_sum as double) / airtime.chatter_snapshots, 2)
        end as avg_chatters,
        case
            when airtime.chatter_snapshots > 0 and airtime.viewer_sum_read > 0
                and cast(airtime.chatter_sum as double) / airtime.chatter_snapshots >= params.k
                then round(cast(airtime.chatter_sum as double) / airtime.viewer_sum_read, 4)
        end as chatters_per_viewer,
        case
            when returning_counts.returning_chatters >= params.k
                then cast(returning_counts.returning_chatters as integer)
        end as returning_chatters,
        bots.bot_share,
        cast(airtime.chat_snapshots_missed as integer) as chat_snapshots_missed,
        cast(coalesce(day_snapshots.snapshots, 0) as integer) as day_snapshots,
        cast(coalesce(lookback_coverage.days_covered, 0) as integer) as returning_days_covered,
        airtime.chat_snapshots_missed = 0
        and coalesce(day_snapshots.snapshots, 0) >= params.snapshots_per_day as complete
    from airtime
    inner join names on airtime.day = names.day and airtime.channel_id = names.channel_id
    inner join ranked_games
        on
            airtime.day = ranked_games.day
            and airtime.channel_id = ranked_games.channel_id
            and ranked_games.position = 1
    left join chatter_counts
        on airtime.day = chatter_counts.day and airtime.channel_id = chatter_counts.channel_id
    left join returning_counts
        on airtime.day = returning_counts.day and airtime.channel_id = returning_counts.channel_id
    left join bots on airtime.day = bots.day and airtime.channel_id = bots.channel_id
    left join day_snapshots on airtime.day = day_snapshots.day
    left join lookback_coverage on airtime.day = lookback_coverage.day
    cross join params

)

select * from final
