"""What this installation measured, read from the warehouse, per snapshot and per day.

Every figure comes from records the pipeline writes anyway: the snapshots' manifests
(`raw_manifests`: CPU seconds, real seconds, rate-limit waits, HTTP bytes each way), the
files each load vouched for (`loaded_files`: bytes of every raw kind), the curated zone
(`curated_files`), the loads themselves (`loaded_days.load_seconds`) and the size of the
warehouse file. The window is the last `days` loaded days. Figures are normalised per
snapshot, so a partly collected day counts for what it holds.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from streamcensus.errors import UserError

Rows = Callable[[str, Sequence[Any]], list[dict[str, Any]]]
"""Runs a query on the warehouse and returns its rows as dicts."""

MEASURED_COLUMNS = ("cpu_seconds", "wall_seconds", "bytes_sent", "bytes_received")


class NothingMeasured(UserError):
    """No snapshot or no loaded day to measure yet (a one-line error naming the fix)."""


class Measured(BaseModel):
    """Measured figures of the window; `*_per_snapshot` are means over its snapshots."""

    first_day: dt.date
    last_day: dt.date
    days: int = Field(description="loaded days in the window")
    snapshots: int = Field(description="snapshots of those days (manifests)")
    snapshots_measured: int = Field(
        description="of which with cost measurements (older manifests have none)"
    )
    channels_per_snapshot: float
    presence_per_snapshot: float = Field(description="presence observations per snapshot")
    requests_per_snapshot: float
    cpu_seconds_per_snapshot: float | None = Field(
        description="CPU seconds of the collector's thread per snapshot"
    )
    instance_seconds_per_snapshot: float | None = Field(
        description="seconds a runtime is busy per snapshot: real working time plus "
        "rate-limit waits on the collector's clock"
    )
    bytes_sent_per_snapshot: float | None
    bytes_received_per_snapshot: float | None
    raw_bytes_per_snapshot: dict[str, float] = Field(description="raw kind -> bytes")
    raw_files_per_snapshot: float
    curated_bytes_per_snapshot: float
    curated_files_per_day: float
    load_seconds_per_snapshot: float | None = Field(
        description="wall seconds of load + transform per snapshot loaded"
    )
    warehouse_bytes: int
    warehouse_days: int = Field(description="days the warehouse holds")

    @property
    def warehouse_bytes_per_day(self) -> float:
        return self.warehouse_bytes / self.warehouse_days if self.warehouse_days else 0.0


def _in(days: Sequence[dt.date]) -> str:
    return "(" + ", ".join("?" for _ in days) + ")"


def _float(value: Any) -> float:
    return float(value) if value is not None else 0.0


def warehouse_file_bytes(path: Path) -> int:
    """Bytes of the warehouse file and its write-ahead log, if any."""
    sizes = [p.stat().st_size for p in (path, path.with_name(path.name + ".wal")) if p.is_file()]
    return sum(sizes)


def measure(rows: Rows, warehouse_bytes: int, days: int) -> Measured:
    """The figures of the last `days` loaded days (NothingMeasured when there are none)."""
    tables = {str(r["table_name"]) for r in rows("select table_name from duckdb_tables()", ())}
    if "loaded_days" not in tables or "raw_manifests" not in tables:
        raise NothingMeasured("no day loaded in the warehouse")
    loaded = rows("select day, load_seconds from loaded_days order by day desc limit ?", (days,))
    if not loaded:
        raise NothingMeasured("no day loaded in the warehouse")
    window = sorted(r["day"] for r in loaded)
    total_days = int(rows("select count(*) as n from loaded_days", ())[0]["n"])
    columns = {
        str(r["column_name"])
        for r in rows(
            "select column_name from information_schema.columns where table_name = ?",
            ("raw_manifests",),
        )
    }
    measured_sql = (
        # real working time plus rate-limit waits on the clock: right on a wall clock
        # (wall = duration) and on a sped-up simulated one (waits kept in clock seconds)
        "sum(case when wall_seconds > 0 then wall_seconds * (1 - least(1, coalesce("
        "rate_limit_wait_seconds / nullif(duration_seconds, 0), 0))) "
        "+ rate_limit_wait_seconds end) as instance_seconds, "
        "sum(case when wall_seconds > 0 then cpu_seconds end) as cpu_seconds, "
        "sum(case when wall_seconds > 0 then bytes_sent end) as bytes_sent, "
        "sum(case when wall_seconds > 0 then bytes_received end) as bytes_received, "
        "count(*) filter (where wall_seconds > 0) as measured"
        if set(MEASURED_COLUMNS) <= columns
        else "null as instance_seconds, null as cpu_seconds, null as bytes_sent, "
        "null as bytes_received, 0 as measured"
    )
    snap = rows(
        "select count(*) as snapshots, sum(channels_listed) as channels, "
        "sum(presence_observations) as presence, sum(requests) as requests, "
        f"{measured_sql} from raw_manifests where day in {_in(window)}",
        window,
    )[0]
    snapshots = int(snap["snapshots"] or 0)
    if snapshots == 0:
        raise NothingMeasured("the loaded days hold no snapshot")
    measured_n = int(snap["measured"] or 0)

    def per_measured(key: str) -> float | None:
        return _float(snap[key]) / measured_n if measured_n else None

    kinds = rows(
        "select kind, count(*) as files, sum(bytes) as bytes from loaded_files "
        f"where day in {_in(window)} group by kind order by kind",
        window,
    )
    curated = rows(
        "select count(*) as files, coalesce(sum(bytes), 0) as bytes from curated_files "
        f"where day in {_in(window)}",
        window,
    )[0]
    timed = [r for r in loaded if r["load_seconds"] is not None]
    timed_snapshots = 0
    if timed:
        timed_days = [r["day"] for r in timed]
        timed_snapshots = int(
            rows(
                f"select count(*) as n from raw_manifests where day in {_in(timed_days)}",
                timed_days,
            )[0]["n"]
        )
    load_seconds = sum(float(r["load_seconds"]) for r in timed)
    return Measured(
        first_day=window[0],
        last_day=window[-1],
        days=len(window),
        snapshots=snapshots,
        snapshots_measured=measured_n,
        channels_per_snapshot=_float(snap["channels"]) / snapshots,
        presence_per_snapshot=_float(snap["presence"]) / snapshots,
        requests_per_snapshot=_float(snap["requests"]) / snapshots,
        cpu_seconds_per_snapshot=per_measured("cpu_seconds"),
        instance_seconds_per_snapshot=per_measured("instance_seconds"),
        bytes_sent_per_snapshot=per_measured("bytes_sent"),
        bytes_received_per_snapshot=per_measured("bytes_received"),
        raw_bytes_per_snapshot={str(r["kind"]): _float(r["bytes"]) / snapshots for r in kinds},
        raw_files_per_snapshot=sum(_float(r["files"]) for r in kinds) / snapshots,
        curated_bytes_per_snapshot=_float(curated["bytes"]) / snapshots,
        curated_files_per_day=_float(curated["files"]) / len(window),
        load_seconds_per_snapshot=load_seconds / timed_snapshots if timed_snapshots else None,
        warehouse_bytes=warehouse_bytes,
        warehouse_days=total_days,
    )


def round_up(value: float, increment: float) -> float:
    """`value` rounded up to a multiple of `increment` (a runtime's billing increment)."""
    if increment <= 0:
        return value
    return math.ceil(value / increment - 1e-9) * increment
