"""The DuckDB warehouse: connection settings and the tables `load` owns.

The warehouse holds the raw sources that are small enough to keep (stream facts and
manifests), the bookkeeping of what was loaded, curated or quarantined, and the tables the
SQL models build. It holds no pseudonymous presence: viewing sessions live in the lake's
curated zone and are attached per run as a temporary view (see `curate.py`), so deleting
expired presence (P2) is deleting files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from streamcensus.errors import UserError
from streamcensus.fsutil import make_private, private_dir, private_umask

Connection = duckdb.DuckDBPyConnection

# Source and bookkeeping tables. Sources carry `day` and integer time columns added at load
# (`slot` = epoch seconds // 300, `*_epoch` = epoch seconds) so the models need no
# engine-specific date functions.
SCHEMA_SQL = """
create table if not exists raw_streams (
    day date not null,
    slot bigint not null,
    snapshot_epoch bigint not null,
    started_epoch bigint not null,
    snapshot_id varchar not null,
    snapshot_ts timestamptz not null,
    channel_id varchar not null,
    channel_login varchar not null,
    channel_name varchar not null,
    stream_id varchar not null,
    language varchar not null,
    game_id varchar not null,
    game_name varchar not null,
    title varchar not null,
    viewer_count integer not null,
    started_at timestamptz not null,
    is_mature boolean not null,
    tags varchar not null,
    rank integer not null,
    tracked boolean not null,
    chatters_status varchar not null,
    chatters_total integer
);
create table if not exists raw_manifests (
    day date not null,
    slot bigint not null,
    snapshot_id varchar not null,
    grid_time timestamptz not null,
    started_at timestamptz,
    ended_at timestamptz,
    duration_seconds double,
    source varchar,
    language varchar,
    top_n integer,
    status varchar not null,
    channels_listed integer,
    channels_tracked integer,
    channels_with_chatters integer,
    channels_forbidden integer,
    channels_failed integer,
    channels_offline integer,
    presence_observations bigint,
    optout_dropped bigint,
    requests integer,
    retries integer,
    rate_limit_waits integer,
    rate_limit_wait_seconds double,
    http_429 integer,
    errors_total integer,
    errors_json varchar,
    missing_count integer,
    missing_json varchar,
    key_id varchar,
    collector_version varchar
);
create table if not exists loaded_files (
    day date not null,
    kind varchar not null,
    snapshot_id varchar not null,
    path varchar not null,
    bytes bigint not null,
    rows bigint not null,
    sha256 varchar not null,
    loaded_at timestamptz not null,
    retired boolean not null
);
create table if not exists quarantined_files (
    day date not null,
    kind varchar not null,
    path varchar not null,
    quarantine_path varchar not null,
    bytes bigint not null,
    sha256 varchar not null,
    reason varchar not null,
    quarantined_at timestamptz not null
);
create table if not exists loaded_days (
    day date not null,
    files integer not null,
    fingerprint varchar not null,
    loaded_at timestamptz not null,
    presence_retired boolean not null
);
create table if not exists curated_files (
    model varchar not null,
    day date not null,
    path varchar not null,
    bytes bigint not null,
    rows bigint not null,
    retired boolean not null
);
"""

SOURCE_TABLES = ("raw_streams", "raw_manifests")
BOOKKEEPING_TABLES = (
    "loaded_files",
    "quarantined_files",
    "loaded_days",
    "curated_files",
)


def connect(path: Path, read_only: bool = False) -> Connection:
    """Open the warehouse with UTC session time (extract/cast of timestamps rely on it)."""
    if not read_only:
        private_dir(path.parent)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        text = str(exc)
        if "lock" in text.lower() or isinstance(exc, duckdb.ConnectionException):
            raise UserError(
                f"the warehouse {path} is in use by another process; stop it "
                "(e.g. `streamcensus run` or `serve`) or wait for it to finish"
            ) from None
        raise UserError(f"cannot open the warehouse {path}: {text.splitlines()[0]}") from None
    con.execute("set TimeZone = 'UTC'")
    if not read_only:
        make_private(path)  # also a warehouse an older version made 0644
    return con


@contextlib.contextmanager
def open_warehouse(path: Path, read_only: bool = False) -> Iterator[Connection]:
    """`connect`, with the schema ensured (read-write) and the connection closed after.

    The process umask is private meanwhile: DuckDB creates its WAL (and spill files)
    itself, at the first write after each checkpoint (`fsutil.private_umask`).
    """
    with private_umask():
        con = connect(path, read_only=read_only)
        try:
            if not read_only:
                ensure_schema(con)
            yield con
        finally:
            con.close()


def ensure_schema(con: Connection) -> None:
    """Create the source and bookkeeping tables if they are missing."""
    for statement in SCHEMA_SQL.split(";"):
        if statement.strip():
            con.execute(statement)


def table_exists(con: Connection, name: str) -> bool:
    """True if `name` is a table or view visible on this connection (temporary included)."""
    rows = con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])


def table_columns(con: Connection, name: str) -> list[tuple[str, str]]:
    """(column, type) pairs of a table, in order."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = ? order by ordinal_position",
        [name],
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def scalar(con: Connection, sql: str, params: list[Any] | None = None) -> Any:
    """The single value of a one-row, one-column query."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def loaded_day_rows(con: Connection) -> dict[dt.date, tuple[str, bool]]:
    """Loaded days with their fingerprint and whether their presence was retired."""
    rows = con.execute("select day, fingerprint, presence_retired from loaded_days").fetchall()
    return {r[0]: (str(r[1]), bool(r[2])) for r in rows}
