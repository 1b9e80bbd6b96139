-- model: community_chatters_by_game
-- inputs: stg_streams, int_presence_games, run_days, run_params
-- output: table community_chatters_by_game (serving)
-- grain: one row per snapshot, signal and game with presence (snapshot_id, signal, game_id).
--   signal: 'chat_list' (people in the chat lists read) or 'chat_activity' (people who
--   posted in the window ending at the snapshot)
-- units: chatters (distinct accounts in that game's chats, null under k)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

game_chatters as (

    select * from int_presence_games

),

params as (

    select * from run_params

),

snapshots as (

    select distinct day, slot, snapshot_id, snapshot_ts from streams

),

games as (

    select slot, game_id, max(game_name) as game_name
    from streams
    group by slot, game_id

),

final as (

    select
        snapshots.day,
        snapshots.snapshot_id,
        snapshots.snapshot_ts,
        game_chatters.signal,
        game_chatters.game_id,
        games.game_name,
        case
            when game_chatters.chatters >= params.k then cast(game_chatters.chatters as bigint)
        end as chatters
    from game_chatters
    inner join snapshots on game_chatters.slot = snapshots.slot
    inner join games on game_chatters.slot = games.slot and game_chatters.game_id = games.game_id
    cross join params

)

select * from final
