"""Read-only access to the warehouse, held only while requests are being answered.

The dashboard never keeps the warehouse open for long, so `streamcensus load` (another
process) can take its write lock between bursts of requests. A missing warehouse reads as
empty; one that cannot be opened right now (a load holds it) raises `WarehouseBusy`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from streamcensus.timeutil import UTC, isoformat_z

Version = tuple[int, ...]  # see `warehouse_version`


class WarehouseBusy(Exception):
    """The warehouse exists but cannot be opened read-only now."""


class Reader:
    """Queries over one read-only connection (or over nothing, for a missing warehouse)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection | None,
        tables: set[str] | None = None,
        version: Version | None = None,
        memo: dict[str, Any] | None = None,
    ) -> None:
        self.con = con
        self._tables = tables  # known already (the pool's open instance), or read once
        self.version = version  # of the warehouse files this connection reads (None: none)
        # answers that hold while the instance is open (the loaded days), shared by the
        # requests of one open instance of the pool
        self._memo = {} if memo is None else memo

    @property
    def tables(self) -> set[str]:
        """Names of the warehouse's tables (empty when there is no warehouse)."""
        if self._tables is None:
            self._tables = set() if self.con is None else table_names(self.con)
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
        days: list[dt.date] | None = self._memo.get("loaded_days")
        if days is None:
            if self.has("pipeline_health"):
                rows = self.rows("select distinct day from pipeline_health order by day")
            elif self.has("community_timeseries"):
                rows = self.rows("select distinct day from community_timeseries order by day")
            else:
                rows = []
            days = self._memo["loaded_days"] = [r["day"] for r in rows]
        return list(days)

    def partial_days(self) -> list[dt.date]:
        """Loaded days whose figures are partial: loaded before the day was over."""
        days: list[dt.date] | None = self._memo.get("partial_days")
        if days is None:
            if not self.has("pipeline_health"):
                return []
            rows = self.rows("select day from pipeline_health where not day_complete order by day")
            days = self._memo["partial_days"] = [r["day"] for r in rows]
        return list(days)


def warehouse_version(path: Path) -> Version | None:
    """What changes whenever a load commits to the warehouse at `path`: identity, size and
    modification time of the database file and of its write-ahead log (None: no file).

    A load in another process can only write while no reader holds the file open, so the
    version read when a connection opens holds for as long as that connection is open.
    """
    try:
        main = os.stat(path)
    except FileNotFoundError:
        return None
    try:
        wal = os.stat(f"{path}.wal")
        log: Version = (wal.st_ino, wal.st_size, wal.st_mtime_ns)
    except FileNotFoundError:
        log = ()
    return (main.st_dev, main.st_ino, main.st_size, main.st_mtime_ns, *log)


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views `con` sees."""
    rows = con.execute("select table_name from information_schema.tables").fetchall()
    return {str(r[0]) for r in rows}


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseBusy(first) from None


@contextlib.contextmanager
def open_reader(path: Path) -> Iterator[Reader]:
    """A `Reader` on its own connection to the warehouse at `path`, closed on exit."""
    if not path.is_file():
        yield Reader(None)
        return
    con = _connect(path)
    try:
        con.execute("set TimeZone = 'UTC'")
        yield Reader(con)
    finally:
        con.close()


class ReaderPool:
    """Read-only access shared by concurrent requests, released when idle.

    Opening the database costs tens of milliseconds; requests in a burst share one open
    instance (each gets its own cursor), and the instance is closed `idle_seconds` after
    the last request ends, so a `load` in another process can take the write lock. The
    names of its tables are read once per open instance (a load cannot change them while
    it is open: it needs the write lock), not once per request (2 ms of CPU each).
    """

    def __init__(self, path: Path, idle_seconds: float = 1.0) -> None:
        self.path = path
        self.idle_seconds = idle_seconds
        self._lock = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._tables: set[str] | None = None  # of the open instance
        self._version: Version | None = None  # of the open instance
        self._memo: dict[str, Any] = {}  # of the open instance
        self._users = 0
        self._timer: threading.Timer | None = None
        self._paused = 0

    @contextlib.contextmanager
    def reader(self) -> Iterator[Reader]:
        """A `Reader` for one request."""
        with self._lock:
            if self._paused:
                raise WarehouseBusy("a load is writing the warehouse")
            if self._con is None:
                if not self.path.is_file():
                    con = None
                else:
                    con = self._con = _connect(self.path)
                    self._version = warehouse_version(self.path)
            else:
                con = self._con
            if con is None:
                cursor = None
            else:
                cursor = con.cursor()
                if self._tables is None:
                    self._tables = table_names(cursor)
                tables = self._tables
                version = self._version
                memo = self._memo
                self._users += 1
        if cursor is None:
            yield Reader(None)
            return
        try:
            cursor.execute("set TimeZone = 'UTC'")
            yield Reader(cursor, tables, version, memo)
        finally:
            cursor.close()
            self._release()

    def _release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users:
                return
            self._lock.notify_all()
            if self._timer is not None:
                self._timer.cancel()
            if self.idle_seconds <= 0:
                self._close_locked()
                return
            self._timer = threading.Timer(self.idle_seconds, self._close_if_idle)
            # not a daemon: at interpreter exit the connection is closed by this thread,
            # never torn down mid-call (DuckDB aborts the process when that happens)
            self._timer.daemon = False
            self._timer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            if self._users == 0:
                self._close_locked()

    def _close_locked(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._tables = None
            self._version = None
            self._memo = {}

    def current_version(self) -> Version | None:
        """The warehouse's version now, without opening it: that of the open instance, or
        read from the files. None while a load in this process is writing (`paused`) or
        when there is no warehouse file."""
        with self._lock:
            if self._paused:
                return None
            if self._con is not None:
                return self._version
        return warehouse_version(self.path)

    @contextlib.contextmanager
    def paused(self, timeout: float = 30.0) -> Iterator[None]:
        """Let a writer in this process (the daily load of `run`) open the warehouse.

        New requests get `WarehouseBusy` (503) meanwhile; running ones finish first (up to
        `timeout` seconds), then the shared connection is closed.
        """
        with self._lock:
            self._paused += 1
            self._lock.wait_for(lambda: self._users == 0, timeout=timeout)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._users == 0:
                self._close_locked()
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def close(self) -> None:
        """Close the shared connection now (requests still running keep their cursor)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._users == 0:
                self._close_locked()


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
