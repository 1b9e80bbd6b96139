"""Suite `simulator`: how fast the simulated Twitch serves one snapshot's worth of requests.

A load generator in this process sends, over real HTTP to the simulator child, what one
snapshot needs: the stream pages of the community's top `top_n` live channels (sequential,
cursor after cursor), then every live channel's chatter pages, `concurrency` in flight.
The child's rate limit is lifted (every request does the full work, none is a cheap 429)
and its clock stands still, so every request sees the same tick. The first request on a
fresh tick is timed apart: it is when the simulator computes the tick's chat lists.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
from typing import Any

from streamcensus.bench.measure import median_of, percentiles_ms, summary, to_mb
from streamcensus.bench.rawhttp import RawClient
from streamcensus.bench.simproc import NO_RATE_LIMIT, SimulatorProcess

CLIENT_ID = "streamcensus-bench-load"
CHATTERS_SCOPE = "moderator:read:chatters"
STREAMS_PAGE = 100
CHATTERS_PAGE = 1000


class LoadGenerator:
    """One snapshot's requests against a simulator, with per-request latencies."""

    def __init__(self, sim: SimulatorProcess, language: str, top_n: int, concurrency: int) -> None:
        self.sim = sim
        self.language = language
        self.top_n = top_n
        self.concurrency = concurrency
        self.app_headers = {
            "Client-Id": CLIENT_ID,
            "Authorization": f"Bearer {sim.app_token(CLIENT_ID)}",
        }
        grant = sim.user_token(CLIENT_ID, sim.operator_id, CHATTERS_SCOPE)
        self.user_headers = {
            "Client-Id": CLIENT_ID,
            "Authorization": f"Bearer {grant['access_token']}",
        }

    async def _get(
        self,
        http: RawClient,
        path: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        latencies: list[float],
    ) -> bytes:
        began = time.perf_counter()
        status, body = await http.get(f"/helix{path}", params, headers)
        latencies.append(time.perf_counter() - began)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:200]!r}")
        return body

    async def cold_request(self, http: RawClient) -> float:
        """The latency of the first stream page on a tick nobody asked about yet."""
        latencies: list[float] = []
        params = [("language", self.language), ("first", str(STREAMS_PAGE))]
        await self._get(http, "/streams", params, self.app_headers, latencies)
        return latencies[0]

    async def snapshot(self, http: RawClient) -> dict[str, Any]:
        """Stream pages, then every listed channel's chatters; latencies and counts."""
        streams_lat: list[float] = []
        chatters_lat: list[float] = []
        channel_ids: list[str] = []
        began = time.perf_counter()
        after: str | None = None
        while len(channel_ids) < self.top_n:
            params = [("language", self.language), ("first", str(STREAMS_PAGE))]
            if after:
                params.append(("after", after))
            body = await self._get(http, "/streams", params, self.app_headers, streams_lat)
            page = json.loads(body)
            channel_ids += [item["user_id"] for item in page["data"]]
            after = page["pagination"].get("cursor")
            if not after or not page["data"]:
                break
        channel_ids = channel_ids[: self.top_n]
        listed = time.perf_counter()
        gate = asyncio.Semaphore(self.concurrency)
        chatters = 0

        async def one(channel_id: str) -> None:
            nonlocal chatters
            cursor: str | None = None
            async with gate:
                while True:
                    params = [
                        ("broadcaster_id", channel_id),
                        ("moderator_id", self.sim.operator_id),
                        ("first", str(CHATTERS_PAGE)),
                    ]
                    if cursor:
                        params.append(("after", cursor))
                    body = await self._get(
                        http, "/chat/chatters", params, self.user_headers, chatters_lat
                    )
                    chatters += body.count(b'{"user_id"')
                    cursor = tail_cursor(body)
                    if not cursor:
                        return

        await asyncio.gather(*(one(c) for c in channel_ids))
        ended = time.perf_counter()
        requests = len(streams_lat) + len(chatters_lat)
        wall = ended - began
        return {
            "channels": len(channel_ids),
            "chatters": chatters,
            "requests": requests,
            "streams_requests": len(streams_lat),
            "chatters_requests": len(chatters_lat),
            "wall_s": wall,
            "listing_s": listed - began,
            "requests_per_s": requests / wall if wall > 0 else None,
            "latency_ms": percentiles_ms(streams_lat + chatters_lat),
            "streams_latency_ms": percentiles_ms(streams_lat),
            "chatters_latency_ms": percentiles_ms(chatters_lat),
        }


def tail_cursor(body: bytes) -> str | None:
    """The `pagination.cursor` of a Helix page, read from the body's end (no full parse)."""
    at = body.rfind(b'"pagination":')
    if at < 0:
        raise ValueError("a Helix page without pagination")
    pagination: dict[str, Any] = json.loads(body[at + len(b'"pagination":') : -1])
    cursor = pagination.get("cursor")
    return str(cursor) if cursor else None


async def _serve_snapshots(
    sim: SimulatorProcess,
    grid: dt.datetime,
    repeat: int,
    language: str,
    top_n: int,
    concurrency: int,
) -> list[dict[str, Any]]:
    load = LoadGenerator(sim, language, top_n, concurrency)
    runs: list[dict[str, Any]] = []
    async with RawClient("127.0.0.1", sim.port, concurrency) as http:
        for i in range(repeat):
            sim.set_clock(grid + dt.timedelta(minutes=5 * i), speed=0)
            cold = await load.cold_request(http)
            server_cpu = sim.cpu_seconds()
            client_cpu = time.process_time()
            run = await load.snapshot(http)
            run["server_cpu_s"] = sim.cpu_seconds() - server_cpu
            run["client_cpu_s"] = time.process_time() - client_cpu
            run["cold_tick_s"] = cold
            runs.append(run)
    return runs


_BUILD_PROBE = """
import json, sys, time
began = time.perf_counter()
from streamcensus.simulator.world import PopulationWorld
imported = time.perf_counter()
world = PopulationWorld(scale=sys.argv[1], seed=int(sys.argv[2]))
built = time.perf_counter()
import psutil
print(json.dumps({"import_s": imported - began, "build_s": built - imported,
                  "rss": psutil.Process().memory_info().rss}))
"""


def world_build(scale: str, seed: int) -> dict[str, Any]:
    """Build the population once in a fresh interpreter: seconds and RSS after."""
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_PROBE, scale, str(seed)],
        capture_output=True,
        check=True,
        text=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_simulator_suite(
    scale: str,
    grid: dt.datetime,
    repeat: int,
    *,
    seed: int = 42,
    language: str = "fr",
    top_n: int = 2000,
    concurrency: int = 16,
) -> dict[str, Any]:
    """Requests/s, latency percentiles, server memory and world construction time."""
    builds = [world_build(scale, seed) for _ in range(repeat)]
    with SimulatorProcess(  # every chat list read: the server's full workload (a load test)
        scale, grid, seed=seed, rate_limit=NO_RATE_LIMIT, permissions="all-moderated"
    ) as sim:
        rss_built = sim.rss_bytes()
        runs = asyncio.run(_serve_snapshots(sim, grid, repeat, language, top_n, concurrency))
        rss_served = sim.rss_bytes()
        startup = sim.startup_seconds
    latency = {
        key: median_of([r["latency_ms"] for r in runs], key) for key in ("p50", "p90", "p99", "max")
    }
    return {
        "scale": scale,
        "seed": seed,
        "grid_time": grid.isoformat(),
        "concurrency": concurrency,
        "rate_limit": "lifted",
        "world_build_s": summary([b["build_s"] for b in builds]),
        "world_rss_mb": summary([to_mb(b["rss"]) for b in builds]),
        "server_startup_s": round(startup, 3),
        "server_rss_after_build_mb": to_mb(rss_built),
        "server_rss_after_serving_mb": to_mb(rss_served),
        "channels": median_of(runs, "channels"),
        "chatters": median_of(runs, "chatters"),
        "requests": median_of(runs, "requests"),
        "streams_requests": median_of(runs, "streams_requests"),
        "chatters_requests": median_of(runs, "chatters_requests"),
        "snapshot_wall_s": median_of(runs, "wall_s"),
        "requests_per_s": median_of(runs, "requests_per_s"),
        "latency_ms": latency,
        "cold_tick_s": median_of(runs, "cold_tick_s"),
        "server_cpu_s": median_of(runs, "server_cpu_s"),
        "client_cpu_s": median_of(runs, "client_cpu_s"),
        "runs": runs,
    }
