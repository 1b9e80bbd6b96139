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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow.parquet as pq

from streamcensus.bench.measure import peak_rss_bytes, reset_peak_rss, to_mb
from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.bench.snapshots import collect_series
from streamcensus.lake.schema import raw_path

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
def _instrumented(
    offset: Callable[[], float],
) -> Iterator[tuple[collections.Counter[int], _Counter]]:
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
            mock.patch("time.time", lambda: real_time() + offset()),
        ):
            yield statuses, handler
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = old_propagate, old_level


class _Timer:
    """Starts the simulated clock once the client is set up; reads wall (simulated ×1) and
    CPU time of the collection alone, as the collector's figures are."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self._sim = sim
        self.started = self.wall = self.cpu = 0.0
        self.offset = 0.0
        self._cpu0 = 0.0

    def start(self) -> None:
        self.started = self._sim.set_clock(speed=1.0)
        self.offset = self.started - time.time()
        reset_peak_rss()
        self._cpu0 = time.process_time()

    def stop(self) -> None:
        self.cpu = time.process_time() - self._cpu0
        self.wall = self._sim.clock_epoch() - self.started
        self._sim.set_clock(speed=0)


async def _library_collect(
    sim: SimulatorProcess,
    grant: dict[str, Any],
    timer: _Timer,
    top_n: int,
    language: str,
    concurrency: int,
) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """List channels and read their chatters with pyTwitchAPI; distinct chatters per channel.

    The client is built and authenticated (an app token, the user token validated) before
    `timer` starts, as the collector's session is opened before its snapshot is timed."""
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
    timer.start()
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
    timer.stop()
    await twitch.close()
    return channel_ids, distinct, dict(failures)


def truth_counts(sim: SimulatorProcess, grid: dt.datetime, channels: set[str]) -> dict[str, int]:
    """Distinct accounts in each channel's chat at `grid`, from the simulator's ground
    truth (not from either client's figures); only counts are kept."""
    return {c: len(set(sim.truth_chatter_logins(c, grid))) for c in sorted(channels)}


def our_counts(lake_dir: Path, snapshot_id: str) -> tuple[list[str], dict[str, int]]:
    """The channels our snapshot listed and the chatters it stored per channel."""
    streams = pq.read_table(raw_path(lake_dir, "streams", snapshot_id), columns=["channel_id"])
    chatters = pq.read_table(raw_path(lake_dir, "chatters", snapshot_id), columns=["channel_id"])
    counts = collections.Counter(str(c) for c in chatters.column("channel_id").to_pylist())
    return [str(c) for c in streams.column("channel_id").to_pylist()], dict(counts)


def _against_truth(
    channels: list[str], got: dict[str, int], truth: dict[str, int]
) -> dict[str, int]:
    wanted = sum(truth[c] for c in channels)
    observed = sum(got.get(c, 0) for c in channels)
    return {
        "channels": len(channels),
        "channels_complete": sum(1 for c in channels if got.get(c, 0) == truth[c]),
        "presence_observations": observed,
        "presence_observations_expected": wanted,
        "presence_observations_missed": wanted - observed,
    }


def library_snapshot(
    sim: SimulatorProcess,
    grid: dt.datetime,
    *,
    top_n: int = 2000,
    language: str = "fr",
    concurrency: int = 16,
) -> tuple[dict[str, Any], list[str], dict[str, int]]:
    """One snapshot with pyTwitchAPI at real speed: what it cost, the channels it listed
    and the distinct chatters it read per channel."""
    sim.set_clock(grid, speed=0)
    sim.warm(grid)
    grant = sim.user_token(LIBRARY_CLIENT_ID, sim.operator_id, CHATTERS_SCOPE)
    timer = _Timer(sim)
    # time.time is shifted by the offset the timer measures when it starts the clock
    with _instrumented(lambda: timer.offset) as (statuses, logs):
        channel_ids, distinct, failures = asyncio.run(
            _library_collect(sim, grant, timer, top_n, language, concurrency)
        )
    waits = sum(n for message, n in logs.messages.items() if "rate limit" in message)
    figures = {
        "library": "twitchAPI (pyTwitchAPI) 4.5",
        "wall_s": round(timer.wall, 3),
        "requests": sum(statuses.values()),
        "http_429": statuses.get(429, 0),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rate_limit_sleeps": waits,
        "failures": failures,
        "cpu_s": round(timer.cpu, 3),
        "peak_rss_mb": to_mb(peak_rss_bytes()),
    }
    return figures, channel_ids, distinct


def compare_with_library(
    sim: SimulatorProcess, work_dir: Path, grid: dt.datetime
) -> dict[str, Any] | None:
    """streamcensus's collector and pyTwitchAPI on the same snapshot, both at ×1."""
    try:
        import twitchAPI  # noqa: F401
    except ImportError:
        return {"skipped": "twitchAPI is not installed (pip install twitchAPI==4.5.*)"}
    ours = asyncio.run(collect_series(sim, work_dir, grid, 1, 1.0, client_id=OURS_CLIENT_ID))[0]
    library, library_channels, library_distinct = library_snapshot(sim, grid)
    our_channels, our_distinct = our_counts(work_dir / "lake", ours["snapshot_id"])
    truth = truth_counts(sim, grid, set(our_channels) | set(library_channels))
    library.update(_against_truth(library_channels, library_distinct, truth))
    ours_figures = {
        "library": "streamcensus",
        "wall_s": round(ours["wall_s"], 3),
        "floor_s": round(ours["floor_s"], 3),
        "requests": ours["requests"],
        "http_429": ours["http_429"],
        "rate_limit_waits": ours["rate_limit_waits"],
        **_against_truth(our_channels, our_distinct, truth),
        "cpu_s": round(ours["cpu_s"], 3),
        "peak_rss_mb": ours["peak_rss_mb"],
    }
    floor = ours["floor_s"]
    return {
        "grid_time": grid.isoformat(),
        "speed": 1.0,
        "expected_from": "the simulator's ground truth (/_sim/truth/chatters)",
        "timed": "the collection only, after each client is set up and authenticated",
        "streamcensus": ours_figures,
        "twitchapi": library,
        "wall_ratio_library_over_ours": round(library["wall_s"] / ours["wall_s"], 3)
        if ours["wall_s"] > 0
        else None,
        "library_wall_over_floor": round(library["wall_s"] / floor, 3) if floor > 0 else None,
    }
