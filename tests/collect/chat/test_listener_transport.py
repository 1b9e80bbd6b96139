"""Transports: the URL decides; TLS (IRC and WebSocket) is verified; plain text only locally."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trustme

from streamcensus.collect.chat import ChatLimits, parse_chat_url
from streamcensus.errors import ConfigError
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle

from .helpers import EVENING, assert_exact, make_listener, step, top_channels, truth, until

StartSimulator = Callable[..., SimulatorHandle]


def test_urls() -> None:
    assert str(parse_chat_url("127.0.0.1:6667")) == "irc://127.0.0.1:6667"
    twitch = parse_chat_url("ircs://irc.chat.twitch.tv")
    assert (twitch.port, twitch.tls, twitch.websocket) == (6697, True, False)
    ws = parse_chat_url("wss://irc-ws.chat.twitch.tv")
    assert (ws.port, ws.tls, ws.websocket, str(ws)) == (
        443,
        True,
        True,
        "wss://irc-ws.chat.twitch.tv:443/",
    )
    assert parse_chat_url("ws://localhost:8080/").tls is False
    with pytest.raises(ConfigError, match=r"ircs://irc\.chat\.twitch\.tv:6697"):
        parse_chat_url("irc://irc.chat.twitch.tv:6667")
    with pytest.raises(ConfigError, match="wss://"):
        parse_chat_url("ws://irc-ws.chat.twitch.tv")
    with pytest.raises(ConfigError, match="scheme"):
        parse_chat_url("http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="port"):
        parse_chat_url("irc://127.0.0.1:notaport")


@pytest.fixture
def sim(running_simulator: StartSimulator, small_world: World) -> SimulatorHandle:
    return running_simulator(small_world, start=EVENING)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@contextlib.asynccontextmanager
async def tls_front(ca: trustme.CA, port: int) -> AsyncIterator[int]:
    """A TLS endpoint on 127.0.0.1 ("localhost" certificate) in front of a plain port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


@pytest.mark.parametrize("scheme", ["ircs", "wss"])
async def test_tls_windows_equal_the_truth(
    sim: SimulatorHandle, tmp_path: Path, ca: trustme.CA, scheme: str
) -> None:
    plain = sim.irc_port if scheme == "ircs" else int(sim.chat_ws_url.rsplit(":", 1)[1].strip("/"))
    trusted = ssl.create_default_context()
    ca.configure_trust(trusted)
    channels = top_channels(sim, 5)
    async with tls_front(ca, plain) as port:
        url = f"{scheme}://localhost:{port}/"
        async with make_listener(sim, tmp_path, url=url, tls=trusted) as listener:
            listener.set_channels(channels)
            assert await listener.settled(60)
            await step(listener, sim.clock)
            window = await step(listener, sim.clock)
            assert_exact(
                window,
                truth(sim, channels, window.start, window.end),
                {c.channel_id for c in channels},
            )
            assert listener.counters.connection_failures == 0


async def test_an_untrusted_certificate_is_refused(
    sim: SimulatorHandle, tmp_path: Path, ca: trustme.CA
) -> None:
    async with tls_front(ca, sim.irc_port) as port:
        url = f"ircs://localhost:{port}"  # verified with the system's CAs only
        t0 = sim.clock.time()
        async with make_listener(sim, tmp_path, url=url, limits=ChatLimits()) as listener:
            listener.set_channels(top_channels(sim, 3))
            await until(lambda: listener.counters.connection_failures >= 4)
            assert listener.joined() == {} and listener.counters.connections == 0
            await asyncio.sleep(0.5)  # give a runaway a chance to show
            # attempts at +0, +2 (connect interval), +4 and +8 s (backoff 4 s) advanced the
            # standing clock; after a fourth failure in a row it waits for time to pass
            assert listener.counters.connection_failures == 4
            assert sim.clock.time() - t0 == pytest.approx(8.0, abs=0.01)
