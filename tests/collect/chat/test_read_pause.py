"""Reading in batches: a connection rests between reads (`ChatLimits.read_pause`) while it
awaits no answer, and a PING it sends ends the rest at once.

Against a scripted server on 127.0.0.1. The rest is an hour long here, so the test cannot pass
by waiting it out: every line must come through the wake-up a PING causes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from streamcensus.clock import SimClock, WallClock
from streamcensus.collect.chat import ChatChannel, ChatLimits, ChatListener
from streamcensus.collect.chat.connection import ChatConnection
from streamcensus.collect.chat.listener import DEFAULT_GRACE
from streamcensus.keys import KeyStore

from .helpers import EVENING, until
from .test_connection_script import pong, read_until, scripted, welcome_and_join

LINES = 50
HOUR = 3600.0


def _privmsg(i: int) -> bytes:
    return (
        f"@room-id=42;tmi-sent-ts={int((EVENING + 1) * 1000)};user-id={i} "
        f":u{i}!u{i}@u{i}.tmi.twitch.tv PRIVMSG #chan :hello {i}\r\n"
    ).encode()


async def test_lines_gather_while_resting_and_a_ping_ends_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    read_once = ChatConnection._read_once

    async def counted(self: ChatConnection) -> bool:
        reads.append(self.index)
        return await read_once(self)

    monkeypatch.setattr(ChatConnection, "_read_once", counted)
    written = asyncio.Event()

    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
    ) -> None:
        echo, token = await welcome_and_join(reader, writer, received)
        writer.write(echo + pong(token))
        await writer.drain()
        await asyncio.sleep(0.2)  # the client has read the echo and rests
        for i in range(LINES):  # one line at a time, as chat arrives
            writer.write(_privmsg(i))
            await writer.drain()
        written.set()
        ping = await read_until(reader, received, "PING")
        writer.write(pong(ping.split(":")[-1]))
        await writer.drain()
        await reader.read()  # until the client leaves

    clock = SimClock(EVENING + 1, speed=0)
    limits = ChatLimits(max_connections=1, read_pause=HOUR)
    async with scripted(script) as (port, _):
        chat = ChatListener(
            f"127.0.0.1:{port}", clock=clock, keys=KeyStore(tmp_path, 1, clock), limits=limits
        )
        async with chat:
            chat.set_channels([ChatChannel("chan", "42")])
            assert await chat.settled(30)
            await asyncio.wait_for(written.wait(), 30)
            assert chat.counters.messages == 0  # resting: nothing read yet
            before = len(reads)
            conn = chat.connections[0]
            assert await conn.ping(30)  # the PING ends the hour's rest, the PONG comes back
            await until(lambda: chat.counters.messages == LINES)
            # the 50 lines waited on the socket and came in one read (the PONG in another)
            assert len(reads) - before <= 2


def test_a_negative_pause_is_refused() -> None:
    with pytest.raises(ValueError, match="read_pause"):
        ChatLimits(read_pause=-1)
    assert ChatLimits(read_pause=0).read_pause == 0  # 0: every line read as it comes


def test_on_real_twitch_a_window_waits_one_rest_more(tmp_path: Path) -> None:
    clock = WallClock()
    keys = KeyStore(tmp_path, 1, clock)
    real = ChatListener("ircs://irc.chat.twitch.tv:6697", clock=clock, keys=keys)
    assert not real.barrier
    assert real.grace == DEFAULT_GRACE + ChatLimits().read_pause
    eager = ChatLimits(read_pause=0)
    assert ChatListener(
        "ircs://irc.chat.twitch.tv", clock=clock, keys=keys, limits=eager
    ).grace == (DEFAULT_GRACE)
    simulated = SimClock(EVENING, speed=0)
    sim = ChatListener("127.0.0.1:6667", clock=simulated, keys=KeyStore(tmp_path, 1, simulated))
    assert sim.barrier and sim.grace == 0.0  # the simulator's barrier: no grace, no rest to wait
