-- check: one row per broadcast and game, with positive minutes
select stream_id, game_id, count(*) as copies, min(minutes) as minutes
from stream_session_games
group by stream_id, game_id
having count(*) > 1 or min(minutes) <= 0
