"""Read-only access to the warehouse: one short-lived connection per request.

The dashboard never keeps the warehouse open, so `streamcensus load` (another process)
can take its write lock between requests. A missing warehouse reads as empty; one that
cannot be opened right now (a load holds it) raises `WarehouseBusy`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from streamcensus.timeutil import UTC, isoformat_z


class WarehouseBusy(Exception):
    """The warehouse exists but cannot be opened read-only now."""


class Reader:
    """Queries over one read-only connection (or over nothing, for a missing warehouse)."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None) -> None:
        self.con = con
        self._tables: set[str] | None = None

    @property
    def tables(self) -> set[str]:
        """Names of the warehouse's tables (empty when there is no warehouse)."""
        if self._tables is None:
            if self.con is None:
                self._tables = set()
            else:
                rows = self.con.execute(
                    "select table_name from information_schema.tables"
                ).fetchall()
                self._tables = {str(r[0]) for r in rows}
        return self._tables

    def has(self, *tables: str) -> bool:
        """True if every table exists."""
        return all(t in self.tables for t in tables)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a query as dicts (no rows without a warehouse)."""
        if self.con is None:
            return []
        result = self.con.execute(sql, list(params))
        names = [d[0] for d in result.description or []]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        rows = self.rows(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def loaded_days(self) -> list[dt.date]:
        """UTC days the warehouse has serving rows for, oldest first."""
        if self.has("pipeline_health"):
            rows = self.rows("select distinct day from pipeline_health order by day")
        elif self.has("community_timeseries"):
            rows = self.rows("select distinct day from community_timeseries order by day")
        else:
            return []
        return [r["day"] for r in rows]


@contextlib.contextmanager
def open_reader(path: Path) -> Iterator[Reader]:
    """A `Reader` on the warehouse at `path`, closed on exit."""
    if not path.is_file():
        yield Reader(None)
        return
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseBusy(first) from None
    try:
        con.execute("set TimeZone = 'UTC'")
        yield Reader(con)
    finally:
        con.close()


def ts(moment: dt.datetime) -> str:
    """A warehouse timestamp as RFC 3339 UTC text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return isoformat_z(moment)


def day_bounds(first: dt.date, last: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[midnight of `first`, midnight after `last`) as aware UTC datetimes."""
    end = (last or first) + dt.timedelta(days=1)
    return (
        dt.datetime(first.year, first.month, first.day, tzinfo=UTC),
        dt.datetime(end.year, end.month, end.day, tzinfo=UTC),
    )


def num(value: Any, digits: int = 4) -> float:
    """A float rounded for display (None and NaN read as 0)."""
    if value is None:
        return 0.0
    number = float(value)
    return round(number, digits) if number == number else 0.0


def opt(value: Any, digits: int = 4) -> float | None:
    """A nullable float rounded for display."""
    return None if value is None else num(value, digits)


def people(value: Any, k: int) -> int | None:
    """A count of people, or None when under k (P3)."""
    if value is None:
        return None
    count = int(value)
    return count if count >= k else None
