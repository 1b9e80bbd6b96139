"""The same snapshot through a general-purpose Twitch library (pyTwitchAPI, `twitchAPI`).

Both collectors list the top 2000 `fr` live channels and read every channel's chatters,
16 channels in flight, at the same grid time, on the same simulator child, each with its
own client id (so each starts with full buckets). The clock runs at real speed (×1):
pyTwitchAPI reads `Ratelimit-Reset` against the machine's clock (`time.time()`), which
on real Twitch agrees with the server's. The simulated clock is set to a Friday evening,
not to now, so while the library runs `time.time` in this process answers the simulated
time (a fixed offset at ×1), as if machine and server shared a clock.

How pyTwitchAPI 4.5 handles the rate limit (`Twitch._check_request_return`): when an answer
is a 429 or carries `Ratelimit-Remaining: 0`, it logs a warning, sleeps until
`Ratelimit-Reset` (the time the bucket is full again) plus 0.1 s, and returns that answer
as it is. A 429 is not retried: its error body becomes an empty result (the first page of
chatters raises on iteration; a later page makes the iterator yield the previous page
again). There is no pacing ahead of time and no notion of requests in flight, and every
call (every page) opens a new aiohttp session. The figures count what that costs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow.parquet as pq

from streamcensus.bench.measure import peak_rss_bytes, reset_peak_rss, to_mb
from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.bench.snapshots import collect_series

LIBRARY_CLIENT_ID = "pytwitchapi-bench"
OURS_CLIENT_ID = "streamcensus-bench-compare"
CHATTERS_SCOPE = "moderator:read:chatters"


class _Counter(logging.Handler):
    """Counts the library's log records by message (its rate-limit waits are warnings)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages[record.getMessage()] += 1


@contextlib.contextmanager
def _instrumented(offset: float) -> Iterator[tuple[collections.Counter[int], _Counter]]:
    """Count every aiohttp request by status and the library's log lines; shift time.time."""
    import aiohttp

    statuses: collections.Counter[int] = collections.Counter()
    original = aiohttp.ClientSession._request
    real_time = time.time

    async def counted(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> Any:
        response = await original(self, *args, **kwargs)
        statuses[int(response.status)] += 1
        return response

    handler = _Counter()
    logger = logging.getLogger("twitchAPI")
    old_propagate, old_level = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        with (
            mock.patch.object(aiohttp.ClientSession, "_request", counted),
            mock.patch("time.time", lambda: real_time() + offset),
        ):
            yield statuses, handler
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = old_propagate, old_level


async def _library_collect(
    sim: SimulatorProcess, grant: dict[str, Any], top_n: int, language: str, concurrency: int
) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """List channels and read their chatters with pyTwitchAPI; distinct chatters per channel."""
    from twitchAPI.twitch import Twitch
    from twitchAPI.type import AuthScope

    twitch = await Twitch(
        LIBRARY_CLIENT_ID,
        "bench-secret",
        base_url=sim.helix_url + "/",
        auth_base_url=sim.auth_url + "/",
    )
    await twitch.set_user_authentication(
        grant["access_token"], [AuthScope.MODERATOR_READ_CHATTERS], grant["refresh_token"]
    )
    channel_ids: list[str] = []
    listing = twitch.get_streams(language=[language], first=100)
    async with contextlib.aclosing(listing):
        async for stream in listing:
            channel_ids.append(stream.user_id)
            if len(channel_ids) >= top_n:
                break
    gate = asyncio.Semaphore(concurrency)
    distinct: dict[str, int] = {}
    failures: collections.Counter[str] = collections.Counter()

    async def one(channel_id: str) -> None:
        async with gate:
            seen: set[str] = set()
            try:
                result = await twitch.get_chatters(channel_id, sim.operator_id, first=1000)
                async for chatter in result:
                    seen.add(chatter.user_id)
            except Exception as exc:  # the library's failure modes are what is measured
                failures[type(exc).__name__] += 1
            distinct[channel_id] = len(seen)
            del seen  # logins and ids leave memory here; only counts are kept

    await asyncio.gather(*(one(c) for c in channel_ids))
    await twitch.close()
    return channel_ids, distinct, dict(failures)


def _expected_totals(lake_dir: Path) -> dict[str, int]:
    """Chatters per channel (Helix `total`) from the streamcensus snapshot of the same tick."""
    files = sorted((lake_dir / "raw" / "streams").rglob("*.parquet"))
    table = pq.read_table(files[-1], columns=["channel_id", "chatters_total"])
    return {
        str(c): int(t or 0)
        for c, t in zip(
            table.column("channel_id").to_pylist(),
            table.column("chatters_total").to_pylist(),
            strict=True,
        )
    }


def library_snapshot(
    sim: SimulatorProcess,
    grid: dt.datetime,
    expected: dict[str, int],
    *,
    top_n: int = 2000,
    language: str = "fr",
    concurrency: int = 16,
) -> dict[str, Any]:
    """One snapshot with pyTwitchAPI at real speed; what it cost and what it missed."""
    sim.set_clock(grid, speed=0)
    sim.warm(grid)
    grant = sim.user_token(LIBRARY_CLIENT_ID, sim.operator_id, CHATTERS_SCOPE)
    started = sim.set_clock(speed=1.0)
    offset = started - time.time()
    reset_peak_rss()
    cpu = time.process_time()
    with _instrumented(offset) as (statuses, logs):
        channel_ids, distinct, failures = asyncio.run(
            _library_collect(sim, grant, top_n, language, concurrency)
        )
    cpu = time.process_time() - cpu
    wall = sim.clock_epoch() - started
    sim.set_clock(speed=0)
    wanted = sum(expected.get(c, 0) for c in channel_ids)
    got = sum(distinct.values())
    complete = sum(1 for c in channel_ids if distinct.get(c, 0) == expected.get(c, -1))
    waits = sum(n for message, n in logs.messages.items() if "rate limit" in message)
    return {
        "library": "twitchAPI (pyTwitchAPI) 4.5",
        "wall_s": round(wall, 3),
        "requests": sum(statuses.values()),
        "http_429": statuses.get(429, 0),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rate_limit_sleeps": waits,
        "channels": len(channel_ids),
        "channels_complete": complete,
        "presence_observations": got,
        "presence_observations_expected": wanted,
        "presence_observations_missed": wanted - got,
        "failures": failures,
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": to_mb(peak_rss_bytes()),
    }


def compare_with_library(
    sim: SimulatorProcess, work_dir: Path, grid: dt.datetime
) -> dict[str, Any] | None:
    """streamcensus's collector and pyTwitchAPI on the same snapshot, both at ×1."""
    try:
        import twitchAPI  # noqa: F401
    except ImportError:
        return {"skipped": "twitchAPI is not installed (pip install twitchAPI==4.5.*)"}
    ours = asyncio.run(collect_series(sim, work_dir, grid, 1, 1.0, client_id=OURS_CLIENT_ID))[0]
    expected = _expected_totals(work_dir / "lake")
    library = library_snapshot(sim, grid, expected)
    ours_figures = {
        "library": "streamcensus",
        "wall_s": round(ours["wall_s"], 3),
        "floor_s": round(ours["floor_s"], 3),
        "requests": ours["requests"],
        "http_429": ours["http_429"],
        "rate_limit_waits": ours["rate_limit_waits"],
        "channels": ours["channels"],
        "channels_complete": ours["channels_with_chatters"],
        "presence_observations": ours["presence_observations"],
        "presence_observations_expected": sum(expected.values()),
        "presence_observations_missed": sum(expected.values()) - ours["presence_observations"],
        "cpu_s": round(ours["cpu_s"], 3),
        "peak_rss_mb": ours["peak_rss_mb"],
    }
    floor = ours["floor_s"]
    return {
        "grid_time": grid.isoformat(),
        "speed": 1.0,
        "streamcensus": ours_figures,
        "twitchapi": library,
        "wall_ratio_library_over_ours": round(library["wall_s"] / ours["wall_s"], 3)
        if ours["wall_s"] > 0
        else None,
        "library_wall_over_floor": round(library["wall_s"] / floor, 3) if floor > 0 else None,
    }
