-- check: grounds and token states take known values; one row per key
select day, channel_id, 'invalid ground' as problem
from chat_list_grounds
where ground not in ('consent', 'moderation') or snapshots < 1

union all

select day, channel_id, 'duplicate ground' as problem
from chat_list_grounds
group by day, channel_id, ground
having count(*) > 1

union all

select day, reader_login, 'invalid reader' as problem
from chat_list_readers
where
    snapshots_unusable > snapshots
    or tripped <> (snapshots_unusable > 0)
    or state not in ('ok', 'unusable')

union all

select day, reader_login, 'duplicate reader' as problem
from chat_list_readers
group by day, reader_login, ground
having count(*) > 1
