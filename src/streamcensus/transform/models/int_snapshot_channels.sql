-- model: int_snapshot_channels
-- inputs: stg_streams, stg_presence, run_days, run_params
-- output: table int_snapshot_channels (internal: per-chat counts are not published as is)
-- grain: one row per snapshot and live channel (slot, channel_id)
-- units: viewer_count (viewers, from Helix); chatters, known_bot_chatters,
--   multi_chat_chatters (accounts in the chat list; null when the list was not read)
-- Presence is unique per snapshot, channel and viewer (the collector drops duplicates).
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

presence as (

    select * from stg_presence

),

params as (

    select * from run_params

),

viewer_chats as (

    select slot, viewer, count(*) as chats
    from presence
    group by slot, viewer

),

flagged as (

    select
        presence.slot,
        presence.channel_id,
        presence.viewer,
        presence.is_known_bot,
        viewer_chats.chats
    from presence
    inner join viewer_chats
        on presence.slot = viewer_chats.slot and presence.viewer = viewer_chats.viewer

),

chat_counts as (

    select
        flagged.slot,
        flagged.channel_id,
        count(*) as chatters,
        sum(case when flagged.is_known_bot then 1 else 0 end) as known_bot_chatters,
        sum(
            case
                when not flagged.is_known_bot and flagged.chats >= params.bot_min_chats then 1
                else 0
            end
        ) as multi_chat_chatters
    from flagged
    cross join params
    group by flagged.slot, flagged.channel_id

),

final as (

    select
        streams.day,
        streams.slot,
        streams.snapshot_id,
        streams.snapshot_ts,
        streams.channel_id,
        streams.stream_id,
        streams.game_id,
        streams.game_name,
        streams.viewer_count,
        streams.chatters_status,
        case when streams.chatters_status = 'ok' then coalesce(chat_counts.chatters, 0) end
            as chatters,
        case
            when streams.chatters_status = 'ok' then coalesce(chat_counts.known_bot_chatters, 0)
        end as known_bot_chatters,
        case
            when streams.chatters_status = 'ok' then coalesce(chat_counts.multi_chat_chatters, 0)
        end as multi_chat_chatters
    from streams
    left join chat_counts
        on streams.slot = chat_counts.slot and streams.channel_id = chat_counts.channel_id

)

select * from final
