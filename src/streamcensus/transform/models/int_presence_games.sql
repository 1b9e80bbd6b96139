-- model: int_presence_games
-- inputs: stg_presence, stg_streams
-- output: temporary table int_presence_games (internal, the run's days only), computed by
--   the loader's presence pass when it ran (transform/presence.py)
-- grain: one row per signal, snapshot and game with presence (signal, slot, game_id)
-- units: chatters (distinct accounts in the chats of that game's live channels)
-- materialized: temp

with presence as (

    select * from stg_presence

),

streams as (

    select * from stg_streams

),

final as (

    select
        presence.day,
        presence.signal,
        streams.slot,
        streams.game_id,
        cast(count(distinct presence.viewer) as bigint) as chatters
    from presence
    inner join streams
        on presence.slot = streams.slot and presence.channel_id = streams.channel_id
    group by presence.day, presence.signal, streams.slot, streams.game_id

)

select * from final
