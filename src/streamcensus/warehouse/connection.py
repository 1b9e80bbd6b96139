"""The DuckDB warehouse: opening it, and small queries every layer uses.

The warehouse holds the raw sources that are small enough to keep (stream facts and
manifests), the bookkeeping of what was loaded, curated or quarantined (tables declared in
`ddl.py`), and the tables the SQL models build. It holds no pseudonymous presence:
viewing sessions live in the lake's curated zone and are attached per run as a temporary
view (see `curated.py`), so deleting expired presence (P2) is deleting files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from streamcensus.errors import UserError
from streamcensus.fsutil import make_private, private_dir, private_umask

Connection = duckdb.DuckDBPyConnection
# DuckDB's share of the machine's memory for a writing connection (its default is 80%):
# the loader's Python side (Arrow tables, the publication step) needs the rest, and the
# biggest models (7-day overlap, exposure) spill to `<warehouse>.tmp` beyond it
MEMORY_SHARE = 0.5


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
        con.execute(f"set memory_limit = '{_memory_limit_mb()}MB'")
        make_private(path)  # also a warehouse an older version made 0644
    return con


def _memory_limit_mb() -> int:
    """`MEMORY_SHARE` of the physical memory, in MB."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(256, int(total * MEMORY_SHARE) // 2**20)


@contextlib.contextmanager
def open_warehouse(path: Path, read_only: bool = False) -> Iterator[Connection]:
    """`connect`, and the connection closed after (`ddl.ensure_tables` makes the tables).

    The process umask is private meanwhile: DuckDB creates its WAL (and spill files)
    itself, at the first write after each checkpoint (`fsutil.private_umask`).
    """
    with private_umask():
        con = connect(path, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


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


def incomplete_days(con: Connection) -> set[dt.date]:
    """Loaded days that were not over when loaded (partial: `load --day today`)."""
    rows = con.execute("select day from loaded_days where not coalesce(complete, true)").fetchall()
    return {r[0] for r in rows}
