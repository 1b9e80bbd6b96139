-- model: community_chatters_by_game
-- inputs: int_snapshot_channels, int_presence_people, int_presence_shared, run_days
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
--   snapshot: the people of the game's chats summed (int_presence_people), less a person's
--   extra chats of the same game (int_presence_shared)
-- materialized: incremental

with snapshots as (

    select * from int_snapshot_channels
    where day in (select day from run_days) and presence_read

),

people as (

    select * from int_presence_people

),

shared as (

    select * from int_presence_shared

),

chats as (

    select distinct signal, slot, channel_id, game_id from snapshots

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

game_sums as (

    select chats.signal, chats.slot, chats.game_id, sum(people.people) as people
    from people
    inner join chats
        on
            people.slot = chats.slot
            and people.channel_id = chats.channel_id
            and people.signal = chats.signal
    group by chats.signal, chats.slot, chats.game_id

),

repeats as (

    select shared.signal, shared.slot, chats.game_id, shared.viewer, count(*) - 1 as extra
    from shared
    inner join chats
        on
            shared.slot = chats.slot
            and shared.channel_id = chats.channel_id
            and shared.signal = chats.signal
    group by shared.signal, shared.slot, chats.game_id, shared.viewer

),

game_repeats as (

    select signal, slot, game_id, sum(extra) as extra
    from repeats
    group by signal, slot, game_id

),

game_people as (

    select
        game_sums.signal,
        game_sums.slot,
        game_sums.game_id,
        game_sums.people - coalesce(game_repeats.extra, 0) as chatters
    from game_sums
    left join game_repeats
        on
            game_sums.signal = game_repeats.signal
            and game_sums.slot = game_repeats.slot
            and game_sums.game_id = game_repeats.game_id

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
