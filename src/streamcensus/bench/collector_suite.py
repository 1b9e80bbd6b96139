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
import tempfile
from pathlib import Path
from typing import Any

from streamcensus.bench.measure import median_of, summary, to_mb
from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.bench.snapshots import BUCKET, collect_series
from streamcensus.bench.thirdparty import compare_with_library


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
