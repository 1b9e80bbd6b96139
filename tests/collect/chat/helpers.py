"""Shared pieces of the chat listener tests: a listener on a simulator, the truth, tallies."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from streamcensus.clock import SimClock
from streamcensus.collect.chat import ChatChannel, ChatLimits, ChatListener, ChatWindow
from streamcensus.keys import KeyStore
from streamcensus.simulator.names import SERVICE_BOTS
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.timeutil import GRID_SECONDS, from_epoch

EVENING = 1_795_810_200.0  # 2026-11-27T20:10:00Z, a Friday evening, on the 5-minute grid
ALL_SERVICE_BOTS = tuple(login for login, _, _ in SERVICE_BOTS)


def top_channels(sim: SimulatorHandle, n: int) -> list[ChatChannel]:
    """The `n` most watched live channels now, as a snapshot would list them."""
    live = sim.world.live_streams(sim.clock.time())[:n]
    return [ChatChannel(s.user_login, s.user_id) for s in live]


def make_listener(
    sim: SimulatorHandle,
    state_dir: Path,
    *,
    websocket: bool = False,
    limits: ChatLimits | None = None,
    url: str | None = None,
    **kwargs: Any,
) -> ChatListener:
    if url is None:
        url = sim.chat_ws_url if websocket else f"{sim.irc_host}:{sim.irc_port}"
    kwargs.setdefault("known_bots", ALL_SERVICE_BOTS)
    return ChatListener(
        url,
        clock=sim.clock,
        keys=KeyStore(state_dir, 1, sim.clock),
        limits=limits or ChatLimits(),
        **kwargs,
    )


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait (bounded, real time) for something the listener reads from the network."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the listener did not see it in time"
        await asyncio.sleep(0.01)


def next_grid(t: float) -> float:
    return t - t % GRID_SECONDS + GRID_SECONDS


async def step(listener: ChatListener, clock: SimClock) -> ChatWindow:
    """Advance the standing clock to the next grid time and close that window."""
    end = next_grid(clock.time())
    clock.advance(end - clock.time())
    windows = await listener.close_windows(from_epoch(end))
    assert windows and windows[-1].end == from_epoch(end)
    return windows[-1]


def truth(
    sim: SimulatorHandle, channels: Sequence[ChatChannel], start: dt.datetime, end: dt.datetime
) -> dict[str, dict[str, Any]]:
    """The simulator's ground truth per channel id for [start, end)."""
    response = httpx.get(
        f"{sim.base_url}/_sim/truth/chat_activity",
        params={
            "channel": ",".join(c.login for c in channels),
            "start": start.timestamp(),
            "end": end.timestamp(),
        },
        timeout=60,
    )
    response.raise_for_status()
    return {row["channel_id"]: row for row in response.json()["channels"]}


@dataclass(frozen=True)
class Tally:
    posters: int
    messages: int
    bot_posters: int
    bot_messages: int


def tallies(window: ChatWindow) -> dict[str, Tally]:
    """Per channel id: distinct posters and messages, bots apart, from the activity table."""
    rows = window.activity.to_pylist()
    posters: Counter[str] = Counter(r["channel_id"] for r in rows)
    messages: Counter[str] = Counter()
    bots: Counter[str] = Counter()
    bot_messages: Counter[str] = Counter()
    for r in rows:
        messages[r["channel_id"]] += r["messages"]
        if r["is_bot"]:
            bots[r["channel_id"]] += 1
            bot_messages[r["channel_id"]] += r["messages"]
    return {c: Tally(posters[c], messages[c], bots[c], bot_messages[c]) for c in set(posters)}


def coverage(window: ChatWindow) -> dict[str, dict[str, Any]]:
    return {row["channel_id"]: row for row in window.coverage.to_pylist()}


def assert_exact(window: ChatWindow, expected: dict[str, dict[str, Any]], ids: set[str]) -> None:
    """Channels `ids` are complete in `window` and equal the truth in every figure."""
    got = tallies(window)
    cov = coverage(window)
    for channel_id in ids:
        row = expected[channel_id]
        mine = got.get(channel_id, Tally(0, 0, 0, 0))
        assert cov[channel_id]["status"] == "complete", (channel_id, cov[channel_id])
        assert cov[channel_id]["seconds_joined"] == GRID_SECONDS
        assert (mine.posters, mine.messages) == (row["posters"], row["messages"]), channel_id
        assert (mine.bot_posters, mine.bot_messages) == (row["bot_posters"], row["bot_messages"])
        assert cov[channel_id]["usernotices"] == row["usernotices"]
        assert cov[channel_id]["clearchats"] == row["clearchats"]
