-- model: channel_followers_hourly
-- inputs: stg_followers, run_days
-- output: table channel_followers_hourly (serving): the follower curve of each channel
-- grain: one row per channel and hourly reading (channel_id, snapshot_ts)
-- units: followers_total (followers, Helix's total: a public per-channel figure, not a
--   count of viewers; k does not apply)
-- materialized: incremental

with readings as (

    select * from stg_followers
    where day in (select day from run_days)

),

final as (

    select
        day,
        channel_id,
        snapshot_ts,
        followers_total
    from readings

)

select * from final
