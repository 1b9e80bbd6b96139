-- model: stream_session_games
-- inputs: stg_streams, run_days, run_params
-- output: table stream_session_games (serving)
-- grain: one row per broadcast and game played (stream_id, game_id)
-- units: minutes (snapshots in that game × the snapshot interval, minutes)
-- incremental by broadcast: the broadcasts with a stream fact on a run day are rebuilt
--   from all their stream facts (a broadcast across midnight spans two loads)
-- materialized: incremental
-- unique_key: stream_id

with touched as (

    select distinct stream_id from stg_streams
    where day in (select day from run_days)

),

snapshots as (

    select * from stg_streams
    where stream_id in (select stream_id from touched)

),

params as (

    select * from run_params

),

broadcasts as (

    select stream_id, cast(min(started_at) as date) as day, min(channel_id) as channel_id
    from snapshots
    group by stream_id

),

games as (

    select
        stream_id,
        game_id,
        max(game_name) as game_name,
        min(snapshot_ts) as first_seen,
        count(*) as snapshots
    from snapshots
    group by stream_id, game_id

),

final as (

    select
        broadcasts.day,
        games.stream_id,
        broadcasts.channel_id,
        games.game_id,
        games.game_name,
        games.first_seen,
        cast(games.snapshots as integer) as snapshots,
        cast(games.snapshots * params.interval_minutes as integer) as minutes
    from games
    inner join broadcasts on games.stream_id = broadcasts.stream_id
    cross join params

)

select * from final
