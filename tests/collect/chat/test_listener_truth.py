"""The listener over real TCP and WebSocket against the simulated chat, on a driven clock.

The simulator's clock stands still unless the test (or the listener's pacing) moves it, and
every window is closed with the simulator's PING barrier, so each figure is exact and
independent of the machine's speed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from streamcensus.collect.chat import ChatLimits, join_floor
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.timeutil import GRID_SECONDS

from .helpers import (
    EVENING,
    Tally,
    assert_exact,
    coverage,
    make_listener,
    step,
    tallies,
    top_channels,
    truth,
)

StartSimulator = Callable[..., SimulatorHandle]


@pytest.fixture
def sim(running_simulator: StartSimulator, small_world: World) -> SimulatorHandle:
    return running_simulator(small_world, start=EVENING)


async def test_an_hour_of_windows_equals_the_truth(sim: SimulatorHandle, tmp_path: Path) -> None:
    sim.clock.advance(60)  # start inside a window: the first one is partial
    channels = top_channels(sim, 1000)  # every live channel of the small population
    assert len(channels) > 100
    limits = ChatLimits(max_channels_per_connection=45)  # spread over connections
    async with make_listener(sim, tmp_path, limits=limits) as listener:
        t0 = sim.clock.time()
        listener.set_channels(channels)
        assert await listener.settled(60)
        floor = join_floor(len(channels), limits)
        assert floor > 0 and sim.clock.time() - t0 == pytest.approx(floor, abs=0.01)
        assert len(listener.connections) >= 3
        first = await step(listener, sim.clock)  # the window the listener joined in
        cov = coverage(first)
        joined = listener.joined()
        got = tallies(first)
        for ch in channels:
            row = cov[ch.channel_id]
            assert row["status"] == "partial"
            seconds = row["seconds_joined"]
            assert seconds == pytest.approx(first.end.timestamp() - joined[ch.login])
            # joined from its JOIN echo, or from the first message of the room read after the
            # JOIN when the server delivered the clock's jump after joining us: never before
            # the window, never after the join floor
            assert GRID_SECONDS - 60 - floor <= seconds < GRID_SECONDS
            # and what was read equals the truth of the joined interval (message times are
            # whole milliseconds: half of one settles the boundary)
            since = first.end - dt.timedelta(seconds=seconds + 0.0005)
            expected = truth(sim, [ch], since, first.end)[ch.channel_id]
            mine = got.get(ch.channel_id, Tally(0, 0, 0, 0))
            assert (mine.posters, mine.messages) == (expected["posters"], expected["messages"])
        ids = {c.channel_id for c in channels}
        total_messages = 0
        for _ in range(12):  # a simulated hour
            window = await step(listener, sim.clock)
            expected = truth(sim, channels, window.start, window.end)
            assert_exact(window, expected, ids)
            total_messages += sum(t.messages for t in tallies(window).values())
            assert window.key_id == first.key_id
        assert total_messages > 5000  # a busy evening, not an empty comparison
        counters = listener.counters
        assert counters.joins == len(channels) and counters.join_failures == 0
        assert counters.dropped == counters.malformed_lines == counters.late_messages == 0
    assert sim.chat is not None and sim.chat.stats.join_rate_dropped == 0


async def test_websocket_windows_equal_the_truth(sim: SimulatorHandle, tmp_path: Path) -> None:
    channels = top_channels(sim, 10)
    async with make_listener(sim, tmp_path, websocket=True) as listener:
        listener.set_channels(channels)
        assert await listener.settled(60)
        await step(listener, sim.clock)
        for _ in range(2):
            window = await step(listener, sim.clock)
            expected = truth(sim, channels, window.start, window.end)
            assert_exact(window, expected, {c.channel_id for c in channels})
        assert listener.counters.messages > 100


@pytest.mark.parametrize(
    ("n", "limits"),
    [
        (75, ChatLimits(max_connections=1)),  # one connection: 20 joins per 10 s
        (109, ChatLimits()),  # every live channel, spread where that is faster
        (109, ChatLimits(max_channels_per_connection=10, connect_interval=0.5)),
    ],
)
async def test_join_pacing_meets_the_floor_without_tripping_the_limit(
    sim: SimulatorHandle, tmp_path: Path, n: int, limits: ChatLimits
) -> None:
    channels = top_channels(sim, n)
    assert len(channels) == n
    async with make_listener(sim, tmp_path, limits=limits) as listener:
        t0 = sim.clock.time()
        listener.set_channels(channels)
        assert await listener.settled(120)
        took = sim.clock.time() - t0
        floor = join_floor(n, limits)
        assert floor <= took <= floor + 0.05, (took, floor)  # simulated seconds
        assert len(listener.joined()) == n
        stats = httpx.get(f"{sim.base_url}/_sim/chat").json()["counters"]
        assert stats["join_rate_dropped"] == 0
        assert stats["join_attempts"] == stats["joins"] == n
        assert listener.counters.dropped == 0 and listener.counters.join_attempts == n
    if limits.max_connections == 1:
        assert floor == 30.0  # 20 at once, then 20, 20 and 15 ten seconds apart
