"""The byte stream under a chat connection: IRC over TCP (TLS or plain) or WebSocket.

The URL decides: `ircs://irc.chat.twitch.tv:6697` (Twitch's TLS port, the default),
`irc://host:port` or a bare `host:port` (plain TCP), `wss://irc-ws.chat.twitch.tv:443` or
`ws://host:port/` (WebSocket text frames, each holding one or more CR LF-terminated lines).
Twitch's IRC reference lists 6667 (plain) and 6697 (TLS) for IRC and only `wss://` for
WebSocket; the listener sends nothing secret, but reading chat for a whole community over
plain text is refused unless the host is this machine (the simulator).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from dataclasses import dataclass
from typing import Protocol, cast
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from streamcensus.config import TWITCH_CHAT_URL
from streamcensus.errors import ConfigError

__all__ = ["READ_SIZE", "TWITCH_CHAT_URL", "ChatURL", "Wire", "open_wire", "parse_chat_url"]
READ_SIZE = 256 * 1024
MAX_FRAME = 1024 * 1024
_PORTS = {"irc": 6667, "ircs": 6697, "ws": 80, "wss": 443}
_TLS = frozenset({"ircs", "wss"})


@dataclass(frozen=True)
class ChatURL:
    """Where the chat is: scheme (irc, ircs, ws, wss), host, port, path."""

    scheme: str
    host: str
    port: int
    path: str = "/"

    @property
    def tls(self) -> bool:
        return self.scheme in _TLS

    @property
    def websocket(self) -> bool:
        return self.scheme in ("ws", "wss")

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        tail = self.path if self.websocket else ""
        return f"{self.scheme}://{host}:{self.port}{tail}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_chat_url(text: str) -> ChatURL:
    """A chat URL, or `ConfigError` naming what to write instead."""
    raw = text.strip()
    if "://" not in raw:
        raw = "irc://" + raw  # `host:port`, as the simulator announces its IRC address
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise ConfigError(
            f"chat URL {text!r}: the scheme must be ircs, irc, wss or ws "
            f"(Twitch: {TWITCH_CHAT_URL} or wss://irc-ws.chat.twitch.tv:443)"
        )
    try:
        port = parts.port or _PORTS[scheme]
    except ValueError:
        raise ConfigError(f"chat URL {text!r}: the port must be a number") from None
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"chat URL {text!r}: no host (e.g. {TWITCH_CHAT_URL})")
    if scheme not in _TLS and not _is_loopback(host):
        raise ConfigError(
            f"chat URL {text!r}: plain {scheme}:// is only for this machine's simulator; "
            f"use {'ircs://' if scheme == 'irc' else 'wss://'}{host}"
            f"{':6697' if scheme == 'irc' else ''}"
        )
    return ChatURL(scheme=scheme, host=host, port=port, path=parts.path or "/")


class Wire(Protocol):
    """Bytes in and out of one chat connection."""

    async def read(self) -> bytes:
        """The next bytes received; b"" at the end of the stream."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...

    def pause_reading(self) -> None:
        """Stop taking bytes off the socket (they wait in the kernel) until resumed."""
        ...

    def resume_reading(self) -> None: ...


class _TcpWire:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._transport = cast(asyncio.Transport, writer.transport)  # reads and writes

    async def read(self) -> bytes:
        try:
            return await self._reader.read(READ_SIZE)
        except (ConnectionError, OSError):
            return b""

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError, ssl.SSLError):
            await self._writer.wait_closed()

    def pause_reading(self) -> None:
        transport = self._transport
        if not transport.is_closing():
            transport.pause_reading()

    def resume_reading(self) -> None:
        transport = self._transport
        if not transport.is_closing() and not transport.is_reading():
            transport.resume_reading()


class _WsWire:
    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def read(self) -> bytes:
        try:
            frame = await self._ws.recv(decode=False)
        except websockets.ConnectionClosed:
            return b""
        return frame if isinstance(frame, bytes) else frame.encode()

    async def write(self, data: bytes) -> None:
        await self._ws.send(data.decode())

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._ws.close()

    def pause_reading(self) -> None:
        """Frames keep arriving into the library's queue: a rest only batches the reads."""

    def resume_reading(self) -> None:
        """Nothing was paused."""


async def open_wire(url: ChatURL, tls: ssl.SSLContext | None = None) -> Wire:
    """Connect (TLS for ircs/wss, verified with `tls` or the system's CAs); OSError or
    websockets errors when it cannot."""
    context = (tls or ssl.create_default_context()) if url.tls else None
    if url.websocket:
        ws = await websockets.connect(
            str(url),
            ssl=context,
            max_size=MAX_FRAME,
            ping_interval=None,  # Twitch keeps the connection alive with IRC PING
            open_timeout=None,  # the caller bounds the whole connect and registration
        )
        return _WsWire(ws)
    reader, writer = await asyncio.open_connection(
        url.host,
        url.port,
        ssl=context,
        server_hostname=url.host if url.tls else None,
        limit=READ_SIZE,
    )
    return _TcpWire(reader, writer)
