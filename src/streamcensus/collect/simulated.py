"""Collecting a simulated period: the simulator in this process, the collector on its clock.

The simulator's clock is set to each grid time in turn and flows at `speed` during each
snapshot, so the rate limit is honoured on simulated time while a day is collected in
minutes. Snapshots already in the lake are kept (raw files are never rewritten), so a
second run resumes. Used by `streamcensus demo` and by the benchmarks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from streamcensus.clock import SimClock
from streamcensus.collect.session import open_collector
from streamcensus.collect.snapshot import summary_line
from streamcensus.config import Settings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import raw_path, snapshot_id
from streamcensus.simulator.server import running_simulator
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import grid_times

log = logging.getLogger("streamcensus.collect")

DEFAULT_SPEED = 120.0  # simulated seconds per real second during a snapshot


@dataclass
class CollectionReport:
    """What the lake holds for the demo's days, and what this run added."""

    collected: int = 0
    skipped_existing: int = 0
    snapshots_complete: int = 0
    snapshots_partial: int = 0
    channels: int = 0
    presence_observations: int = 0
    raw_bytes: int = 0
    chatters_bytes: int = 0
    wall_seconds: float = 0.0

    def per_observation(self, size: int) -> float:
        return size / self.presence_observations if self.presence_observations else 0.0

    def lines(self) -> list[str]:
        return [
            f"snapshots         {self.snapshots_complete:,} complete, "
            f"{self.snapshots_partial:,} partial "
            f"({self.collected:,} collected now, {self.skipped_existing:,} already in the lake)",
            f"channels seen     {self.channels:,}",
            f"presence obs.     {self.presence_observations:,}",
            f"raw lake bytes    {self.raw_bytes:,}",
            f"bytes/observation {self.per_observation(self.chatters_bytes):.2f} in chatters files, "
            f"{self.per_observation(self.raw_bytes):.2f} with stream facts and manifests",
            f"wall time         {self.wall_seconds:.1f} s",
        ]


def summarise_lake(lake_dir: Path, days: list[dt.date], report: CollectionReport) -> None:
    """Fill `report` from the manifests and files of `days` (what is on disk, not in memory)."""
    raw = lake_dir / "raw"
    for day in days:
        for kind in ("streams", "chatters", "manifest"):
            folder = raw / kind / f"date={day.isoformat()}"
            if folder.exists():
                size = sum(p.stat().st_size for p in folder.iterdir() if not p.name.startswith("."))
                report.raw_bytes += size
                if kind == "chatters":
                    report.chatters_bytes += size
    parts = [raw / "streams" / f"date={d.isoformat()}" for d in days]
    files = [str(p / "*.parquet") for p in parts if any(p.glob("*.parquet"))]
    manifests = [raw / "manifest" / f"date={d.isoformat()}" for d in days]
    for folder in manifests:
        for path in folder.glob("*.json") if folder.exists() else []:
            record = ManifestRecord.from_bytes(path.read_bytes())
            report.snapshots_complete += record.status == "complete"
            report.snapshots_partial += record.status == "partial"
            report.presence_observations += record.presence_observations
    if files:
        con = duckdb.connect()
        rows = con.execute(
            "select count(distinct channel_id) from read_parquet(?)", [files]
        ).fetchall()
        report.channels = int(rows[0][0])
        con.close()


async def collect_times(
    settings: Settings,
    world_scale: str,
    seed: int,
    times: list[dt.datetime],
    speed: float,
    on_record: Callable[[ManifestRecord | None], None],
) -> None:
    """Collect each grid time of `times` from an in-process simulator; `on_record` gets
    each record (None for a grid time already in the lake)."""
    world = PopulationWorld(scale=world_scale, seed=seed)
    clock = SimClock(times[0], speed=0)
    with running_simulator(world, clock) as handle:
        async with open_collector(
            settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=clock
        ) as session:
            for grid_time in times:
                if raw_path(settings.lake_dir, "manifest", snapshot_id(grid_time)).exists():
                    on_record(None)
                    continue
                if clock.time() < grid_time.timestamp():
                    clock.set(grid_time, speed=speed)
                else:
                    clock.set_speed(speed)
                record = await session.collector.collect(grid_time)
                clock.set_speed(0)
                log.info(summary_line(record))
                on_record(record)


def collect_simulated(
    settings: Settings,
    *,
    first_day: dt.date,
    hours: float,
    scale: str,
    seed: int,
    speed: float = DEFAULT_SPEED,
    on_record: Callable[[ManifestRecord | None], None] | None = None,
) -> CollectionReport:
    """Simulate and collect `hours` from midnight of `first_day`; summarise the lake."""
    times = grid_times(first_day, hours)
    report = CollectionReport()
    began = time.monotonic()

    def count(record: ManifestRecord | None) -> None:
        if record is None:
            report.skipped_existing += 1
        else:
            report.collected += 1
        if on_record is not None:
            on_record(record)

    asyncio.run(collect_times(settings, scale, seed, times, speed, count))
    report.wall_seconds = time.monotonic() - began
    summarise_lake(settings.lake_dir, sorted({t.date() for t in times}), report)
    return report
