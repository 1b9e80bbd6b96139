-- model: int_snapshot_channels
-- inputs: stg_streams, int_presence_channels, run_days
-- output: table int_snapshot_channels (internal: per-chat counts are not published as is)
-- grain: one row per snapshot and live channel (slot, channel_id)
-- units: viewer_count (viewers, from Helix); chatters, known_bot_chatters,
--   multi_chat_chatters (accounts in the chat list; null when the list was not read)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

chat_counts as (

    select * from int_presence_channels

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
        case
            when streams.chatters_status = 'ok'
                then cast(coalesce(chat_counts.chatters, 0) as bigint)
        end as chatters,
        case
            when streams.chatters_status = 'ok'
                then cast(coalesce(chat_counts.known_bot_chatters, 0) as bigint)
        end as known_bot_chatters,
        case
            when streams.chatters_status = 'ok'
                then cast(coalesce(chat_counts.multi_chat_chatters, 0) as bigint)
        end as multi_chat_chatters
    from streams
    left join chat_counts
        on streams.slot = chat_counts.slot and streams.channel_id = chat_counts.channel_id

)

select * from final
