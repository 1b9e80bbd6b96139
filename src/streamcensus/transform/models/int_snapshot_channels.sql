-- model: int_snapshot_channels
-- inputs: stg_streams, stg_chat_coverage, int_presence_channels, int_presence_people,
--   loaded_files, run_days
-- output: table int_snapshot_channels (internal: per-chat counts are not published as is)
-- grain: one row per snapshot, live channel and signal (slot, channel_id, signal)
-- units: viewer_count (viewers, from Helix); chatters, known_bot_chatters,
--   multi_chat_chatters (accounts in the chat list, or that posted in the window ending
--   at the snapshot; null when that signal was not read)
-- presence_status: chat_list: the stream fact's chatters_status (ok, forbidden, error,
--   offline, missing); chat_activity: the window's coverage status (complete, partial,
--   not_joined, suspended, missing), 'not_listed' when the snapshot has coverage but not
--   for this channel (listed after the window began), 'not_collected' when the snapshot
--   has no chat coverage at all (chat activity off)
-- raw_people (helper, dropped by transform/protect.py): the people the chat's curve counts
--   at the snapshot (int_presence_people: accounts int_bots flags left out, each person in
--   the chats she counts in that day), null when the signal was not read
-- published_chatters (added after the query by transform/protect.py): the chat's people
--   per snapshot read, averaged over the hour of the snapshot (the same value for every
--   snapshot of that hour: one figure per chat, hour and signal), noisy, rounded and null
--   under k: the only count of this table the API reads, and what stream_sessions' peak
--   and average people are computed from
-- presence_read: the signal was read (counts known); presence_missed: it was tried and
--   not obtained in full (counts low: the channel-day's figures are not complete)
-- materialized: incremental

with streams as (

    select * from stg_streams
    where day in (select day from run_days)

),

coverage as (

    select * from stg_chat_coverage
    where day in (select day from run_days)

),

coverage_loaded as (

    select distinct snapshot_id from loaded_files
    where kind = 'chat_coverage'

),

chat_counts as (

    select * from int_presence_channels

),

people as (

    select signal, slot, channel_id, people
    from int_presence_people

),

statuses as (

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
        'chat_list' as signal,
        streams.chatters_status as presence_status
    from streams

    union all

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
        'chat_activity' as signal,
        case
            when coverage.status is not null then coverage.status
            when streams.snapshot_id in (select snapshot_id from coverage_loaded)
                then 'not_listed'
            else 'not_collected'
        end as presence_status
    from streams
    left join coverage
        on streams.slot = coverage.slot and streams.channel_id = coverage.channel_id

),

flagged as (

    select
        statuses.*,
        statuses.presence_status in ('ok', 'complete', 'partial') as presence_read,
        statuses.presence_status in ('error', 'missing', 'partial', 'not_joined')
            as presence_missed
    from statuses

),

final as (

    select
        flagged.day,
        flagged.slot,
        flagged.snapshot_id,
        flagged.snapshot_ts,
        flagged.channel_id,
        flagged.signal,
        flagged.stream_id,
        flagged.game_id,
        flagged.game_name,
        flagged.viewer_count,
        flagged.presence_status,
        flagged.presence_read,
        flagged.presence_missed,
        case
            when flagged.presence_read then cast(coalesce(chat_counts.chatters, 0) as bigint)
        end as chatters,
        case
            when flagged.presence_read
                then cast(coalesce(chat_counts.known_bot_chatters, 0) as bigint)
        end as known_bot_chatters,
        case
            when flagged.presence_read
                then cast(coalesce(chat_counts.multi_chat_chatters, 0) as bigint)
        end as multi_chat_chatters,
        case
            when flagged.presence_read then cast(coalesce(people.people, 0) as bigint)
        end as raw_people
    from flagged
    left join chat_counts
        on
            flagged.slot = chat_counts.slot
            and flagged.channel_id = chat_counts.channel_id
            and flagged.signal = chat_counts.signal
    left join people
        on
            flagged.slot = people.slot
            and flagged.channel_id = people.channel_id
            and flagged.signal = people.signal

)

select * from final
