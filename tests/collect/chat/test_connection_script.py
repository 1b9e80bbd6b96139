"""A connection against a scripted IRC server on 127.0.0.1: lines Twitch may send, in order.

The simulator never sends unknown commands or refuses a login; this small server does, so
the listener's handling of them is tested over a real socket too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from streamcensus.clock import SimClock
from streamcensus.collect.chat import ChatChannel, ChatLimits, ChatListener
from streamcensus.keys import KeyStore

from .helpers import EVENING, until

WELCOME = (
    b":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands\r\n:tmi.twitch.tv 376 x :>\r\n"
)
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], "asyncio.Future[None] | object"]


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[tuple[int, list[str]]]:
    """A server running `script(reader, writer, received)` for each connection."""
    received: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script(reader, writer, received)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1]), received
    finally:
        server.close()


async def read_until(reader: asyncio.StreamReader, received: list[str], word: str) -> str:
    while True:
        line = (await reader.readline()).decode().strip()
        if not line:
            raise ConnectionError("client left")
        received.append(line)
        if line.startswith(word):
            return line


async def welcome_and_join(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
) -> tuple[bytes, str]:
    """Register the client and read its first JOIN and PING: the JOIN's echo, and the
    PING's token."""
    await read_until(reader, received, "NICK")
    writer.write(WELCOME)
    join = await read_until(reader, received, "JOIN")
    nick = next(r for r in received if r.startswith("NICK")).split()[1]
    ping = await read_until(reader, received, "PING")
    return f":{nick}!{nick}@{nick}.tmi.twitch.tv {join}\r\n".encode(), ping.split(":")[-1]


def pong(token: str) -> bytes:
    return f":tmi.twitch.tv PONG tmi.twitch.tv :{token}\r\n".encode()


def listener(port: int, tmp_path: Path, clock: SimClock) -> ChatListener:
    return ChatListener(
        f"127.0.0.1:{port}",
        clock=clock,
        keys=KeyStore(tmp_path, 1, clock),
        limits=ChatLimits(max_connections=1),
    )


async def test_odd_lines_are_counted_and_server_pings_answered(tmp_path: Path) -> None:
    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
    ) -> None:
        echo, token = await welcome_and_join(reader, writer, received)
        writer.write(
            echo
            + b"@room-id=42;tmi-sent-ts=1 :tmi.twitch.tv ROOMSTATE #chan\r\n"
            + b":tmi.twitch.tv WHATEVER #chan :a command nobody documents\r\n"
            + b"@badges=;room-id=42;tmi-sent-ts=1795810201000 :a!a@a.tmi.twitch.tv PRIVMS\r\n"
            + b"@badges=;room-id=42;tmi-sent-ts=1795810201000;user-id=1;display-na\r\n"
            + b"PING :tmi.twitch.tv\r\n"
            + pong(token)
        )
        await writer.drain()
        received.append(await read_until(reader, received, "PONG"))
        await reader.read()  # until the client leaves

    clock = SimClock(EVENING + 1, speed=0)
    async with scripted(script) as (port, received), listener(port, tmp_path, clock) as chat:
        chat.set_channels([ChatChannel("chan", "42")])
        assert await chat.settled(30)
        await until(lambda: "PONG :tmi.twitch.tv" in received)
        counters = chat.counters
        assert counters.joins == 1 and counters.connections == 1
        assert counters.unknown_commands == 1  # WHATEVER
        assert counters.malformed_lines == 2  # the cut command word and the cut tags
    caps = [r for r in received if r.startswith("CAP")]
    assert caps == ["CAP REQ :twitch.tv/tags twitch.tv/commands"]  # no membership
    nick = next(r for r in received if r.startswith("NICK")).split()[1]
    assert nick.startswith("justinfan") and nick[9:].isdigit()
    assert not any(r.startswith("PASS") for r in received)  # anonymous: no token sent


async def test_a_refused_login_is_a_connection_failure(tmp_path: Path) -> None:
    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
    ) -> None:
        await read_until(reader, received, "NICK")
        writer.write(b":tmi.twitch.tv NOTICE * :Login authentication failed\r\n")
        await writer.drain()

    clock = SimClock(EVENING + 1, speed=0)
    async with scripted(script) as (port, _), listener(port, tmp_path, clock) as chat:
        chat.set_channels([ChatChannel("chan", "42")])
        await until(lambda: chat.counters.connection_failures >= 2)
        assert chat.counters.connections == 0 and chat.joined() == {}


async def test_a_silent_connection_is_dropped_and_replaced(tmp_path: Path) -> None:
    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, received: list[str]
    ) -> None:
        await read_until(reader, received, "NICK")
        writer.write(WELCOME)
        await writer.drain()
        while line := await reader.readline():  # then silence: no echo, no PONG
            received.append(line.decode().strip())

    clock = SimClock(EVENING + 1, speed=0)
    limits = ChatLimits(max_connections=1, idle_ping=0.2, pong_timeout=0.3)
    async with scripted(script) as (port, received):
        chat = ChatListener(
            f"127.0.0.1:{port}", clock=clock, keys=KeyStore(tmp_path, 1, clock), limits=limits
        )
        async with chat:
            chat.set_channels([ChatChannel("chan", "42")])
            await until(lambda: chat.counters.dropped >= 1)
            assert chat.counters.connections >= 1
        assert any(r.startswith("PING :alive") for r in received)
