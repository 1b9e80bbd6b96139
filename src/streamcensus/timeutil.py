"""Timezone-aware UTC helpers and the census grid: the only place that builds datetimes
from clocks or text, and the one home of the snapshot interval."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC
GRID_SECONDS = 300  # the census runs on a 5-minute grid: the snapshot interval
GRID_MINUTES = GRID_SECONDS // 60
SNAPSHOTS_PER_DAY = 86_400 // GRID_SECONDS


def utcnow() -> dt.datetime:
    """The wall-clock time, aware, in UTC."""
    return dt.datetime.now(UTC)


def from_epoch(seconds: float) -> dt.datetime:
    """An aware UTC datetime from epoch seconds."""
    return dt.datetime.fromtimestamp(seconds, UTC)


def to_epoch(moment: dt.datetime) -> float:
    """Epoch seconds of an aware datetime; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: streamcensus only handles timezone-aware UTC times")
    return moment.timestamp()


def parse_utc(text: str) -> dt.datetime:
    """Parse an ISO-8601 time (`Z` or offset; a bare time is taken as UTC) into aware UTC."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_day(text: str) -> dt.date:
    """Parse a `YYYY-MM-DD` day, with an error that says what was expected."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a day: {text!r} (expected YYYY-MM-DD)") from None


def isoformat_z(moment: dt.datetime) -> str:
    """RFC 3339 with a `Z` suffix and whole seconds, as Twitch writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_to_grid(moment: dt.datetime, step: int = GRID_SECONDS) -> dt.datetime:
    """The grid time at or before `moment` (5-minute grid by default)."""
    epoch = int(to_epoch(moment))
    return from_epoch(epoch - epoch % step)


def next_grid(moment: dt.datetime, step: int = GRID_SECONDS) -> dt.datetime:
    """The first grid time strictly after `moment`."""
    return floor_to_grid(moment, step) + dt.timedelta(seconds=step)


def day_start(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of `day`."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def grid_slot(moment: dt.datetime) -> int:
    """The grid index of `moment`: whole intervals since 1970-01-01 UTC (the models' `slot`)."""
    return int(to_epoch(moment)) // GRID_SECONDS


def grid_times(first_day: dt.date, hours: float) -> list[dt.datetime]:
    """The grid times from midnight UTC of `first_day`, over `hours`."""
    start = day_start(first_day)
    count = int(hours * 3600 // GRID_SECONDS)
    return [start + dt.timedelta(seconds=GRID_SECONDS * i) for i in range(count)]
