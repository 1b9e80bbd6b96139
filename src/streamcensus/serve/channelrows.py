"""The channel page's and search's queries over a `SliceReader` (the per-channel tables of
`channelstore.py`), in Python: each function returns the rows its warehouse query in
`channels.py`, `community.py` or `followers.py` returns (same columns, values and order:
`tests/serve/test_channelstore.py` compares the answers byte for byte).

A channel's rows are tens to hundreds: filtering and sorting them here costs less than a
SQL query's planning. Orders follow DuckDB's: strings by code point (UTF-8 bytes), NULLs
last in ascending and descending order alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from streamcensus.serve.channelstore import SliceReader
from streamcensus.timeutil import UTC

Row = dict[str, Any]


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _nulls_last(value: Any, descending: bool = False) -> tuple[bool, Any]:
    """A sort key part: NULLs last; `descending` for a number (negated)."""
    if value is None:
        return (True, 0)
    return (False, -value if descending else value)


def _sorted(
    rows: list[Row], key: Callable[[Row], tuple[Any, ...]], limit: int | None = None
) -> list[Row]:
    ordered = sorted(rows, key=key)  # stable: ties keep the table's order
    return ordered if limit is None else ordered[:limit]


def search(reader: SliceReader, prefix: str, limit: int) -> list[Row]:
    """`channels.search`'s rows: logins or names starting with `prefix` (lower-cased)."""
    found = [
        r
        for r in reader.table("channel_names")
        if (r["login_lower"] is not None and r["login_lower"].startswith(prefix))
        or (r["name_lower"] is not None and r["name_lower"].startswith(prefix))
    ]
    return _sorted(
        found,
        lambda r: (
            r["login_lower"] != prefix,
            _nulls_last(r["viewer_hours"], descending=True),
            _nulls_last(r["channel_login"]),
        ),
        limit,
    )


def _arg_max(rows: list[Row], column: str) -> Any:
    """DuckDB's `arg_max(column, day)`: the value of the latest day where it is not NULL
    (one row per channel and day)."""
    present = [r for r in rows if r[column] is not None]
    return max(present, key=lambda r: r["day"])[column] if present else None


def find_channel(reader: SliceReader) -> list[Row]:
    """`channels.find_channel`'s row: the channel (by id) of the login's rows seen last."""
    groups: dict[str, list[Row]] = {}
    for r in reader.table("channel_logins"):
        groups.setdefault(r["channel_id"], []).append(r)
    found = []
    for channel_id, rows in groups.items():
        found.append(
            {
                "channel_id": channel_id,
                "channel_login": _arg_max(rows, "channel_login"),
                "channel_name": _arg_max(rows, "channel_name"),
                "first_day": min(r["day"] for r in rows),
                "last_day": max(r["day"] for r in rows),
            }
        )
    return _sorted(found, lambda r: (-r["last_day"].toordinal(), r["channel_id"]), 1)


def broadcasts(reader: SliceReader, start: dt.datetime, end: dt.datetime, limit: int) -> list[Row]:
    """`channels.channel_view`'s broadcasts: those overlapping [start, end), by start."""
    rows = [
        r
        for r in reader.table("stream_sessions")
        if _aware(r["started_at"]) < end and _aware(r["ended_at"]) >= start
    ]
    return _sorted(rows, lambda r: (_aware(r["started_at"]),), limit)


def broadcast_games(
    reader: SliceReader, first: dt.date, last: dt.date, ids: list[str]
) -> list[Row]:
    """`community.broadcast_games`'s rows for one channel's broadcasts."""
    wanted = set(ids)
    rows = [
        r
        for r in reader.table("stream_session_games")
        if first <= r["day"] <= last and r["stream_id"] in wanted
    ]
    return _sorted(
        rows,
        lambda r: (r["stream_id"], _aware(r["first_seen"]), _nulls_last(r["game_id"])),
    )


def snapshots(reader: SliceReader, day: dt.date) -> list[Row]:
    """The channel's `int_snapshot_channels` rows of `day`, by snapshot."""
    return _sorted(reader.table("int_snapshot_channels", day=day), lambda r: (r["snapshot_ts"],))


def days(reader: SliceReader, first: dt.date, last: dt.date) -> list[Row]:
    """The channel's `channel_day` rows from `first` to `last`, by day."""
    return [r for r in reader.table("channel_day") if first <= r["day"] <= last]


def overlaps(reader: SliceReader, day: dt.date, window: int) -> list[Row]:
    """The channel's overlap pairs of `day` and `window` (this side first)."""
    return reader.table("channel_overlap", day=day, window_days=window)


def neighbours(rows: list[Row], signal: str, limit: int) -> list[Row]:
    """`channels._neighbours`'s rows: one signal, strongest first."""
    return _sorted(
        [r for r in rows if r["signal"] == signal],
        lambda r: (
            _nulls_last(r["jaccard"], descending=True),
            _nulls_last(r["shared_chatters"], descending=True),
            _nulls_last(r["other"]),
        ),
        limit,
    )


def followers(reader: SliceReader, first: dt.date, last: dt.date) -> tuple[list[Row], list[Row]]:
    """`followers.channel_followers`'s rows: the hourly curve and the days."""
    curve = [r for r in reader.table("channel_followers_hourly") if first <= r["day"] <= last]
    per_day = [r for r in reader.table("channel_followers") if first <= r["day"] <= last]
    return _sorted(curve, lambda r: (r["snapshot_ts"],)), per_day
