"""One anonymous chat connection: register, read lines, answer PING, acknowledge joins.

A connection logs in as `justinfan<digits>` (no token: Twitch's anonymous read-only chat),
asks for `twitch.tv/tags twitch.tv/commands` (not `membership`: Twitch sends no JOIN/PART of
other users in rooms over 1,000 people, and the listener does not need them), and hands
every line to its `Sink` (the listener). Each JOIN line is followed by a `PING`; its `PONG`
acknowledges the batch (Twitch answers a connection's lines in order), which is when the
attempts enter the connection's `JoinWindow`. A PONG also confirms that the connection was
alive and read up to the moment the PING was sent. `RECONNECT`, the end of the stream, a
reset or a failed registration close the connection; the sink decides what follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import ssl
from collections.abc import Sequence
from typing import Protocol

import websockets

from streamcensus.clock import Clock
from streamcensus.collect.chat.limits import ChatLimits, JoinWindow
from streamcensus.collect.chat.lines import Line, Privmsg, privmsg, tokenise
from streamcensus.collect.chat.transport import READ_SIZE, ChatURL, Wire, open_wire

log = logging.getLogger("streamcensus.collect.chat")

CAPABILITIES = "twitch.tv/tags twitch.tv/commands"
MAX_LINE = 64 * 1024  # Twitch lines stay under 8 KiB; a longer run without LF is garbage
MAX_COMMAND = 500  # bytes of one line we send, CR LF included (IRC allows 512)
CONNECTING, READY, CLOSED = "connecting", "ready", "closed"


class Sink(Protocol):
    """What a connection reports to its listener."""

    def on_ready(self, conn: ChatConnection) -> None: ...

    def on_privmsg(self, conn: ChatConnection, msg: Privmsg) -> None: ...

    def on_line(self, conn: ChatConnection, line: Line) -> None: ...

    def on_malformed(self, conn: ChatConnection, raw: bytes) -> None: ...

    def on_join_ack(self, conn: ChatConnection, logins: Sequence[str]) -> None: ...

    def on_closed(self, conn: ChatConnection, reason: str) -> None: ...


_nicks = itertools.count()


def anonymous_nick() -> str:
    """`justinfan` and digits: Twitch's anonymous login."""
    return f"justinfan{secrets.randbelow(90_000_000) + 10_000_000 + next(_nicks) % 1000}"


class ChatConnection:
    """One connection of the listener (IRC over TCP/TLS or WebSocket)."""

    def __init__(
        self,
        index: int,
        url: ChatURL,
        clock: Clock,
        limits: ChatLimits,
        sink: Sink,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.index = index
        self.url = url
        self.tls = tls
        self.clock = clock
        self.limits = limits
        self.sink = sink
        self.nick = anonymous_nick()
        self.state = CONNECTING
        self.window = JoinWindow(limits.join_attempts, limits.join_window)
        self.channels: set[str] = set()  # logins joining, joined or parting here
        self.opened_at = clock.time()
        self.confirmed_until = self.opened_at  # read everything sent up to here (clock)
        self.reconnect_requested = False
        self.close_reason = ""
        self.last_read = asyncio.get_running_loop().time()
        self._wire: Wire | None = None
        self._buffer = b""
        self._tokens = itertools.count(1)
        self._pings: dict[str, tuple[asyncio.Future[None], float]] = {}
        self._batches: dict[str, list[str]] = {}
        self._full = False  # the last read filled READ_SIZE: more is waiting
        self._resting: asyncio.Future[None] | None = None  # a rest between reads (`_rest`)
        self._failure = ""
        self.task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"ChatConnection({self.index}, {self.state}, {len(self.channels)} channels)"

    @property
    def unacked(self) -> int:
        """JOIN batches sent and not yet acknowledged."""
        return len(self._batches)

    # -- life --------------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"chat-connection-{self.index}")

    async def _run(self) -> None:
        try:
            async with asyncio.timeout(self.limits.connect_timeout):
                self._wire = await open_wire(self.url, self.tls)
                await self._wire.write(f"CAP REQ :{CAPABILITIES}\r\nNICK {self.nick}\r\n".encode())
                while self.state == CONNECTING:
                    if not await self._read_once():
                        raise ConnectionError(self._failure or "closed while registering")
            while not self.close_reason and await self._read_once():
                await self._rest()
        except (OSError, TimeoutError, ConnectionError, websockets.WebSocketException) as exc:
            if not self.close_reason:
                self.close_reason = f"{type(exc).__name__}: {exc}" if str(exc) else repr(exc)
        finally:
            await self._finish()

    async def _read_once(self) -> bool:
        """Read and handle what arrived; False at the end of the stream."""
        assert self._wire is not None
        data = await self._wire.read()
        if not data:
            return False
        self._full = len(data) >= READ_SIZE
        self.last_read = asyncio.get_running_loop().time()
        replies = self._feed(data)
        if replies:
            await self._wire.write(b"".join(replies))
        return not self._failure

    async def _rest(self) -> None:
        """Let lines gather on the socket for `read_pause` real seconds before the next read,
        unless an answer (a PONG) is awaited or the last read filled its buffer.

        Chat arrives a line at a time: reading each as it comes costs an event-loop turn per
        line, most of the listener's CPU at a busy community's message rate. Windows are
        assigned by `tmi-sent-ts`, so a later read changes no count; a JOIN or PING sent
        meanwhile ends the rest at once, so pacing and barriers wait for no pause.
        """
        pause = self.limits.read_pause
        if pause <= 0 or self._pings or self._full or self._wire is None:
            return
        loop = asyncio.get_running_loop()
        self._resting = rest = loop.create_future()
        timer = loop.call_later(pause, _end_rest, rest)
        self._wire.pause_reading()
        try:
            await rest
        finally:
            timer.cancel()
            self._resting = None
            self._wire.resume_reading()

    def _wake(self) -> None:
        """An answer is now awaited: end a rest at once."""
        if self._resting is not None:
            _end_rest(self._resting)

    async def _finish(self) -> None:
        was = self.state
        self.state = CLOSED
        if self._buffer.strip():
            self.sink.on_malformed(self, self._buffer)  # a line cut off by the end of stream
        self._buffer = b""
        for future, _ in self._pings.values():
            if not future.done():
                future.cancel()
        self._pings.clear()
        if self._wire is not None:
            with contextlib.suppress(Exception):
                await self._wire.close()
        if not self.close_reason:
            self.close_reason = self._failure or "closed by the server"
        if was == CONNECTING and not self._failure:
            self._failure = self.close_reason
        self.sink.on_closed(self, self.close_reason)

    @property
    def failed_to_register(self) -> bool:
        return bool(self._failure)

    def abort(self, reason: str) -> None:
        """Close the connection (the sink hears `on_closed`)."""
        if self.close_reason or self.state == CLOSED:
            return
        self.close_reason = reason
        if self.task is not None:
            self.task.cancel()

    # -- reading -----------------------------------------------------------------------

    def _feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer + data if self._buffer else data
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        if len(self._buffer) > MAX_LINE:
            self.sink.on_malformed(self, self._buffer[:256])
            self._buffer = b""
        replies: list[bytes] = []
        on_privmsg = self.sink.on_privmsg
        for raw in lines:
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            msg = privmsg(raw)
            if msg is not None:
                on_privmsg(self, msg)
            elif raw:
                self._other(raw, replies)
        return replies

    def _other(self, raw: bytes, replies: list[bytes]) -> None:
        line = tokenise(raw)
        if line is None:
            self.sink.on_malformed(self, raw)
            return
        command, params = line.command, line.params
        if command == "PING":
            replies.append(f"PONG :{params[-1] if params else 'tmi.twitch.tv'}\r\n".encode())
        elif command == "PONG":
            self._pong(params[-1] if params else "")
        elif command == "RECONNECT":
            self.reconnect_requested = True
            self.close_reason = "RECONNECT"
        elif command == "376" and self.state == CONNECTING:
            self.state = READY
            self.sink.on_ready(self)
        elif command == "CAP" and len(params) >= 2 and params[1] == "NAK":
            self._failure = "capabilities refused"
        elif command == "NOTICE" and self.state == CONNECTING:
            self._failure = f"login refused: {params[-1] if params else ''}"[:120]
        elif command not in ("001", "002", "003", "004", "372", "375", "CAP"):
            self.sink.on_line(self, line)

    def _pong(self, token: str) -> None:
        found = self._pings.pop(token, None)
        if found is not None:
            future, sent_at = found
            self.confirmed_until = max(self.confirmed_until, sent_at)
            if not future.done():
                future.set_result(None)
        batch = self._batches.pop(token, None)
        if batch is not None:
            self.window.acknowledged(len(batch), self.clock.time())
            self.sink.on_join_ack(self, batch)

    # -- writing -----------------------------------------------------------------------

    async def _send(self, text: str) -> None:
        if self._wire is None or self.state == CLOSED:
            raise ConnectionError("not connected")
        await self._wire.write(text.encode())

    def _token(self, kind: str) -> str:
        return f"{kind}{next(self._tokens)}"

    async def join(self, logins: Sequence[str]) -> None:
        """JOIN `logins`, then PING to learn when the server has processed them."""
        token = self._token("join")
        self.window.sent(len(logins))
        self._batches[token] = list(logins)
        self._pings[token] = (asyncio.get_running_loop().create_future(), self.clock.time())
        self._wake()
        try:
            await self._send(_command_lines("JOIN", logins) + f"PING :{token}\r\n")
        except (OSError, ConnectionError, websockets.WebSocketException) as exc:
            self.abort(f"write failed: {exc}")

    async def part(self, logins: Sequence[str]) -> None:
        """PART `logins` (Twitch puts no rate limit on PART)."""
        try:
            await self._send(_command_lines("PART", logins))
        except (OSError, ConnectionError, websockets.WebSocketException) as exc:
            self.abort(f"write failed: {exc}")

    async def ping(self, timeout: float, kind: str = "ping") -> bool:
        """PING and wait for the PONG (real seconds); False if it did not come."""
        token = self._token(kind)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pings[token] = (future, self.clock.time())
        self._wake()
        try:
            await self._send(f"PING :{token}\r\n")
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except (OSError, ConnectionError, TimeoutError, websockets.WebSocketException):
            return False
        except asyncio.CancelledError:
            if future.cancelled():  # the connection closed under us
                return False
            raise
        finally:
            self._pings.pop(token, None)
        return True

    def unacked_logins(self) -> list[str]:
        """Logins of JOIN batches never acknowledged (the connection closed first)."""
        out = [login for batch in self._batches.values() for login in batch]
        self._batches.clear()
        return out


def _end_rest(rest: asyncio.Future[None]) -> None:
    if not rest.done():
        rest.set_result(None)


def _command_lines(command: str, logins: Sequence[str]) -> str:
    """`JOIN #a,#b,...` lines of at most MAX_COMMAND bytes each (IRC's 512-byte lines)."""
    lines: list[str] = []
    current: list[str] = []
    size = len(command) + 3
    for login in logins:
        item = f"#{login}"
        if current and size + len(item) + 1 > MAX_COMMAND:
            lines.append(f"{command} {','.join(current)}\r\n")
            current, size = [], len(command) + 3
        current.append(item)
        size += len(item) + 1
    if current:
        lines.append(f"{command} {','.join(current)}\r\n")
    return "".join(lines)
