-- model: community_chatters_by_game
-- inputs: int_snapshot_channels, int_presence_people, run_days
-- output: table community_chatters_by_game (serving)
-- grain: one row per snapshot, signal and game whose chats were read in that signal at
--   that snapshot (snapshot_id, signal, game_id): which rows exist depends on what was
--   live and read, never on who was there. signal: 'chat_list' (people in the chat lists
--   read) or 'chat_activity' (people who posted in the window ending at the snapshot)
-- units: chatters (distinct people in that game's chats at the snapshot: int_presence_people,
--   accounts int_bots flags left out, each person in the chats she counts in that day, so
--   in at most contribution_bound games). Published as the hour's average per snapshot,
--   noisy and null under k (transform/protect.py: one figure per game, hour and signal, the
--   same value on every snapshot of the hour): this query gives the exact count per
--   snapshot
-- materialized: incremental

with snapshots as (

    select * from int_snapshot_channels
    where day in (select day from run_days) and presence_read

),

people as (

    select * from int_presence_people

),

games as (

    select
        day,
        slot,
        snapshot_id,
        snapshot_ts,
        signal,
        game_id,
        max(game_name) as game_name
    from snapshots
    group by day, slot, snapshot_id, snapshot_ts, signal, game_id

),

game_people as (

    select people.signal, people.slot, snapshots.game_id,
        count(distinct people.viewer) as chatters
    from people
    inner join snapshots
        on
            people.slot = snapshots.slot
            and people.channel_id = snapshots.channel_id
            and people.signal = snapshots.signal
    group by people.signal, people.slot, snapshots.game_id

),

final as (

    select
        games.day,
        games.snapshot_id,
        games.snapshot_ts,
        games.signal,
        games.game_id,
        games.game_name,
        cast(coalesce(game_people.chatters, 0) as bigint) as chatters
    from games
    left join game_people
        on
            games.signal = game_people.signal
            and games.slot = game_people.slot
            and games.game_id = game_people.game_id

)

select * from final
