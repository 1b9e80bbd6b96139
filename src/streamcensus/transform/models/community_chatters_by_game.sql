-- model: community_chatters_by_game
-- inputs: stg_streams, int_presence_games, int_bot_presence, run_days, run_params
-- output: table community_chatters_by_game (serving)
-- grain: one row per snapshot, signal and game with presence (snapshot_id, signal, game_id).
--   signal: 'chat_list' (people in the chat lists read) or 'chat_activity' (people who
--   posted in the window ending at the snapshot)
-- units: chatters (distinct people in that game's chats: accounts, less those int_bots
--   flags as bots that day; published noisy and null under k, transform/protect.py: this
--   query gives the exact count)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

game_chatters as (

    select * from int_presence_games

),

bot_presence as (

    select * from int_bot_presence

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

game_bots as (

    select bot_presence.signal, bot_presence.slot, streams.game_id,
        count(distinct bot_presence.viewer) as bots
    from bot_presence
    inner join streams
        on bot_presence.slot = streams.slot and bot_presence.channel_id = streams.channel_id
    group by bot_presence.signal, bot_presence.slot, streams.game_id

),

final as (

    select
        snapshots.day,
        snapshots.snapshot_id,
        snapshots.snapshot_ts,
        game_chatters.signal,
        game_chatters.game_id,
        games.game_name,
        cast(game_chatters.chatters - coalesce(game_bots.bots, 0) as bigint) as chatters
    from game_chatters
    inner join snapshots on game_chatters.slot = snapshots.slot
    inner join games on game_chatters.slot = games.slot and game_chatters.game_id = games.game_id
    left join game_bots
        on
            game_chatters.signal = game_bots.signal
            and game_chatters.slot = game_bots.slot
            and game_chatters.game_id = game_bots.game_id
    cross join params

)

select * from final
