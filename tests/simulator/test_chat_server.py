"""The simulated chat over real TCP and WebSocket on 127.0.0.1, on a clock the test drives."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import httpx
import numpy as np
import pytest
import websockets

from streamcensus.simulator.chat.connection import JOIN_LIMIT
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle

from .chat_client import RawClient, messages

StartSimulator = Callable[..., SimulatorHandle]
EVENING = 1_795_810_200.0  # 2026-11-27T20:10:00Z, a Friday evening: busy chats


@pytest.fixture
def sim(running_simulator: StartSimulator, small_world: World) -> SimulatorHandle:
    return running_simulator(small_world, start=EVENING)


def top_logins(sim: SimulatorHandle, n: int) -> list[str]:
    return [s.user_login for s in sim.world.live_streams(sim.clock.time())[:n]]


def client(sim: SimulatorHandle, **kwargs: int) -> RawClient:
    return RawClient(sim.irc_host, sim.irc_port, **kwargs)


def test_info_announces_both_chat_addresses(sim: SimulatorHandle) -> None:
    info = httpx.get(f"{sim.base_url}/_sim/info").json()
    assert info["chat"] == {
        "irc": f"127.0.0.1:{sim.irc_port}",
        "websocket": sim.chat_ws_url,
    }
    assert sim.chat_ws_url.startswith("ws://127.0.0.1:") and sim.chat_ws_url.endswith("/")


def test_welcome_caps_join_and_roomstate(sim: SimulatorHandle) -> None:
    c = client(sim)
    c.send("CAP REQ :twitch.tv/tags twitch.tv/commands twitch.tv/membership")
    c.send("PASS SCHMOOPIIE", "NICK justinfan777")
    welcome = c.until(lambda t: " 376 " in t)
    assert (
        welcome[0]
        == ":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands twitch.tv/membership"
    )
    assert [t.split()[1] for t in welcome[1:]] == ["001", "002", "003", "004", "375", "372", "376"]
    assert welcome[1] == ":tmi.twitch.tv 001 justinfan777 :Welcome, GLHF!"
    channel = top_logins(sim, 1)[0]
    c.send(f"JOIN #{channel}")
    lines = c.barrier()
    assert lines[0] == f":justinfan777!justinfan777@justinfan777.tmi.twitch.tv JOIN #{channel}"
    names = messages(lines, "353")
    assert names and names[0].params[:3] == ("justinfan777", "=", f"#{channel}")
    listed = {n for m in names for n in m.params[-1].split()}
    truth = sim.world.chatters(sim.world.users_by_login([channel])[0].id, sim.clock.time())
    assert truth is not None
    assert len(listed) == len(truth.account_ids) + 1  # membership: the room's chat list + us
    assert messages(lines, "366")[0].params[-1] == "End of /NAMES list"
    room = messages(lines, "ROOMSTATE")[0]
    assert room.tags["room-id"] == sim.world.users_by_login([channel])[0].id
    assert room.tags["slow"] == "0" and room.params == (f"#{channel}",)
    c.close()


def test_names_hold_only_ourselves_without_membership(sim: SimulatorHandle) -> None:
    c = client(sim)
    c.login(caps=None)
    c.send(f"JOIN #{top_logins(sim, 1)[0]}")
    lines = c.barrier()
    assert [m.params[-1] for m in messages(lines, "353")] == ["justinfan12345"]
    assert not messages(lines, "ROOMSTATE")  # a twitch.tv/commands message
    c.close()


def test_unknown_and_suspended_channels_get_a_notice(sim: SimulatorHandle) -> None:
    c = client(sim)
    c.login()
    c.send("JOIN #no_such_channel_zz,#bad!name", "WHO #x", "LIST")
    lines = c.barrier()
    notices = messages(lines, "NOTICE")
    assert [(n.params[0], n.tags.get("msg-id")) for n in notices] == [
        ("#no_such_channel_zz", "msg_channel_suspended"),
        ("*", "msg_channel_suspended"),
    ]
    assert notices[0].params[1] == "This channel does not exist or has been suspended."
    assert ":tmi.twitch.tv 421 justinfan12345 WHO :Unknown command" in lines
    assert ":tmi.twitch.tv 421 justinfan12345 LIST :Unknown command" in lines
    assert not messages(lines, "JOIN")
    c.close()


def test_barrier_delivers_every_message_in_time_order_and_matches_the_truth(
    sim: SimulatorHandle,
) -> None:
    channels = top_logins(sim, 5)
    c = client(sim)
    c.login()
    c.send("JOIN " + ",".join(f"#{x}" for x in channels))
    c.barrier()
    start = sim.clock.time()
    seen: list[tuple[int, str, str]] = []
    for _ in range(3):  # three jumps of 100 simulated seconds
        sim.clock.advance(100)
        now_ms = sim.clock.time() * 1000
        for m in messages(c.barrier(), "PRIVMSG"):
            ts = int(m.tags["tmi-sent-ts"])
            assert ts <= now_ms
            seen.append((ts, m.params[0][1:], m.tags["user-id"]))
    assert [s[0] for s in seen] == sorted(s[0] for s in seen)
    assert min(s[0] for s in seen) > start * 1000
    truth = httpx.get(
        f"{sim.base_url}/_sim/truth/chat_activity",
        params={
            "channel": ",".join(channels),
            "start": start + 0.001,
            "end": sim.clock.time() + 0.001,
        },
    ).json()
    by_channel = {row["channel_login"]: row for row in truth["channels"]}
    assert set(by_channel) == set(channels)
    counts = Counter(s[1] for s in seen)
    posters = {ch: {s[2] for s in seen if s[1] == ch} for ch in channels}
    assert sum(counts.values()) > 20  # a busy evening
    for ch in channels:
        assert by_channel[ch]["messages"] == counts[ch]
        assert by_channel[ch]["posters"] == len(posters[ch])
        assert by_channel[ch]["human_messages"] + by_channel[ch]["bot_messages"] == counts[ch]
    c.close()


def test_privmsg_carries_twitch_tags_and_prefix(sim: SimulatorHandle) -> None:
    c = client(sim)
    c.login()
    c.send("JOIN " + ",".join(f"#{x}" for x in top_logins(sim, 5)))
    c.barrier()
    sim.clock.advance(300)
    msgs = messages(c.barrier(), "PRIVMSG")
    assert msgs
    required = {
        "badge-info", "badges", "color", "display-name", "emotes", "first-msg", "flags", "id",
        "mod", "returning-chatter", "room-id", "subscriber", "tmi-sent-ts", "turbo", "user-id",
        "user-type",
    }  # fmt: skip
    for m in msgs:
        assert required <= set(m.tags)
        login = m.prefix.split("!")[0]
        assert m.prefix == f"{login}!{login}@{login}.tmi.twitch.tv"
        assert m.tags["display-name"].lower() == login
        assert sim.world.logins(np.asarray([int(m.tags["user-id"])]))[0] == login
        assert len(m.tags["id"]) == 36 and m.params[1]
    c.close()


def test_part_stops_a_room(sim: SimulatorHandle) -> None:
    a, b = top_logins(sim, 2)
    c = client(sim)
    c.login()
    c.send(f"JOIN #{a},#{b}")
    c.barrier()
    c.send(f"PART #{a}")
    lines = c.barrier()
    assert f":justinfan12345!justinfan12345@justinfan12345.tmi.twitch.tv PART #{a}" in lines
    sim.clock.advance(300)
    rooms = {m.params[0] for m in messages(c.barrier(), "PRIVMSG")}
    assert rooms == {f"#{b}"}
    c.close()


def test_join_rate_limit_drops_the_connection(sim: SimulatorHandle) -> None:
    logins = [s.user_login for s in sim.world.live_streams(sim.clock.time())]
    assert len(logins) > 2 * JOIN_LIMIT
    ok = client(sim)
    ok.login(caps=None)
    ok.send("JOIN " + ",".join(f"#{x}" for x in logins[:JOIN_LIMIT]))
    assert len(messages(ok.barrier(), "JOIN")) == JOIN_LIMIT
    sim.clock.advance(10.5)  # the window (10 simulated seconds) has passed
    ok.send("JOIN " + ",".join(f"#{x}" for x in logins[JOIN_LIMIT : 2 * JOIN_LIMIT]))
    assert len(messages(ok.barrier(), "JOIN")) == JOIN_LIMIT

    over = client(sim)
    over.login(caps=None)
    over.send("JOIN " + ",".join(f"#{x}" for x in logins[: JOIN_LIMIT + 1]))
    over.send("PING :after")
    rest = over.drain_to_eof()
    assert not any("PONG" in t for t in rest)
    assert len(messages(rest, "JOIN")) < JOIN_LIMIT + 1
    state = httpx.get(f"{sim.base_url}/_sim/chat").json()["counters"]
    assert state["join_rate_dropped"] == 1
    ok.close()


def test_server_pings_and_drops_a_client_that_never_answers(sim: SimulatorHandle) -> None:
    sim.chat.pong_wait_real = 0.0
    quiet, polite = client(sim), client(sim)
    quiet.login()
    polite.login()
    sim.clock.advance(301)
    assert quiet.until(lambda t: t.startswith("PING"))[-1] == "PING :tmi.twitch.tv"
    assert polite.until(lambda t: t.startswith("PING"))[-1] == "PING :tmi.twitch.tv"
    polite.send("PONG :tmi.twitch.tv")
    polite.barrier()
    sim.clock.advance(61)
    assert quiet.drain_to_eof() == []
    polite.barrier()  # still served
    assert httpx.get(f"{sim.base_url}/_sim/chat").json()["counters"]["ping_timeouts"] == 1
    polite.close()


def test_reconnect_route_sends_reconnect_then_closes(sim: SimulatorHandle) -> None:
    c = client(sim)
    c.login()
    c.barrier()
    assert httpx.post(f"{sim.base_url}/_sim/chat/reconnect").json() == {"sent": 1}
    assert c.drain_to_eof() == [":tmi.twitch.tv RECONNECT"]


def test_malformed_input_never_crashes_the_server(sim: SimulatorHandle) -> None:
    bad = client(sim)
    bad.send(b"\xff\xfe\x00garbage\r\n", b"@;;; :\r\n", b":only.a.prefix\r\n", b"\r\n")
    bad.send(b"   \r\n", b"@a=b\r\n", b"JOIN\r\n", b"CAP\r\n", b"NICK\r\n", b"PING\r\n")
    assert (
        bad.until(lambda t: "PONG" in t)[-1] == ":tmi.twitch.tv PONG tmi.twitch.tv :tmi.twitch.tv"
    )
    bad.send(b"PRIVMSG #x :" + b"a" * 20_000)  # a line longer than any IRC line
    assert bad.drain_to_eof() == []
    good = client(sim)
    assert good.login()[-1].endswith(":>")
    good.close()
    counters = httpx.get(f"{sim.base_url}/_sim/chat").json()["counters"]
    assert counters["malformed_input"] >= 3


def test_non_anonymous_login_needs_a_chat_token(sim: SimulatorHandle) -> None:
    c = client(sim)
    c.send("NICK someuser")
    assert c.drain_to_eof() == [":tmi.twitch.tv NOTICE * :Improperly formatted auth"]
    c = client(sim)
    c.send("PASS oauth:not-a-token", "NICK someuser")
    assert c.drain_to_eof() == [":tmi.twitch.tv NOTICE * :Login authentication failed"]


def test_membership_lines_only_in_rooms_of_at_most_the_limit(sim: SimulatorHandle) -> None:
    t = sim.clock.time()
    live = sim.world.live_streams(t)
    sizes = {}
    for s in live[:30]:
        listed = sim.world.chatters(s.user_id, t)
        assert listed is not None
        sizes[s.user_login] = len(listed.account_ids)
    big, small = max(sizes, key=sizes.__getitem__), min(sizes, key=sizes.__getitem__)
    limit = (sizes[big] + sizes[small]) // 2  # the big room is over it, the small one under
    sim.chat.model.params = replace(sim.chat.model.params, membership_max_room=limit)
    c = client(sim)
    c.login()
    c.send(f"JOIN #{big},#{small}")
    c.barrier()
    joins: list[str] = []
    for _ in range(3):
        sim.clock.advance(300)
        lines = c.barrier()
        joins += [m.params[0] for m in messages(lines, "JOIN") + messages(lines, "PART")]
    assert f"#{small}" in joins
    assert f"#{big}" not in joins
    c.close()


def test_slow_client_is_dropped_and_counted(sim: SimulatorHandle) -> None:
    sim.chat.log.max_lines = 200
    slow = client(sim, rcvbuf=2048)
    slow.login()
    slow.send("JOIN " + ",".join(f"#{x}" for x in top_logins(sim, 20)))
    slow.barrier()
    reader = client(sim)
    reader.login()
    reader.send("JOIN " + ",".join(f"#{x}" for x in top_logins(sim, 20)))
    reader.barrier()
    for _ in range(12):  # an hour of busy chat that the slow client never reads
        sim.clock.advance(300)
        reader.barrier()
    deadline = time.monotonic() + 20
    while sim.chat.stats.slow_dropped == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.chat.stats.slow_dropped == 1
    assert sim.chat.log.end - sim.chat.log.first <= 200 + 5000  # bounded by the log
    reader.close()


async def test_websocket_clients_get_the_same_chat(sim: SimulatorHandle) -> None:
    channel = top_logins(sim, 1)[0]
    async with websockets.connect(sim.chat_ws_url) as ws:
        await ws.send("CAP REQ :twitch.tv/tags twitch.tv/commands")
        await ws.send("PASS SCHMOOPIIE")
        await ws.send("NICK justinfan4242")
        await ws.send(f"JOIN #{channel}")
        await ws.send("PING :one")
        text = ""
        while "PONG" not in text:
            text += str(await asyncio.wait_for(ws.recv(), 20))
        assert f"JOIN #{channel}" in text and " 376 justinfan4242 :>" in text
        sim.clock.advance(300)
        await ws.send("PING :two")
        text = ""
        while ":two" not in text:
            text += str(await asyncio.wait_for(ws.recv(), 20))
        lines = [t for t in text.split("\r\n") if t]
        privmsgs = messages(lines, "PRIVMSG")
        assert privmsgs and all(m.params[0] == f"#{channel}" for m in privmsgs)
        assert all("tmi-sent-ts" in m.tags for m in privmsgs)
