"""Per-channel serving tables, built once per warehouse version and sorted by channel.

A channel's page reads a few rows of each of a handful of warehouse tables: its days, its
broadcasts, their games, its snapshot curve, its follower readings and its overlap pairs.
In the warehouse these rows are spread over every day's row groups (tables are written day
by day), so each of the page's queries scans a month of rows to find them. `ChannelStore`
copies the columns those queries read into memory as Arrow tables, each sorted by its key
(`channel_id`, or the lower-cased login), with the offset and length of each key's run:
a request's rows are a zero-copy slice. The overlap pairs are kept once per side
(`channel_overlap`: this channel, the other one, this side's shares), so a channel's
neighbours are one slice instead of an `a = ? or b = ?` scan. Search reads one row per
channel (`channel_names`).

A request gets a `SliceReader`: its channel's (or login's) rows of each table, as Python
values, and `channelrows.py` runs the page's queries over them in Python (tens to hundreds
of rows: cheaper than planning a SQL query), with the same rows as the warehouse's SQL.

The copy holds serving tables only (P3): aggregates per channel and per channel pair,
public broadcaster names, never a viewer. It is built from the warehouse's read-only
connection (`ReaderPool`), so a load in this process waits for it as for a request
(`ReaderPool.paused`), and it keeps no file open: a load in another process can write as
soon as the build ends. A request uses it only when it was built at the very version the
request's own connection reads; otherwise the request reads the warehouse as before (same
answers, byte for byte: `tests/serve/test_channelstore.py` compares the two).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

import pyarrow as pa
import pyarrow.compute as pc

from streamcensus.serve.reader import Reader, ReaderPool, Version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """One table of the store: the warehouse tables it needs, the query that fills it
    (sorted by `key`), and its key (None: the whole table is read)."""

    needs: tuple[str, ...]
    sql: str
    key: str | None = "channel_id"


STORE_TABLES: dict[str, Source] = {
    "channel_day": Source(
        ("channel_day",),
        "select channel_id, day, airtime_hours, peak_viewers, avg_viewers, viewer_hours, "
        "main_game, unique_chatters, returning_chatters, chatters_per_viewer, bot_share, "
        "complete, chat_snapshots_missed, signal, has_chat_list, has_chat_activity "
        "from channel_day order by channel_id, day",
    ),
    "channel_logins": Source(
        ("channel_day",),
        "select lower(channel_login) as login_key, channel_id, day, channel_login, "
        "channel_name from channel_day order by login_key, channel_id, day",
        key="login_key",
    ),
    "channel_names": Source(
        ("channel_day",),
        "select *, lower(channel_login) as login_lower, lower(channel_name) as name_lower "
        "from (select channel_id, arg_max(channel_login, day) as channel_login, "
        "arg_max(channel_name, day) as channel_name, max(day) as last_day, "
        "sum(viewer_hours) as viewer_hours from channel_day group by channel_id) "
        "order by channel_id",
        key=None,
    ),
    "stream_sessions": Source(
        ("stream_sessions",),
        "select stream_id, day, channel_id, started_at, ended_at, duration_minutes, "
        "peak_viewers, avg_viewers, viewer_hours, main_game, last_title, complete, coverage "
        "from stream_sessions order by channel_id, started_at",
    ),
    "stream_session_games": Source(
        ("stream_session_games",),
        "select channel_id, day, stream_id, game_id, game_name, first_seen, minutes "
        "from stream_session_games order by channel_id, day, stream_id",
    ),
    "int_snapshot_channels": Source(
        ("int_snapshot_channels",),
        "select day, channel_id, snapshot_ts, signal, viewer_count, game_name, "
        "published_chatters, presence_read from int_snapshot_channels "
        "order by channel_id, day, snapshot_ts",
    ),
    "channel_overlap": Source(
        ("audience_overlap",),
        "select * from ("
        "select channel_a as channel_id, day, window_days, signal, "
        "coalesce(channel_login_b, channel_b) as other, shared_chatters, "
        "share_a as share_of_this, share_b as share_of_other, jaccard "
        "from audience_overlap union all "
        "select channel_b, day, window_days, signal, coalesce(channel_login_a, channel_a), "
        "shared_chatters, share_b, share_a, jaccard from audience_overlap "
        "where channel_b <> channel_a"
        ") order by channel_id, day, window_days",
    ),
    "channel_followers": Source(
        ("channel_followers",),
        "select channel_id, day, followers, gained_day, gained_7d from channel_followers "
        "order by channel_id, day",
    ),
    "channel_followers_hourly": Source(
        ("channel_followers_hourly",),
        "select day, channel_id, snapshot_ts, followers_total from channel_followers_hourly "
        "order by channel_id, day, snapshot_ts",
    ),
}


@dataclass
class StoreStats:
    """What the store did, for tests, `/metrics` and the benchmark."""

    builds: int = 0
    build_seconds: float = 0.0  # of the last build
    rows: int = 0  # of the last build
    bytes: int = 0  # of the last build's Arrow tables
    served: int = 0  # requests answered from the store
    failed: int = 0  # builds that raised (requests then read the warehouse)


@dataclass(frozen=True)
class KeyedTable:
    """An Arrow table sorted by its key, and where each key's rows are."""

    data: pa.Table
    runs: dict[str, tuple[int, int]]  # key: (offset, length)
    everything: list[dict[str, Any]]  # the rows of a table without a key, as Python values

    @classmethod
    def of(cls, data: pa.Table, key: str | None) -> KeyedTable:
        data = data.combine_chunks()
        runs: dict[str, tuple[int, int]] = {}
        if key is not None and data.num_rows:
            encoded = pc.run_end_encode(data.column(key).combine_chunks())
            begin = 0
            for value, end in zip(
                encoded.values.to_pylist(), encoded.run_ends.to_pylist(), strict=True
            ):
                runs[str(value)] = (begin, int(end) - begin)
                begin = int(end)
        return cls(data, runs, data.to_pylist() if key is None else [])

    def rows_of(self, key: str) -> pa.Table:
        """The rows of `key` (none for an unknown key)."""
        offset, length = self.runs.get(key, (0, 0))
        return self.data.slice(offset, length)


@dataclass(frozen=True)
class Built:
    """The store's tables at one warehouse version."""

    version: Version
    tables: dict[str, KeyedTable]
    memo: dict[str, object]


class ChannelStore:
    """The per-channel tables of the latest warehouse version built, in memory."""

    def __init__(self) -> None:
        self.stats = StoreStats()
        self._lock = threading.Lock()  # guards `_built`
        self._build_lock = threading.Lock()  # one build at a time
        self._built: Built | None = None

    @property
    def version(self) -> Version | None:
        """The warehouse version the tables were built at (None: none built)."""
        with self._lock:
            return None if self._built is None else self._built.version

    def build(self, pool: ReaderPool) -> Version | None:
        """Build the tables from the warehouse's version now, unless they already are: the
        version built (None without a warehouse, or when the warehouse changed meanwhile).

        Each table is read under its own request of the pool, so a load in this process
        (`ReaderPool.paused`) waits for one table's query at most; a build that sees a new
        version, or a paused pool (`WarehouseBusy`), stops (the next warm-up builds)."""
        with self._build_lock:
            with pool.reader() as source:
                version = source.version
                if version is None or version == self.version or source.con is None:
                    return version
                memo: dict[str, object] = {
                    "loaded_days": source.loaded_days(),
                    "partial_days": source.partial_days(),
                }
                wanted = [name for name, spec in STORE_TABLES.items() if source.has(*spec.needs)]
            began = time.perf_counter()
            tables: dict[str, KeyedTable] = {}
            for name in wanted:
                with pool.reader() as source:
                    if source.version != version or source.con is None:
                        log.info("the warehouse changed while its channel tables were built")
                        return None
                    data = source.con.sql(STORE_TABLES[name].sql).to_arrow_table()
                tables[name] = KeyedTable.of(data, STORE_TABLES[name].key)
        built = Built(version, tables, memo)
        with self._lock:
            self._built = built  # the previous tables go with their last request
        self.stats.builds += 1
        self.stats.rows = sum(t.data.num_rows for t in tables.values())
        self.stats.bytes = sum(t.data.nbytes for t in tables.values())
        self.stats.build_seconds = time.perf_counter() - began
        log.info(
            "channel tables built: %d rows, %d MB in %.1f s",
            self.stats.rows,
            self.stats.bytes >> 20,
            self.stats.build_seconds,
        )
        return version

    def try_build(self, pool: ReaderPool) -> None:
        """`build`, logging a failure instead of raising (requests then read the warehouse)."""
        try:
            self.build(pool)
        except Exception as exc:  # an optimisation: the warehouse still answers
            self.stats.failed += 1
            log.warning("building the channel tables failed: %s: %s", type(exc).__name__, exc)

    @contextlib.contextmanager
    def reader(
        self, version: Version | None, login: str | None = None, channel_id: str | None = None
    ) -> Iterator[SliceReader | None]:
        """A `SliceReader` over the store if it was built at `version` (the version the
        request's warehouse connection reads), else None: the rows of `channel_id` (tables
        keyed by channel), of `login` (`channel_logins`, lower-cased) and every channel
        (`channel_names`)."""
        with self._lock:
            built = self._built
        if built is None or version is None or version != built.version:
            yield None
            return
        self.stats.served += 1
        keys = {"channel_id": channel_id, "login_key": None if login is None else login.lower()}
        yield SliceReader(built, keys)


class SliceReader(Reader):
    """The store's rows of one request's keys, as the warehouse's queries return them
    (column names and Python values alike); `rows` and `value` read nothing (no SQL)."""

    def __init__(self, built: Built, keys: dict[str, str | None]) -> None:
        super().__init__(None, set(built.tables), built.version, dict(built.memo))
        self._built = built
        self._keys = keys

    def table(self, name: str, **equal: Any) -> list[dict[str, Any]]:
        """The rows of the request's key in table `name` (every row of an unkeyed one),
        in the table's order, where each column of `equal` has that value."""
        table = self._built.tables.get(name)
        if table is None:
            return []
        key = STORE_TABLES[name].key
        if key is None:
            if not equal:
                return table.everything
            data = table.data
        else:
            wanted = self._keys.get(key)
            if wanted is None:
                return []
            data = table.rows_of(wanted)
        for column, value in equal.items():
            if data.num_rows:
                data = data.filter(pc.equal(data[column], value))
        rows: list[dict[str, Any]] = data.to_pylist()
        return rows


def is_store(reader: Reader) -> TypeGuard[SliceReader]:
    """True for a `ChannelStore` reader."""
    return isinstance(reader, SliceReader)
