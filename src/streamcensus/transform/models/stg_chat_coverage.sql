-- model: stg_chat_coverage
-- inputs: raw_chat_coverage (how much of each 5-minute window every listed channel's chat
--   was read, from lake/raw/chat_coverage), loaded_files
-- status 'complete' or 'partial' becomes 'missing' when the snapshot's chat_activity file
--   was not loaded (quarantined, or lost with a killed collector): the chat was read but
--   who posted is unknown
-- output: temporary view stg_chat_coverage
-- grain: one row per window and channel (snapshot_id, channel_id); no viewer data
-- units: seconds_joined (seconds of the window the chat was joined, 0..300); usernotices,
--   clearchats, notices, malformed_lines (lines)
-- materialized: view

with source as (

    select * from raw_chat_coverage

),

activity_loaded as (

    select distinct snapshot_id from loaded_files
    where kind = 'chat_activity'

),

final as (

    select
        day,
        slot,
        snapshot_id,
        snapshot_ts,
        channel_id,
        seconds_joined,
        case
            when
                source.status in ('complete', 'partial')
                and source.snapshot_id not in (select snapshot_id from activity_loaded)
                then 'missing'
            else source.status
        end as status,
        usernotices,
        clearchats,
        notices,
        malformed_lines
    from source

)

select * from final
