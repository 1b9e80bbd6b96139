-- check: one row per day, window, kind, subject, measure and signal; ranges; published
--   chatters at least k (in rankings and in ranking_chatters)
with params as (

    select * from run_params

)

select rankings.day, rankings.subject_id, 'invalid' as problem
from rankings
cross join params
where
    rankings.window_days not in (1, 7, 30)
    or rankings.kind not in ('channels', 'games')
    or rankings.value < 0
    or rankings.previous_value < 0
    or rankings.days_covered > rankings.window_days
    or rankings.previous_days_covered > rankings.window_days
    or (rankings.measure = 'chatters' and rankings.value < params.k)
    or (rankings.measure = 'chatters' and rankings.previous_value < params.k)
    or (rankings.measure = 'chatters' and rankings.signal is null)
    or (rankings.measure <> 'chatters' and rankings.signal is not null)
    or (rankings.value is null and rankings.rank is not null)

union all

select ranking_chatters.day, ranking_chatters.subject_id, 'under k' as problem
from ranking_chatters
cross join params
where ranking_chatters.chatters < params.k

union all

select day, subject_id, 'duplicate' as problem
from rankings
group by day, window_days, kind, subject_id, measure, signal
having count(*) > 1

union all

select day, game_id as subject_id, 'invalid game' as problem
from game_day
where peak_viewers < avg_viewers or airtime_hours < live_hours or viewer_hours < 0
