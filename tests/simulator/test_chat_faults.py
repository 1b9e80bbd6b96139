"""Chat faults from the simulator's fault plan (`/_sim/faults`), over real TCP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from streamcensus.simulator.faults import FaultPlan, PlanError
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle

from .chat_client import RawClient, messages

StartSimulator = Callable[..., SimulatorHandle]
EVENING = 1_795_810_200.0


@pytest.fixture
def sim(running_simulator: StartSimulator, small_world: World) -> SimulatorHandle:
    return running_simulator(small_world, start=EVENING)


def plan(sim: SimulatorHandle, *rules: dict[str, Any]) -> None:
    r = httpx.post(f"{sim.base_url}/_sim/faults", json={"seed": 3, "rules": list(rules)})
    assert r.status_code == 200, r.text


def counters(sim: SimulatorHandle) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{sim.base_url}/_sim/faults").json()
    return result


def joined(sim: SimulatorHandle, n: int = 5) -> tuple[RawClient, list[str]]:
    channels = [s.user_login for s in sim.world.live_streams(sim.clock.time())[:n]]
    c = RawClient(sim.irc_host, sim.irc_port)
    c.login()
    c.send("JOIN " + ",".join(f"#{x}" for x in channels))
    c.barrier()
    return c, channels


def test_chat_rules_need_chat_paths_and_http_rules_others() -> None:
    with pytest.raises(PlanError, match="chat faults"):
        FaultPlan.from_json({"rules": [{"path": "/helix/streams", "fault": "irc_reset"}]})
    with pytest.raises(PlanError, match="chat faults"):
        FaultPlan.from_json({"rules": [{"path": "/chat/message/*", "fault": "500"}]})
    ok = FaultPlan.from_json({"rules": [{"path": "/chat/join/*", "fault": "irc_suspended"}]})
    assert ok.rules[0].fault == "irc_suspended"


def test_http_prefix_rules_never_hit_the_chat(sim: SimulatorHandle) -> None:
    plan(sim, {"path": "/*", "fault": "500", "method": "POST"})
    c, _ = joined(sim, 3)
    sim.clock.advance(300)
    assert messages(c.barrier(), "PRIVMSG")
    assert counters(sim)["injected"] == 0


def test_suspended_and_refused_joins(sim: SimulatorHandle) -> None:
    channels = [s.user_login for s in sim.world.live_streams(sim.clock.time())[:3]]
    plan(
        sim,
        {"path": f"/chat/join/{channels[0]}", "fault": "irc_suspended"},
        {"path": f"/chat/join/{channels[1]}", "fault": "irc_join_refused"},
    )
    c = RawClient(sim.irc_host, sim.irc_port)
    c.login()
    c.send("JOIN " + ",".join(f"#{x}" for x in channels))
    lines = c.barrier()
    notice = messages(lines, "NOTICE")
    assert [(n.params[0], n.tags["msg-id"]) for n in notice] == [
        (f"#{channels[0]}", "msg_channel_suspended")
    ]
    assert [m.params[0] for m in messages(lines, "JOIN")] == [f"#{channels[2]}"]
    assert counters(sim)["by_fault"] == {"irc_join_refused": 1, "irc_suspended": 1}


def test_rate_limited_join_drops_the_connection(sim: SimulatorHandle) -> None:
    plan(sim, {"path": "/chat/join/*", "fault": "irc_join_ratelimited", "skip": 2})
    c = RawClient(sim.irc_host, sim.irc_port)
    c.login(caps=None)
    live = [s.user_login for s in sim.world.live_streams(sim.clock.time())[:4]]
    c.send("JOIN " + ",".join(f"#{x}" for x in live))
    rest = c.drain_to_eof()
    assert len(messages(rest, "JOIN")) == 2
    assert sim.chat.stats.join_rate_dropped == 1


def test_reset_mid_line(sim: SimulatorHandle) -> None:
    c, _ = joined(sim)
    plan(sim, {"path": "/chat/message/*", "fault": "irc_reset", "skip": 3, "count": 1})
    sim.clock.advance(300)
    c.send("PING :x")
    raw: list[bytes] = []
    while (item := c.raw_line()) is not None:
        raw.append(item)
    assert len(raw) == 4  # three whole lines, then half of one and a reset
    assert all(r.endswith(b"\r\n") for r in raw[:3]) and not raw[3].endswith(b"\n")
    assert counters(sim)["by_fault"] == {"irc_reset": 1}


def test_truncated_and_malformed_lines_keep_the_connection(sim: SimulatorHandle) -> None:
    c, _ = joined(sim)
    plan(
        sim,
        {"path": "/chat/message/*", "fault": "irc_truncated", "skip": 2, "count": 1},
        {"path": "/chat/message/*", "fault": "irc_malformed", "skip": 5, "count": 3},
    )
    sim.clock.advance(300)
    lines = c.barrier()
    assert counters(sim)["by_fault"] == {"irc_malformed": 3, "irc_truncated": 1}
    assert lines.count("@badge-info=;badges=;color=;display-name") == 1  # tags cut off
    assert lines.count(":tmi.twitch.tv") == 1  # a bare prefix
    assert sum("\ufffd" in t for t in lines) == 1  # invalid UTF-8
    assert messages(lines, "PRIVMSG")  # the other lines arrive whole
    c.barrier()  # still connected and answering


def test_reconnect_fault(sim: SimulatorHandle) -> None:
    c, _ = joined(sim)
    plan(sim, {"path": "/chat/message/*", "fault": "irc_reconnect", "skip": 1, "count": 1})
    sim.clock.advance(300)
    c.send("PING :x")
    rest = c.drain_to_eof()
    assert rest[-1] == ":tmi.twitch.tv RECONNECT"
    assert len(rest) == 2  # one message line let through (skip 1), then RECONNECT
