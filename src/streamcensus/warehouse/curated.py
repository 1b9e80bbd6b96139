"""The lake's curated zone: day partitions of a model as sorted, zstd-compressed Parquet.

`curated` models (the viewing sessions) are written here rather than into the warehouse:
`lake/curated/<model>/date=YYYY-MM-DD/<model>-<sha256 prefix>.parquet`, rows sorted by the
model's `order` header (channel, then time: channel queries read few row groups, and the
timestamps compress to about a byte per session). The pseudonymous data exists once, in
files retention can delete (P2), and Spark reads the same files.

The zone commits with the warehouse. A file is named after its content and is never
replaced: a load writes its partitions beside the current ones (fsynced file and folder),
records them in `curated_files` inside the load's transaction, and reads the model only
through that table. After the transaction ends, `collect_garbage` deletes every file no
row refers to: after a commit, the files it replaced; after a rollback (a failing check),
the files it wrote. Either way the zone is exactly what the warehouse says, and a crash
in between leaves only unreferenced files, removed by the next load.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq

from streamcensus.fsutil import fsync_dir, is_temp_file, make_private, private_dir
from streamcensus.lake.schema import CURATED
from streamcensus.warehouse.connection import Connection

ZSTD_LEVEL = 3  # level 9 or 19 saves under 2% of curated bytes for 2-8x the write CPU
ROW_GROUP_ROWS = 1_000_000
_HASH_CHUNK = 1 << 20


def partition_dir(lake_dir: Path, model: str, day: dt.date) -> Path:
    """The folder of one day of a curated model."""
    return lake_dir / CURATED / model / f"date={day.isoformat()}"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_partition(
    con: Connection,
    relation: str,
    day: dt.date,
    order_by: tuple[str, ...],
    lake_dir: Path,
    model: str,
) -> tuple[Path, int, int]:
    """Write the rows of `relation` for `day`, sorted, as a new content-named file.

    Returns (path, rows, bytes). The file is fsynced, then linked under its content name
    (an identical file already there is kept as is), then its folder is fsynced.
    """
    order = ", ".join(order_by) if order_by else "1"
    table = con.sql(
        f"select * from {relation} where day = ? order by {order}", params=[day]
    ).to_arrow_table()
    folder = partition_dir(lake_dir, model, day)
    private_dir(folder)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(
                table,
                handle,
                compression="zstd",
                compression_level=ZSTD_LEVEL,
                row_group_size=ROW_GROUP_ROWS,
            )
            handle.flush()
            os.fsync(handle.fileno())
        make_private(tmp)
        path = folder / f"{model}-{_sha256(tmp)[:16]}.parquet"
        if not path.exists():
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(folder)
    return path, table.num_rows, path.stat().st_size


def attach(con: Connection, lake_dir: Path, model: str, query: str) -> None:
    """(Re)create the temporary view `model` over the partitions `curated_files` lists."""
    rows = con.execute(
        "select path from curated_files where model = ? and not retired order by day", [model]
    ).fetchall()
    paths = [lake_dir / str(r[0]) for r in rows if (lake_dir / str(r[0])).exists()]
    if not paths:
        con.execute(
            f"create or replace temp view {model} as select * from ({query}) as q where 1 = 0"
        )
        return
    listed = ", ".join(_sql_text(str(p)) for p in paths)
    con.execute(f"create or replace temp view {model} as select * from read_parquet([{listed}])")


def materialize(
    con: Connection,
    model: str,
    query: str,
    order_by: tuple[str, ...],
    lake_dir: Path,
    run_days: Sequence[dt.date],
    rows_from: str | None = None,
) -> int:
    """Build a curated model for the run's days, record its files, attach its view.

    The rows come from `query`, or from the relation `rows_from` (read as it is, not
    copied) when the run computed them already. Call inside the load's transaction: the
    new files count only once it commits.
    """
    relation = "_curated_rows" if rows_from is None else rows_from
    if rows_from is None:
        con.execute(f"create or replace temp table _curated_rows as {query}")
    try:
        outside = con.execute(
            f"select count(*) from {relation} where day not in (select day from run_days)"
        ).fetchall()[0][0]
        if outside:
            raise ValueError(f"{outside} rows fall outside the run's days")
        total = 0
        for day in sorted(run_days):
            path, rows, size = write_partition(con, relation, day, order_by, lake_dir, model)
            total += rows
            rel = path.relative_to(lake_dir).as_posix()
            con.execute("delete from curated_files where model = ? and day = ?", [model, day])
            con.execute(
                "insert into curated_files values (?, ?, ?, ?, ?, false)",
                [model, day, rel, size, rows],
            )
    finally:
        con.execute("drop table if exists _curated_rows")
    attach(con, lake_dir, model, query)
    return total


def collect_garbage(con: Connection, lake_dir: Path) -> list[Path]:
    """Delete curated files that no `curated_files` row refers to; return them.

    Run outside a transaction, after a load commits or rolls back (and before a load, for
    what a crash left). Retired partitions are gone already (retention deletes them).
    """
    root = lake_dir / CURATED
    if not root.is_dir():
        return []
    kept = {
        str(r[0])
        for r in con.execute("select path from curated_files where not retired").fetchall()
    }
    removed: list[Path] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(lake_dir).as_posix()
        if rel in kept and not is_temp_file(path):
            continue
        path.unlink()
        removed.append(path)
    for folder in {p.parent for p in removed}:
        fsync_dir(folder)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
    return removed
