"""The lake's curated zone: day partitions of a model as sorted, zstd-compressed Parquet.

`curated` models (the viewing sessions) are written here rather than into the warehouse:
`lake/curated/<model>/date=YYYY-MM-DD/<model>.parquet`, one file per day, rows sorted by
the model's `order` header (channel, then time: channel queries read few row groups, and
the timestamps compress to about a byte per session). The warehouse records each file in
`curated_files` and attaches the retained partitions as a temporary view, so the
pseudonymous data exists once, in files retention can delete (P2), and Spark reads the
same files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from streamcensus.fsutil import make_private, private_dir
from streamcensus.lake.schema import CURATED
from streamcensus.load.warehouse import Connection

if TYPE_CHECKING:
    from streamcensus.transform.runner import RunContext

ZSTD_LEVEL = 3  # level 9 or 19 saves under 2% of curated bytes for 2-8x the write CPU
ROW_GROUP_ROWS = 1_000_000


def partition_path(lake_dir: Path, model: str, day: dt.date) -> Path:
    """Where one day of a curated model lives."""
    return lake_dir / CURATED / model / f"date={day.isoformat()}" / f"{model}.parquet"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def write_partition(
    con: Connection, relation: str, day: dt.date, order_by: tuple[str, ...], path: Path
) -> tuple[int, int]:
    """Write the rows of `relation` for `day`, sorted, to `path` atomically: (rows, bytes)."""
    order = ", ".join(order_by) if order_by else "1"
    table = con.sql(
        f"select * from {relation} where day = ? order by {order}", params=[day]
    ).to_arrow_table()
    private_dir(path.parent)
    tmp = path.with_name(f".tmp-{path.name}")
    try:
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            compression_level=ZSTD_LEVEL,
            row_group_size=ROW_GROUP_ROWS,
        )
        make_private(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return table.num_rows, path.stat().st_size


def attach(con: Connection, lake_dir: Path, model: str, query: str) -> None:
    """(Re)create the temporary view `model` over its retained curated partitions."""
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
    con: Connection, model: str, query: str, order_by: tuple[str, ...], ctx: RunContext
) -> int:
    """Build a curated model for the run's days, record its files, attach its view."""
    con.execute(f"create or replace temp table _curated_rows as {query}")
    try:
        outside = con.execute(
            "select count(*) from _curated_rows where day not in (select day from run_days)"
        ).fetchall()[0][0]
        if outside:
            raise ValueError(f"{outside} rows fall outside the run's days")
        total = 0
        for day in sorted(ctx.run_days):
            path = partition_path(ctx.lake_dir, model, day)
            rows, size = write_partition(con, "_curated_rows", day, order_by, path)
            total += rows
            rel = path.relative_to(ctx.lake_dir).as_posix()
            con.execute("delete from curated_files where model = ? and day = ?", [model, day])
            con.execute(
                "insert into curated_files values (?, ?, ?, ?, ?, false)",
                [model, day, rel, size, rows],
            )
    finally:
        con.execute("drop table if exists _curated_rows")
    attach(con, ctx.lake_dir, model, query)
    return total
