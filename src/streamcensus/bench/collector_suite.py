"""Suite `collector`: the collector as a user runs it, the all-moderated load test, a library.

The collector runs in this process (its CPU time is this process's CPU time) against the
simulator child with Twitch's bucket (800 points a minute). Permissions decide the mode:

- `realistic` (the default, the simulator's default): the operator moderates no channel
  and a few broadcasters consent, so few chat lists are read; chat activity is on (the
  anonymous chat listener joins the whole community) and the simulator's clock runs
  without stopping (`running.py`). Per snapshot: the process's CPU for the Helix snapshot
  and for the chat listener, RSS, requests, 429s, duration, and each window's messages
  received against the simulator's truth.
- `all-moderated`, a LOAD TEST Twitch never grants (one operator token reads every chat
  list: 2,000 at `fr`), Helix only, as measured before chat activity existed: for each
  snapshot the simulator's clock is set to the grid time, the tick computed while the
  clock stands still (real Twitch has no such step), then simulated time flows at `speed`
  while the collector works, so the bucket refills on simulated time.

The rate-limit floor is the least simulated time any client needs for the same
requests: Twitch keeps one bucket for the app token (stream pages) and one per user
token (chatter pages), each starting full, so the floor is
`max over buckets of max(0, requests - 800) / (800 / 60 s)`.

The library comparison (pyTwitchAPI) reads every chat list of the same snapshot, so it
always runs on an all-moderated child (its own when the suite's permissions are realistic).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from streamcensus.bench.measure import median_of, summary, to_mb
from streamcensus.bench.running import running_series
from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.bench.snapshots import BUCKET, collect_series
from streamcensus.bench.thirdparty import compare_with_library


def _collector_figures(runs: list[dict[str, Any]], *, chat: bool) -> dict[str, Any]:
    keys = [
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
    ]
    if chat:
        keys += [
            "helix_cpu_s",
            "listener_cpu_s",
            "listener_cpu_share",
            "interval_cpu_s",
            "interval_real_s",
            "channels_complete",
            "channels_equal_truth",
            "messages_received",
            "messages_sent",
            "received_over_sent",
            "activity_observations",
            "activity_bytes_per_obs",
        ]
    else:
        keys.append("tick_warmup_s")
    figures: dict[str, Any] = {key: median_of(runs, key) for key in keys}
    figures["statuses"] = sorted({str(r["status"]) for r in runs})
    figures["http_429_total"] = sum(int(r["http_429"]) for r in runs)
    if chat:
        figures["chat_statuses"] = sorted({str(r["chat_status"]) for r in runs})
    return figures


def _comparison(sim: SimulatorProcess, grid: dt.datetime) -> dict[str, Any] | None:
    """pyTwitchAPI against our collector an hour later, on an all-moderated child."""
    later = grid + dt.timedelta(hours=1)
    with tempfile.TemporaryDirectory() as tmp:
        if sim.load_test:
            return compare_with_library(sim, Path(tmp), later)
        with SimulatorProcess(sim.scale, later, seed=sim.seed, permissions="all-moderated") as full:
            return compare_with_library(full, Path(tmp), later)


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
    """Timed snapshots, a memory series and the general-purpose library on one simulator.

    `max(repeat, snapshots)` consecutive snapshots share one collector writing into
    `data_dir`: the first `repeat` give the medians, all of them the RSS series. The
    library comparison runs an hour later in simulated time, in a data dir of its own.
    """
    count = max(repeat, snapshots)
    chat = not sim.load_test
    lead: dict[str, Any] | None = None
    if chat:
        series = asyncio.run(running_series(sim, data_dir, grid, count, speed))
        runs, lead = series["runs"], series["join"]
    else:
        runs = asyncio.run(collect_series(sim, data_dir, grid, count, speed))
    comparison = _comparison(sim, grid) if compare else None
    rss = [r["rss_after_mb"] for r in runs]
    return {
        "scale": sim.scale,
        "seed": sim.seed,
        "grid_time": grid.isoformat(),
        "speed": speed,
        "permissions": sim.permissions,
        "load_test": sim.load_test,
        "chat": chat,
        "bucket": BUCKET,
        "concurrency": 16,
        "top_n": 2000,
        "snapshot": _collector_figures(runs[:repeat], chat=chat),
        "chat_join": lead,
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
