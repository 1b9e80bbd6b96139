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

A request gets a `Reader` over a DuckDB cursor in which each table's name is the slice of
its key (`register`), so the page's queries (the same SQL as over the warehouse, save the
neighbours, the login lookup and search, which read the tables above) scan tens of rows
instead of millions.

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

import duckdb
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
        "select * from channel_day order by channel_id, day",
    ),
    "channel_logins": Source(
        ("channel_day",),
        "select lower(channel_login) as login_key, channel_id, day, channel_login, "
        "channel_name from channel_day order by login_key, channel_id, day",
        key="login_key",
    ),
    "channel_names": Source(
        ("channel_day",),
        "select channel_id, arg_max(channel_login, day) as channel_login, "
        "arg_max(channel_name, day) as channel_name, max(day) as last_day, "
        "sum(viewer_hours) as viewer_hours from channel_day group by channel_id "
        "order by channel_id",
        key=None,
    ),
    "stream_sessions": Source(
        ("stream_sessions",),
        "select * from stream_sessions order by channel_id, started_at",
    ),
    "stream_session_games": Source(
        ("stream_session_games",),
        "select * from stream_session_games order by channel_id, day, stream_id",
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
        "select * from channel_followers order by channel_id, day",
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
        return cls(data, runs)

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
        self._con = duckdb.connect(":memory:")  # holds no data: requests register slices
        self._con.execute("set global TimeZone = 'UTC'")  # for every request's cursor

    @property
    def version(self) -> Version | None:
        """The warehouse version the tables were built at (None: none built)."""
        with self._lock:
            return None if self._built is None else self._built.version

    def build(self, pool: ReaderPool) -> Version | None:
        """Build the tables from the warehouse's version now, unless they already are: the
        version built (None without a warehouse)."""
        with self._build_lock, pool.reader() as source:
            version = source.version
            if version is None or version == self.version or source.con is None:
                return version
            began = time.perf_counter()
            tables = {
                name: KeyedTable.of(source.con.sql(spec.sql).to_arrow_table(), spec.key)
                for name, spec in STORE_TABLES.items()
                if source.has(*spec.needs)
            }
            memo: dict[str, object] = {
                "loaded_days": source.loaded_days(),
                "partial_days": source.partial_days(),
            }
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
    ) -> Iterator[Reader | None]:
        """A `Reader` over the store if it was built at `version` (the version the
        request's warehouse connection reads), else None. Only the tables one kind of
        request reads are there (each costs a registration): with `channel_id`, the
        channel's rows of the tables keyed by channel; with `login`, its rows of
        `channel_logins` (lower-cased); with neither, `channel_names` (search)."""
        with self._lock:
            built = self._built
            if built is None or version is None or version != built.version:
                cursor = None
            else:
                cursor = self._con.cursor()
        if cursor is None or built is None:
            yield None
            return
        try:
            keys = {"channel_id": channel_id, "login_key": None if login is None else login.lower()}
            for name, table in built.tables.items():
                key = STORE_TABLES[name].key
                if key is None and login is None and channel_id is None:
                    cursor.register(name, table.data)  # search: every channel
                elif key is not None and (wanted := keys[key]) is not None:
                    cursor.register(name, table.rows_of(wanted))
            self.stats.served += 1
            yield Reader(cursor, set(built.tables), version, dict(built.memo))
        finally:
            cursor.close()


def is_store(reader: Reader) -> bool:
    """True for a `ChannelStore` reader (its tables are slices sorted by channel)."""
    return reader.has("channel_overlap")
