"""Suite `collector`: one snapshot against the rate-limit floor, CPU, memory, and a library.

The collector runs in this process (its CPU time is this process's CPU time) against the
simulator child with Twitch's bucket (800 points a minute, starting full). For each
snapshot the bench sets the simulator's clock to the grid time, lets the simulator
compute that tick while the clock stands still (real Twitch has no such step), then lets
simulated time flow at `speed` while the collector works, so the bucket refills on
simulated time. Wall time is read on that simulated clock (the manifest's start and end).

The rate-limit floor is the least simulated time any client needs for the same
requests: Twitch keeps one bucket for the app token (stream pages) and one for the user
token (chatter pages), each starting full, so the floor is
`max over buckets of max(0, requests - 800) / (800 / 60 s)`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from streamcensus.bench.measure import (
    median_of,
    peak_rss_bytes,
    reset_peak_rss,
    rss_bytes,
    summary,
    to_mb,
)
from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.collect.session import CollectSession, open_collector
from streamcensus.config import Settings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import CHATTERS_FORBIDDEN, CHATTERS_OK

BUCKET = 800  # Helix points per minute, the simulator's default
WINDOW = 60.0
CHATTERS_PAGE = 1000
CLIENT_ID = "streamcensus-bench"


def bench_settings(data_dir: Path, client_id: str, top_n: int = 2000) -> Settings:
    """The collector's default settings (top 2000 `fr` channels, 16 in flight) in `data_dir`."""
    return Settings.model_validate(
        {"data_dir": data_dir, "client_id": client_id, "top_n": top_n, "language": "fr"}
    )


def bucket_requests(lake_dir: Path, record: ManifestRecord) -> tuple[int, int]:
    """(app-token requests, user-token requests) of a snapshot.

    Chatter pages per channel follow from the Helix `total` in the streams file (a page
    holds 1000, an empty list still costs one request, a 403 one); the rest of the
    snapshot's requests went to the app bucket (stream pages).
    """
    streams = pq.read_table(
        lake_dir / record.files["streams"]["path"], columns=["chatters_status", "chatters_total"]
    ).to_pylist()
    user = 0
    for row in streams:
        if row["chatters_status"] == CHATTERS_OK:
            user += max(1, math.ceil((row["chatters_total"] or 0) / CHATTERS_PAGE))
        elif row["chatters_status"] == CHATTERS_FORBIDDEN:
            user += 1
    user += record.retries
    return record.requests - user, user


def rate_limit_floor(app_requests: int, user_requests: int) -> float:
    """Seconds of simulated time the token buckets force on these requests."""
    rate = BUCKET / WINDOW
    return max(max(0, n - BUCKET) / rate for n in (app_requests, user_requests))


async def timed_snapshot(
    session: CollectSession, sim: SimulatorProcess, grid: dt.datetime, speed: float
) -> dict[str, Any]:
    """One snapshot at `grid`: warm the tick, run the clock at `speed`, collect, stop it."""
    sim.set_clock(grid, speed=0)
    warm = sim.warm(grid)
    sim.set_clock(speed=speed)
    await session.sync_clock()
    reset_peak_rss()
    cpu = time.process_time()
    began = time.perf_counter()
    record = await session.collector.collect(grid)
    real = time.perf_counter() - began
    cpu = time.process_time() - cpu
    sim.set_clock(speed=0)
    lake_dir = session.collector.writer.lake_dir
    app, user = bucket_requests(lake_dir, record)
    floor = rate_limit_floor(app, user)
    wall = (record.ended_at - record.started_at).total_seconds()
    return {
        "snapshot_id": record.snapshot_id,
        "status": record.status,
        "channels": record.channels_listed,
        "channels_with_chatters": record.channels_with_chatters,
        "presence_observations": record.presence_observations,
        "requests": record.requests,
        "app_requests": app,
        "user_requests": user,
        "retries": record.retries,
        "http_429": record.http_429,
        "rate_limit_waits": record.rate_limit_waits,
        "wall_s": wall,
        "floor_s": floor,
        "wall_over_floor": wall / floor if floor > 0 else None,
        "real_s": real,
        "cpu_s": cpu,
        "cpu_share_of_interval": cpu / 300.0,
        "peak_rss_mb": to_mb(peak_rss_bytes()),
        "rss_after_mb": to_mb(rss_bytes()),
        "tick_warmup_s": warm,
        "chatters_bytes": record.files["chatters"]["bytes"],
        "streams_bytes": record.files["streams"]["bytes"],
    }


async def collect_series(
    sim: SimulatorProcess,
    data_dir: Path,
    grid: dt.datetime,
    count: int,
    speed: float,
    client_id: str = CLIENT_ID,
) -> list[dict[str, Any]]:
    """`count` consecutive snapshots (grid, grid + 5 min, ...) with one collector."""
    settings = bench_settings(data_dir, client_id)
    runs: list[dict[str, Any]] = []
    async with open_collector(settings, helix_url=sim.helix_url, auth_url=sim.auth_url) as session:
        # the hourly token work (validation, the moderated-channel list) is done before the
        # timed snapshots, which then measure chat-list reads against the bucket
        await session.collector.readers.prepare()
        for i in range(count):
            moment = grid + dt.timedelta(minutes=5 * i)
            runs.append(await timed_snapshot(session, sim, moment, speed))
    return runs


def _collector_figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "channels",
        "presence_observations",
        "requests",
        "app_requests",
        "user_requests",
        "http_429",
        "rate_limit_waits",
        "wall_s",
        "floor_s",
        "wall_over_floor",
        "real_s",
        "cpu_s",
        "cpu_share_of_interval",
        "peak_rss_mb",
        "tick_warmup_s",
    )
    figures: dict[str, Any] = {key: median_of(runs, key) for key in keys}
    figures["statuses"] = sorted({str(r["status"]) for r in runs})
    figures["http_429_total"] = sum(int(r["http_429"]) for r in runs)
    return figures


def run_collector_suite(
    sim: SimulatorProcess,
    data_dir: Path,
    grid: dt.datetime,
    repeat: int,
    *,
    speed: float,
    snapshots: int,
    compare: bool = True,
) -> dict[str, Any]:
    """Timed snapshots, a memory soak and the general-purpose library on one simulator.

    `max(repeat, snapshots)` consecutive snapshots share one collector writing into
    `data_dir`: the first `repeat` give the timing medians, all of them the RSS series.
    The library comparison runs an hour later in simulated time, in a data dir of its own.
    """
    from streamcensus.bench.thirdparty import compare_with_library

    count = max(repeat, snapshots)
    runs = asyncio.run(collect_series(sim, data_dir, grid, count, speed))
    comparison = None
    if compare:
        with tempfile.TemporaryDirectory() as tmp:
            comparison = compare_with_library(sim, Path(tmp), grid + dt.timedelta(hours=1))
    rss = [r["rss_after_mb"] for r in runs]
    return {
        "scale": sim.scale,
        "seed": sim.seed,
        "grid_time": grid.isoformat(),
        "speed": speed,
        "bucket": BUCKET,
        "concurrency": 16,
        "top_n": 2000,
        "snapshot": _collector_figures(runs[:repeat]),
        "memory": {
            "snapshots": count,
            "rss_after_each_mb": rss,
            "growth_first_to_last_mb": round(rss[-1] - rss[0], 1),
            "max_mb": max(rss),
            "peak_rss_mb": summary([r["peak_rss_mb"] for r in runs]),
        },
        "server_rss_mb": to_mb(sim.rss_bytes()),
        "library_comparison": comparison,
        "runs": runs,
    }
