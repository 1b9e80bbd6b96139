-- model: stream_sessions
-- inputs: stg_streams, stg_manifests, int_snapshot_channels, stream_session_games,
--   calendar, run_days, run_params
-- output: table stream_sessions (serving): a streamer's schedule
-- grain: one row per broadcast (stream_id), from its Helix started_at to its last snapshot
-- units: duration_minutes (started_at to last snapshot, minutes); airtime_minutes
--   (snapshots × interval, minutes); peak_viewers, avg_viewers (viewers, average over the
--   broadcast's snapshots); viewer_hours (Σ viewer_count × interval, viewer-hours);
--   peak_chatters, avg_chatters (people in chat: computed from the chat's published curve,
--   int_snapshot_channels.published_chatters, its hourly noisy people, so they spend no
--   budget of their own and agree with the channel page; peak: the highest published
--   value over the broadcast's snapshots read; average: over those snapshots, null when
--   any of them is under k; null when never read),
--   from `signal`: 'chat_list' when the broadcast's chat list was read at least once,
--   else 'chat_activity' (accounts that posted in a 5-minute window), else null;
--   cut_at_start (it started more than one interval before its first snapshot and no
--   snapshot was taken at the grid time before: collection had not begun or was paused);
--   cut_at_end (no snapshot was taken at the grid time after its last one: it may still
--   have been live); coverage (its snapshots / the grid times from its start to its last
--   snapshot, 0..1); complete (neither cut: start, end and figures rest on the whole
--   broadcast)
-- portability: string_agg(x, sep order by y) is DuckDB's spelling; Spark SQL 4 writes
--   listagg(x, sep) within group (order by y)
-- incremental by broadcast: the broadcasts with a stream fact on a run day, or at the
--   grid time just before one (whose cut_at_end the run day's first snapshot decides),
--   are rebuilt from all their stream facts (a broadcast across midnight spans two loads)
-- materialized: incremental
-- unique_key: stream_id

with day_starts as (

    select calendar.day_number * params.snapshots_per_day as first_slot
    from calendar
    cross join run_params as params
    where calendar.day in (select day from run_days)

),

touched as (

    select distinct stream_id from stg_streams
    where
        day in (select day from run_days)
        or slot in (select first_slot - 1 from day_starts)

),

snapshots as (

    select * from stg_streams
    where stream_id in (select stream_id from touched)

),

chats as (

    select slot, channel_id, signal, published_chatters as chatters
    from int_snapshot_channels
    where
        presence_read
        and stream_id in (select stream_id from touched)

),

games as (

    select * from stream_session_games
    where stream_id in (select stream_id from touched)

),

params as (

    select * from run_params

),

manifests as (

    select * from stg_manifests

),

taken as (

    select distinct slot from stg_streams
    union
    select slot from manifests

),

broadcasts as (

    select
        stream_id,
        min(channel_id) as channel_id,
        min(started_at) as started_at,
        min(started_epoch) as started_epoch,
        max(snapshot_ts) as ended_at,
        max(snapshot_epoch) as ended_epoch,
        min(slot) as first_slot,
        max(slot) as last_slot,
        count(*) as snapshots,
        max(viewer_count) as peak_viewers,
        sum(viewer_count) as viewer_sum
    from snapshots
    group by stream_id

),

window_cuts as (

    select
        broadcasts.stream_id,
        broadcasts.first_slot * params.interval_minutes * 60 - broadcasts.started_epoch
        > params.interval_minutes * 60
        and before.slot is null as cut_at_start,
        after.slot is null as cut_at_end,
        -- grid times from the first at or after the start to the last snapshot
        broadcasts.last_slot
        - least(
            broadcasts.first_slot,
            cast(ceil(broadcasts.started_epoch / (params.interval_minutes * 60.0)) as bigint)
        )
        + 1 as grid_times
    from broadcasts
    cross join params
    left join taken as before on broadcasts.first_slot - 1 = before.slot
    left join taken as after on broadcasts.last_slot + 1 = after.slot

),

titled as (

    select
        stream_id,
        title,
        lag(title) over (partition by stream_id order by slot) as previous_title
    from snapshots

),

title_changes as (

    select
        stream_id,
        sum(case when previous_title is not null and title <> previous_title then 1 else 0 end)
            as title_changes
    from titled
    group by stream_id

),

ranked_snapshots as (

    select
        stream_id,
        channel_login,
        channel_name,
        title,
        row_number() over (partition by stream_id order by slot desc) as recency
    from snapshots

),

latest as (

    select * from ranked_snapshots where recency = 1

),

signal_stats as (

    select
        snapshots.stream_id,
        chats.signal,
        max(chats.chatters) as peak_chatters,
        sum(chats.chatters) as chatter_sum,
        count(chats.chatters) as published_snapshots,
        count(*) as chatter_snapshots
    from snapshots
    inner join chats on snapshots.slot = chats.slot and snapshots.channel_id = chats.channel_id
    group by snapshots.stream_id, chats.signal

),

chosen_signals as (

    select
        stream_id,
        case
            when max(case when signal = 'chat_list' then 1 else 0 end) = 1 then 'chat_list'
            else 'chat_activity'
        end as signal
    from signal_stats
    group by stream_id

),

chatter_stats as (

    select signal_stats.*
    from signal_stats
    inner join chosen_signals
        on
            signal_stats.stream_id = chosen_signals.stream_id
            and signal_stats.signal = chosen_signals.signal

),

game_lists as (

    select
        stream_id,
        count(*) as game_count,
        string_agg(
            game_name || ' (' || cast(minutes as string) || ' min)', ', '
            order by first_seen, game_id
        ) as games
    from games
    group by stream_id

),

ranked_games as (

    select
        stream_id,
        game_name,
        row_number() over (partition by stream_id order by minutes desc, first_seen, game_id)
            as position
    from games

),

final as (

    select
        cast(broadcasts.started_at as date) as day,
        broadcasts.stream_id,
        broadcasts.channel_id,
        latest.channel_login,
        latest.channel_name,
        broadcasts.started_at,
        broadcasts.ended_at,
        cast(round((broadcasts.ended_epoch - broadcasts.started_epoch) / 60.0) as integer)
            as duration_minutes,
        cast(broadcasts.snapshots as integer) as snapshots,
        cast(broadcasts.snapshots * params.interval_minutes as integer) as airtime_minutes,
        broadcasts.peak_viewers,
        round(cast(broadcasts.viewer_sum as double) / broadcasts.snapshots, 2) as avg_viewers,
        round(cast(broadcasts.viewer_sum * params.interval_minutes as double) / 60, 4)
            as viewer_hours,
        ranked_games.game_name as main_game,
        cast(game_lists.game_count as integer) as game_count,
        game_lists.games,
        cast(title_changes.title_changes as integer) as title_changes,
        latest.title as last_title,
        chatter_stats.signal,
        chatter_stats.peak_chatters,
        case
            when chatter_stats.published_snapshots = chatter_stats.chatter_snapshots
                then
                    round(
                        cast(chatter_stats.chatter_sum as double)
                        / chatter_stats.chatter_snapshots,
                        2
                    )
        end as avg_chatters,
        window_cuts.cut_at_start,
        window_cuts.cut_at_end,
        round(least(1.0, cast(broadcasts.snapshots as double) / window_cuts.grid_times), 4)
            as coverage,
        not window_cuts.cut_at_start and not window_cuts.cut_at_end as complete
    from broadcasts
    inner join window_cuts on broadcasts.stream_id = window_cuts.stream_id
    inner join latest on broadcasts.stream_id = latest.stream_id
    inner join title_changes on broadcasts.stream_id = title_changes.stream_id
    inner join game_lists on broadcasts.stream_id = game_lists.stream_id
    inner join ranked_games
        on broadcasts.stream_id = ranked_games.stream_id and ranked_games.position = 1
    left join chatter_stats on broadcasts.stream_id = chatter_stats.stream_id
    cross join params

)

select * from final
