"""Chat faults from the simulator's fault plan: each counted, the rest of the community intact.

Twelve channels on three connections (four each). After a clean window, a fault is injected;
the windows it touches must be marked partial with the seconds really joined (or carry the
lines that could not be read), every other channel must still equal the truth exactly, and
the listener must be back to complete windows afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamcensus.collect.chat import ChatChannel, ChatLimits, ChatListener, ChatWindow
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
    until,
)

StartSimulator = Callable[..., SimulatorHandle]
LIMITS = ChatLimits(max_channels_per_connection=4)


@pytest.fixture
def sim(running_simulator: StartSimulator, small_world: World) -> SimulatorHandle:
    return running_simulator(small_world, start=EVENING + 1)


def plan(sim: SimulatorHandle, *rules: dict[str, Any]) -> None:
    r = httpx.post(f"{sim.base_url}/_sim/faults", json={"seed": 5, "rules": list(rules)})
    assert r.status_code == 200, r.text


def injected(sim: SimulatorHandle) -> dict[str, int]:
    by_fault: dict[str, int] = httpx.get(f"{sim.base_url}/_sim/faults").json()["by_fault"]
    return by_fault


def server_counters(sim: SimulatorHandle) -> dict[str, Any]:
    counters: dict[str, Any] = httpx.get(f"{sim.base_url}/_sim/chat").json()["counters"]
    return counters


async def joined_and_clean(
    sim: SimulatorHandle, listener: ChatListener, channels: list[ChatChannel]
) -> None:
    """Join, close the partial first window, then check one clean window."""
    listener.set_channels(channels)
    assert await listener.settled(60)
    await step(listener, sim.clock)
    window = await step(listener, sim.clock)
    assert_exact(window, truth(sim, channels, window.start, window.end), ids(channels))


def ids(channels: list[ChatChannel]) -> set[str]:
    return {c.channel_id for c in channels}


def on_connection_of(listener: ChatListener, login: str, channels: list[ChatChannel]) -> set[str]:
    conn = listener.channels[login].conn
    assert conn is not None
    return {c.channel_id for c in channels if listener.channels[c.login].conn is conn}


def lost(window: ChatWindow, expected: dict[str, dict[str, Any]], which: set[str]) -> int:
    """Lines of the truth that `window` lacks over channels `which` (messages and notices)."""
    got = tallies(window)
    cov = coverage(window)
    total = 0
    for channel_id in which:
        mine = got.get(channel_id, Tally(0, 0, 0, 0))
        row = expected[channel_id]
        assert mine.messages <= row["messages"] and mine.posters <= row["posters"]
        total += row["messages"] - mine.messages
        total += row["usernotices"] - cov[channel_id]["usernotices"]
        total += row["clearchats"] - cov[channel_id]["clearchats"]
    return total


@pytest.mark.parametrize("fault", ["irc_reset", "irc_reconnect"])
async def test_a_dropped_connection_is_rejoined_and_its_gap_marked(
    sim: SimulatorHandle, tmp_path: Path, fault: str
) -> None:
    channels = top_channels(sim, 12)
    async with make_listener(sim, tmp_path, limits=LIMITS) as listener:
        await joined_and_clean(sim, listener, channels)
        victim = channels[0].login
        hit = on_connection_of(listener, victim, channels)
        assert len(hit) == 4
        plan(sim, {"path": f"/chat/message/{victim}", "fault": fault, "skip": 3, "count": 1})
        window = await step(listener, sim.clock)
        expected = truth(sim, channels, window.start, window.end)
        assert injected(sim) == {fault: 1}
        counters = listener.counters
        if fault == "irc_reset":
            assert (counters.dropped, counters.reconnects) == (1, 0)
            assert counters.malformed_lines == 1  # the half line before the reset
        else:
            assert (counters.dropped, counters.reconnects) == (0, 1)
        assert_exact(window, expected, ids(channels) - hit)
        cov = coverage(window)
        for channel_id in hit:
            assert cov[channel_id]["status"] == "partial"
            assert 0 < cov[channel_id]["seconds_joined"] < GRID_SECONDS
        assert lost(window, expected, hit) >= 1
        assert await listener.settled(60)
        assert len(listener.joined()) == 12
        since = listener.joined()
        rejoined = await step(listener, sim.clock)  # RECONNECT: at once; reset: after 1 s
        end = rejoined.end.timestamp()
        back = {c.channel_id: end - since[c.login] for c in channels if c.channel_id in hit}
        assert all(GRID_SECONDS - 10 < s <= GRID_SECONDS for s in back.values())
        assert (fault == "irc_reset") == all(s < GRID_SECONDS for s in back.values())
        cov = coverage(rejoined)
        for channel_id, seconds in back.items():
            assert cov[channel_id]["seconds_joined"] == pytest.approx(seconds)
        full = {c for c in ids(channels) if cov[c]["seconds_joined"] == GRID_SECONDS}
        assert_exact(rejoined, truth(sim, channels, rejoined.start, rejoined.end), full)
        assert full >= ids(channels) - hit
        after = await step(listener, sim.clock)
        assert_exact(after, truth(sim, channels, after.start, after.end), ids(channels))
        assert listener.counters.connections == 4


@pytest.mark.parametrize("fault", ["irc_malformed", "irc_truncated"])
async def test_unreadable_lines_are_counted_and_charged(
    sim: SimulatorHandle, tmp_path: Path, fault: str
) -> None:
    channels = top_channels(sim, 12)
    async with make_listener(sim, tmp_path, limits=LIMITS) as listener:
        await joined_and_clean(sim, listener, channels)
        victim = channels[1]
        hit = on_connection_of(listener, victim.login, channels)
        plan(sim, {"path": f"/chat/message/{victim.login}", "fault": fault, "skip": 2, "count": 3})
        window = await step(listener, sim.clock)
        expected = truth(sim, channels, window.start, window.end)
        assert injected(sim) == {fault: 3}
        counters = listener.counters
        assert counters.malformed_lines == 3
        assert counters.dropped == counters.reconnects == 0  # the connection stays
        cov = coverage(window)
        assert cov[victim.channel_id]["status"] == "partial"
        assert cov[victim.channel_id]["malformed_lines"] == 3
        assert cov[victim.channel_id]["seconds_joined"] == GRID_SECONDS
        charged = {c for c in hit if cov[c]["malformed_lines"]}
        assert victim.channel_id in charged
        assert lost(window, expected, hit) == 3  # exactly the lines replaced
        assert_exact(window, expected, ids(channels) - charged)
        after = await step(listener, sim.clock)
        assert_exact(after, truth(sim, channels, after.start, after.end), ids(channels))


async def test_a_server_restart_rejoins_everything(sim: SimulatorHandle, tmp_path: Path) -> None:
    channels = top_channels(sim, 12)
    async with make_listener(sim, tmp_path, limits=LIMITS) as listener:
        await joined_and_clean(sim, listener, channels)
        sim.clock.advance(100)
        sent = httpx.post(f"{sim.base_url}/_sim/chat/reconnect").json()["sent"]
        assert sent == 3
        await until(lambda: listener.counters.reconnects == 3)
        assert await listener.settled(60)
        assert listener.counters.reconnects == 3 and len(listener.joined()) == 12
        window = await step(listener, sim.clock)
        expected = truth(sim, channels, window.start, window.end)
        cov = coverage(window)
        for c in channels:
            assert cov[c.channel_id]["status"] == "partial"
            assert GRID_SECONDS - 120 < cov[c.channel_id]["seconds_joined"] < GRID_SECONDS
        lost(window, expected, ids(channels))  # never more than the truth
        after = await step(listener, sim.clock)
        assert_exact(after, truth(sim, channels, after.start, after.end), ids(channels))
        assert server_counters(sim)["join_rate_dropped"] == 0


async def test_suspended_and_unknown_channels_are_marked_not_retried(
    sim: SimulatorHandle, tmp_path: Path
) -> None:
    channels = top_channels(sim, 6)
    suspended = channels[2]
    unknown = ChatChannel("no_such_channel_zz", "999999999")
    plan(sim, {"path": f"/chat/join/{suspended.login}", "fault": "irc_suspended"})
    async with make_listener(sim, tmp_path, limits=LIMITS) as listener:
        listener.set_channels([*channels, unknown])
        assert await listener.settled(60)
        await step(listener, sim.clock)
        for _ in range(3):
            window = await step(listener, sim.clock)
            cov = coverage(window)
            for gone in (suspended, unknown):
                assert cov[gone.channel_id]["status"] == "suspended"
                assert cov[gone.channel_id]["seconds_joined"] == 0
            healthy = [c for c in channels if c != suspended]
            assert_exact(window, truth(sim, healthy, window.start, window.end), ids(healthy))
        counters = listener.counters
        assert counters.suspended == 2 and counters.notices == 2
        assert counters.join_attempts == 7  # not retried: suspended_retry is an hour
    assert injected(sim) == {"irc_suspended": 1}


async def test_a_refused_join_is_retried_later(sim: SimulatorHandle, tmp_path: Path) -> None:
    channels = top_channels(sim, 6)
    refused = channels[4]
    plan(sim, {"path": f"/chat/join/{refused.login}", "fault": "irc_join_refused", "count": 1})
    async with make_listener(sim, tmp_path, limits=LIMITS) as listener:
        listener.set_channels(channels)
        assert await listener.settled(60)
        assert listener.counters.join_failures == 1 and refused.login not in listener.joined()
        first = await step(listener, sim.clock)
        assert coverage(first)[refused.channel_id]["status"] == "not_joined"
        assert await listener.settled(60)  # the clock moved past the retry time
        assert refused.login in listener.joined()
        window = await step(listener, sim.clock)
        assert_exact(window, truth(sim, channels, window.start, window.end), ids(channels))
        assert listener.counters.join_attempts == 7


async def test_a_join_that_gets_the_connection_dropped(
    sim: SimulatorHandle, tmp_path: Path
) -> None:
    channels = top_channels(sim, 8)
    culprit = channels[1]
    plan(sim, {"path": f"/chat/join/{culprit.login}", "fault": "irc_join_ratelimited", "count": 1})
    async with make_listener(sim, tmp_path, limits=LIMITS) as listener:
        listener.set_channels(channels)
        assert await listener.settled(60)
        assert len(listener.joined()) == 8
        counters = listener.counters
        assert counters.dropped == 1 and counters.join_failures >= 1
        assert server_counters(sim)["join_rate_dropped"] == 1  # the injected drop only
        await step(listener, sim.clock)
        window = await step(listener, sim.clock)
        assert_exact(window, truth(sim, channels, window.start, window.end), ids(channels))


async def test_channels_no_longer_listed_are_parted(sim: SimulatorHandle, tmp_path: Path) -> None:
    channels = top_channels(sim, 8)
    async with make_listener(sim, tmp_path, limits=LIMITS) as listener:
        await joined_and_clean(sim, listener, channels)
        sim.clock.advance(120)
        kept, gone = channels[:5], channels[5:]
        listener.set_channels(kept)
        assert await listener.settled(60)
        assert set(listener.joined()) == {c.login for c in kept}
        assert listener.counters.parts == 3
        assert httpx.get(f"{sim.base_url}/_sim/chat").json()["rooms_joined"] == 5
        window = await step(listener, sim.clock)
        cov = coverage(window)
        for c in gone:
            assert cov[c.channel_id]["status"] == "partial"
            assert cov[c.channel_id]["seconds_joined"] == 120
        assert_exact(window, truth(sim, kept, window.start, window.end), ids(kept))
        later = await step(listener, sim.clock)
        assert set(coverage(later)) == ids(kept)  # parted channels leave the coverage table
