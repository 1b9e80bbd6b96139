"""Whose chat lists were read, on what ground, and how the tokens that read them fared.

Two Python models over the manifests' `chat_list_grounds` (channel id → `consent` or
`moderation`) and `chat_list_readers` (each user token: its user, ground, channels served
and read, state and reason), which the warehouse keeps as JSON text. They are parsed here,
in Python, rather than with an engine's JSON functions, so the models read the same on
every engine.

- `chat_list_grounds`: one row per day, channel and ground: the snapshots whose chat list
  was read on that ground. Channels only: a broadcaster is public, and no viewer data is
  involved.
- `chat_list_readers`: one row per day and user token (its user is the operator or a
  consenting broadcaster, never a viewer): snapshots seen, whether its breaker tripped,
  why, when first, and how many listed channels it could then not read.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from streamcensus.transform.context import RunContext
from streamcensus.transform.engines import Queries

INPUTS = ("stg_manifests", "stg_streams", "run_days")
GROUNDS_GRAIN = "one row per day, channel and ground (day, channel_id, ground)"
READERS_GRAIN = "one row per day, token user and ground (day, reader_login, ground)"

STAMP = pa.timestamp("s", tz="UTC")
GROUNDS_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("channel_id", pa.string()),
        pa.field("channel_login", pa.string()),
        pa.field("channel_name", pa.string()),
        pa.field("ground", pa.string()),
        pa.field("snapshots", pa.int32()),
        pa.field("first_read", STAMP),
        pa.field("last_read", STAMP),
    ]
)
READERS_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("reader_login", pa.string()),
        pa.field("ground", pa.string()),
        pa.field("snapshots", pa.int32()),
        pa.field("snapshots_unusable", pa.int32()),
        pa.field("tripped", pa.bool_()),
        pa.field("state", pa.string()),  # at the day's last snapshot: ok or unusable
        pa.field("reason", pa.string()),  # why it became unusable (the latest reason)
        pa.field("tripped_at", STAMP),  # the first snapshot it was unusable in
        pa.field("channels_listed", pa.int32()),  # most listed channels it served
        pa.field("channels_read", pa.int32()),  # most chat lists it read in one snapshot
        pa.field("channels_affected", pa.int32()),  # most it served while unusable
    ]
)


def _manifests(q: Queries, column: str) -> list[tuple[dt.date, dt.datetime, Any]]:
    rows = q.rows(
        f"select day, grid_time, {column} from stg_manifests "
        "where day in (select day from run_days) order by grid_time"
    )
    return [(r[0], r[1], json.loads(r[2]) if r[2] else None) for r in rows]


def _names(q: Queries) -> dict[tuple[dt.date, str], tuple[str, str]]:
    rows = q.rows(
        "select day, channel_id, channel_login, channel_name from ("
        "select day, channel_id, channel_login, channel_name, row_number() over "
        "(partition by day, channel_id order by slot desc) as recency from stg_streams "
        "where day in (select day from run_days)) as q where recency = 1"
    )
    return {(r[0], str(r[1])): (str(r[2]), str(r[3])) for r in rows}


def build_grounds(q: Queries, ctx: RunContext) -> pa.Table:
    """Rows of `chat_list_grounds` for the run's days."""
    found: dict[tuple[dt.date, str, str], list[dt.datetime]] = {}
    for day, moment, grounds in _manifests(q, "chat_list_grounds_json"):
        for channel, ground in (grounds or {}).items():
            found.setdefault((day, str(channel), str(ground)), []).append(moment)
    names = _names(q)
    rows = [
        {
            "day": day,
            "channel_id": channel,
            "channel_login": names.get((day, channel), (None, None))[0],
            "channel_name": names.get((day, channel), (None, None))[1],
            "ground": ground,
            "snapshots": len(moments),
            "first_read": min(moments),
            "last_read": max(moments),
        }
        for (day, channel, ground), moments in sorted(found.items())
    ]
    return pa.Table.from_pylist(rows, schema=GROUNDS_SCHEMA)


@dataclass
class _Reader:
    snapshots: int = 0
    unusable: int = 0
    state: str = "ok"
    reason: str = ""
    tripped_at: dt.datetime | None = None
    listed: int = 0
    read: int = 0
    affected: int = 0


def build_readers(q: Queries, ctx: RunContext) -> pa.Table:
    """Rows of `chat_list_readers` for the run's days."""
    found: dict[tuple[dt.date, str, str], _Reader] = {}
    for day, moment, readers in _manifests(q, "chat_list_readers_json"):
        for entry in readers or []:
            key = (day, str(entry.get("login", "")), str(entry.get("ground", "")))
            reader = found.setdefault(key, _Reader())
            reader.snapshots += 1
            reader.state = str(entry.get("state", "ok"))
            listed = int(entry.get("channels_listed", 0))
            reader.listed = max(reader.listed, listed)
            reader.read = max(reader.read, int(entry.get("channels_read", 0)))
            if reader.state != "ok":
                reader.unusable += 1
                reader.affected = max(reader.affected, listed)
                reader.tripped_at = reader.tripped_at or moment
                reader.reason = str(entry.get("reason", "")) or reader.reason
    rows = [
        {
            "day": day,
            "reader_login": login,
            "ground": ground,
            "snapshots": r.snapshots,
            "snapshots_unusable": r.unusable,
            "tripped": r.unusable > 0,
            "state": r.state,
            "reason": r.reason,
            "tripped_at": r.tripped_at,
            "channels_listed": r.listed,
            "channels_read": r.read,
            "channels_affected": r.affected,
        }
        for (day, login, ground), r in sorted(found.items())
    ]
    return pa.Table.from_pylist(rows, schema=READERS_SCHEMA)
