"""A general-purpose IRC library (jaraco's `irc`) reads the simulated chat anonymously.

It is given only the chat's host and port; it registers as `justinfan…`, asks for
Twitch's capabilities, joins channels and receives PRIVMSGs with their IRCv3 tags, parsed
by its own code. The clock is moved by the test; the library's own PING is the barrier.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import irc.client

from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle

StartSimulator = Callable[..., SimulatorHandle]
EVENING = 1_795_810_200.0  # 2026-11-27T20:10:00Z
WAIT = 30.0  # seconds before a test gives up waiting for an event (bounded loop)


def pump_until(reactor: irc.client.Reactor, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        assert time.monotonic() < deadline, "the IRC library saw nothing in time"
        reactor.process_once(timeout=0.05)


def test_irc_library_receives_tagged_privmsgs(
    running_simulator: StartSimulator, small_world: World
) -> None:
    sim = running_simulator(small_world, start=EVENING)
    channels = [s.user_login for s in small_world.live_streams(EVENING)[:4]]
    events: dict[str, list[Any]] = {"welcome": [], "cap": [], "join": [], "pubmsg": [], "pong": []}
    reactor = irc.client.Reactor()
    for kind, seen in events.items():
        reactor.add_global_handler(kind, lambda _c, e, seen=seen: seen.append(e))
    conn = reactor.server().connect(sim.irc_host, sim.irc_port, "justinfan31337")
    try:
        conn.cap("REQ", "twitch.tv/tags", "twitch.tv/commands")
        pump_until(reactor, lambda: bool(events["welcome"]) and bool(events["cap"]))
        assert events["cap"][0].arguments[:2] == ["ACK", "twitch.tv/tags twitch.tv/commands"]
        for channel in channels:
            conn.join(f"#{channel}")
        pump_until(reactor, lambda: len(events["join"]) == len(channels))
        sim.clock.advance(300)
        conn.ping("after")
        pump_until(reactor, lambda: bool(events["pong"]))
        got = events["pubmsg"]
        assert len(got) > 10
        for event in got:
            tags = {t["key"]: t["value"] for t in event.tags}
            assert event.target in {f"#{c}" for c in channels}
            assert int(tags["tmi-sent-ts"]) <= sim.clock.time() * 1000
            assert tags["user-id"].isdigit() and tags["room-id"].isdigit()
            assert event.source.nick == tags["display-name"].lower()
            assert event.arguments and event.arguments[0]
        stamps = [int({t["key"]: t["value"] for t in e.tags}["tmi-sent-ts"]) for e in got]
        assert stamps == sorted(stamps)
    finally:
        conn.disconnect()
