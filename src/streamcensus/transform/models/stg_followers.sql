-- model: stg_followers
-- inputs: raw_followers (follower totals read every hour on the grid, from
--   lake/raw/followers)
-- output: temporary view stg_followers
-- grain: one row per hourly reading and channel (snapshot_id, channel_id)
-- units: followers_total (accounts following the channel, as Helix reports the total: a
--   public per-channel figure, not a count of viewers, so k does not apply)
-- materialized: view

with source as (

    select * from raw_followers

),

final as (

    select
        day,
        slot,
        snapshot_id,
        snapshot_ts,
        channel_id,
        followers_total
    from source

)

select * from final
