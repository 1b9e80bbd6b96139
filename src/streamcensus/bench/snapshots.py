"""Timed snapshots of our collector against a simulator child: the `collector` suite's
measurement, also used by the storage suite and the library comparison.

Two ways, as the collector suite's permissions say:
- `running_series` (realistic permissions, chat activity on: what a user runs): the
  simulator's clock runs without stopping, as Twitch's does; the collector takes each
  snapshot when its grid time comes, and its chat listener reads the community's chat
  between them. The process's CPU is split into the Helix snapshot and the listener.
- `collect_series` (the all-moderated load test, and the library comparison; Helix only):
  the simulator's clock is set to each grid time, the tick computed while the clock stands
  still, then simulated time flows at `speed` while the collector works.
Wall time is read on the simulated clock (the manifest's start and end).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from streamcensus.bench.measure import (
    peak_rss_bytes,
    reset_peak_rss,
    rss_bytes,
    to_mb,
)
from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.collect.session import CollectSession, open_collector
from streamcensus.config import Settings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import CHATTERS_OK
from streamcensus.timeutil import GRID_SECONDS

BUCKET = 800  # Helix points per minute, the simulator's default
WINDOW = 60.0
CHATTERS_PAGE = 1000
CLIENT_ID = "streamcensus-bench"


def bench_settings(
    data_dir: Path, client_id: str, top_n: int = 2000, *, chat: bool = False
) -> Settings:
    """The collector's default settings (top 2000 `fr` channels, 16 in flight) in `data_dir`;
    chat activity on or off (`chat`)."""
    return Settings.model_validate(
        {
            "data_dir": data_dir,
            "client_id": client_id,
            "top_n": top_n,
            "language": "fr",
            "chat_enabled": chat,
        }
    )


def bucket_requests(lake_dir: Path, record: ManifestRecord) -> tuple[int, int]:
    """(app-token requests, user-token requests) of a snapshot.

    Chatter pages per channel follow from the Helix `total` in the streams file (a page
    holds 1000, an empty list still costs one request); a 403 costs one (a channel no token
    may read costs none: it is not requested); the rest of the snapshot's requests went to
    the app bucket (stream pages). User-token requests are counted as one bucket, which
    they are in the all-moderated load test (one operator token); under realistic
    permissions each consenting broadcaster's token has a bucket of its own, far from full.
    """
    streams = pq.read_table(
        lake_dir / record.files["streams"]["path"], columns=["chatters_status", "chatters_total"]
    ).to_pylist()
    user = 0
    for row in streams:
        if row["chatters_status"] == CHATTERS_OK:
            user += max(1, math.ceil((row["chatters_total"] or 0) / CHATTERS_PAGE))
    user += record.errors.get("http_403", 0) + record.retries
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
    return {
        **record_figures(session, record),
        "real_s": real,
        "cpu_s": cpu,
        "cpu_share_of_interval": cpu / GRID_SECONDS,
        "peak_rss_mb": to_mb(peak_rss_bytes()),
        "rss_after_mb": to_mb(rss_bytes()),
        "tick_warmup_s": warm,
    }


def record_figures(session: CollectSession, record: ManifestRecord) -> dict[str, Any]:
    """What a snapshot's manifest and files say: requests by bucket, the floor, wall time."""
    lake_dir = Path(session.collector.writer.lake_dir)  # the benchmarks' lake is local
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
        "token_validations": record.token_validations,
        "http_429": record.http_429,
        "rate_limit_waits": record.rate_limit_waits,
        "wall_s": wall,
        "floor_s": floor,
        "wall_over_floor": wall / floor if floor > 0 else None,
        "chatters_bytes": record.files["chatters"]["bytes"],
        "streams_bytes": record.files["streams"]["bytes"],
    }


async def collect_series(  # the load test and the library comparison: Helix only
    sim: SimulatorProcess,
    data_dir: Path,
    grid: dt.datetime,
    count: int,
    speed: float,
    client_id: str = CLIENT_ID,
) -> list[dict[str, Any]]:
    """`count` consecutive snapshots (grid, grid + 5 min, ...) with one collector."""
    settings = bench_settings(data_dir, client_id, chat=False)
    runs: list[dict[str, Any]] = []
    async with open_collector(settings, helix_url=sim.helix_url, auth_url=sim.auth_url) as session:
        for i in range(count):
            moment = grid + dt.timedelta(minutes=5 * i)
            runs.append(await timed_snapshot(session, sim, moment, speed))
    return runs
