"""The simulated chat server: Twitch's IRC interface over TCP and over WebSocket.

`ChatServer` runs on the simulator's event loop. A housekeeping task moves the delivery
log forward whenever the simulated clock has moved: every message with tmi-sent-ts up to
the clock's now is rendered (in a worker thread) and handed to the joined connections in
timestamp order. A client's `PING` is a barrier in simulated time: the server first
delivers everything up to its current simulated time, then answers `PONG` (real Twitch
gives no such guarantee; it is a property of the simulator that lets a client know it
has seen every message up to a moment).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from dataclasses import asdict
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection

from streamcensus.clock import Clock
from streamcensus.simulator.chat.connection import ChatStats, Connection
from streamcensus.simulator.chat.irc import MAX_LINE_BYTES, SERVER, line
from streamcensus.simulator.chat.log import DeliveryLog, render_window
from streamcensus.simulator.chat.model import ChatModel, ChatParams
from streamcensus.simulator.chat.render import Renderer
from streamcensus.simulator.protocol import World

PUMP_INTERVAL = 0.05  # real seconds between looks at the clock
PING_CHECK_INTERVAL = 0.5
MAX_LOG_LINES = 400_000  # lines kept for clients still reading (bounded memory)
MAX_CATCH_UP = 3600.0  # a clock jump delivers at most the last hour of messages
MAX_CONNECTIONS = 5000
SEND_BUFFER = 256 * 1024  # kernel send buffer per client: a client that stops reading
# fills it, its writer waits, and the log moves on without it (bounded memory)
PONG_WAIT_REAL = 5.0  # an unanswered PING also waits this many real seconds (fast clocks)
CHAT_READ_SCOPE = "chat:read"


_CLOSING: set[asyncio.Task[None]] = set()  # WebSocket closes in flight (kept referenced)


class _TcpWire:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def abort(self) -> None:
        self.writer.transport.abort()

    def close(self) -> None:
        self.writer.close()


class _WsWire:
    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws

    async def send(self, data: bytes) -> None:
        # Twitch sends text frames, each holding one or more CR LF-terminated lines
        await self.ws.send(data.decode("utf-8", "replace"))

    def abort(self) -> None:
        self.ws.transport.abort()

    def close(self) -> None:
        task = asyncio.get_running_loop().create_task(self.ws.close())
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)


class ChatServer:
    """Chat rooms of a `World`, served to IRC and WebSocket clients on the simulated clock."""

    def __init__(
        self,
        world: World,
        clock: Clock,
        *,
        faults: Any = None,
        tokens: Any = None,
        params: ChatParams | None = None,
        max_log_lines: int = MAX_LOG_LINES,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.world = world
        self.clock = clock
        self.faults = faults  # a FaultMiddleware (chat rules), or None
        self.tokens = tokens  # the simulator's TokenStore, to check `PASS oauth:...`
        self.model = ChatModel(world, params)
        self.renderer = Renderer(world, int(world.seed))
        self.log = DeliveryLog(max_log_lines)
        self.max_connections = max_connections
        self.pong_wait_real = PONG_WAIT_REAL
        self.stats = ChatStats()
        self.connections: set[Connection] = set()
        self._rooms: dict[int, set[Connection]] = {}
        self._logins: dict[str, tuple[str, int] | None] = {}
        self._from_ms = math.floor(clock.time() * 1000) + 1
        self._pump_lock = asyncio.Lock()
        self._servers: list[asyncio.Server | WsServer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.irc_address = ""
        self.ws_url = ""

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, irc_sock: socket.socket, ws_sock: socket.socket) -> None:
        """Serve on two already bound sockets (IRC over TCP, WebSocket)."""
        tcp = await asyncio.start_server(self._serve_tcp, sock=irc_sock, limit=MAX_LINE_BYTES)
        ws = await websockets.serve(
            self._serve_ws,
            sock=ws_sock,
            ping_interval=None,  # Twitch keeps WebSocket clients alive with IRC PING
            max_size=MAX_LINE_BYTES * 4,
            subprotocols=None,
        )
        self._servers = [tcp, ws]
        self.irc_address = _address(irc_sock)
        self.ws_url = f"ws://{_address(ws_sock)}/"
        self._tasks = [asyncio.create_task(self._housekeeping(), name="chat-housekeeping")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for conn in list(self.connections):
            conn.close("server stopping")
        for server in self._servers:
            server.close()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def info(self) -> dict[str, str]:
        """Where clients connect (`/_sim/info`)."""
        return {"irc": self.irc_address, "websocket": self.ws_url}

    def snapshot(self) -> dict[str, Any]:
        """Counters and current state (`GET /_sim/chat`)."""
        return {
            **self.info(),
            "connections": len(self.connections),
            "rooms_joined": len(self._rooms),
            "delivered_until": self._from_ms / 1000.0,
            "log_lines": self.log.end - self.log.first,
            "counters": asdict(self.stats),
        }

    # -- delivery ----------------------------------------------------------------------

    async def barrier(self) -> None:
        """Deliver every message up to the clock's now before returning."""
        async with self._pump_lock:
            await self._pump()

    async def _pump(self) -> None:
        end_ms = math.floor(self.clock.time() * 1000) + 1  # tmi-sent-ts <= now
        if end_ms <= self._from_ms:
            return  # the clock stands still or went back: nothing is delivered twice
        start_ms = self._from_ms
        if end_ms - start_ms > MAX_CATCH_UP * 1000:
            self.stats.skipped_seconds += (end_ms - start_ms) / 1000.0 - MAX_CATCH_UP
            start_ms = end_ms - int(MAX_CATCH_UP * 1000)
        rooms = set(self._rooms)
        membership = {
            room
            for room, conns in self._rooms.items()
            if any("twitch.tv/membership" in c.caps for c in conns)
        }
        if rooms:
            chunk = await asyncio.to_thread(
                render_window,
                self.model,
                self.renderer,
                start_ms,
                end_ms,
                rooms,
                membership,
                self.log.end,
            )
            if chunk.start != self.log.end:  # cannot happen under the pump lock
                raise RuntimeError("the delivery log moved during a pump")
            self.log.append(chunk)
            self.stats.lines_rendered += len(chunk.lines)
        self._from_ms = end_ms
        for conn in list(self.connections):
            if conn.cursor < self.log.first:
                self.stats.slow_dropped += 1
                conn.close("too slow")
            else:
                conn.wake()

    async def _housekeeping(self) -> None:
        last_ping = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(PUMP_INTERVAL)
            if math.floor(self.clock.time() * 1000) + 1 > self._from_ms:
                async with self._pump_lock:
                    await self._pump()
            if loop.time() - last_ping >= PING_CHECK_INTERVAL:
                last_ping = loop.time()
                now = self.clock.time()
                for conn in list(self.connections):
                    conn.check_ping(now)

    # -- rooms and accounts --------------------------------------------------------------

    def room_for(self, login: str) -> tuple[str, int] | None:
        """(login, channel id) of an account's chat room; None when no such account."""
        if login not in self._logins:
            if len(self._logins) > 100_000:
                self._logins.clear()
            found = self.world.users_by_login([login])
            self._logins[login] = (found[0].login, int(found[0].id)) if found else None
        return self._logins[login]

    def room_logins(self, channel_id: int) -> list[str]:
        """Logins in a room's chat list now, when it has at most 1,000 (Twitch's NAMES rule)."""
        listed = self.world.chatters(str(channel_id), self.clock.time())
        if listed is None or len(listed.account_ids) > self.model.params.membership_max_room:
            return []
        return self.world.logins(np.asarray(listed.account_ids, dtype=np.int64))

    def subscribe(self, conn: Connection, channel_id: int) -> None:
        self._rooms.setdefault(channel_id, set()).add(conn)

    def unsubscribe(self, conn: Connection, channel_id: int) -> None:
        conns = self._rooms.get(channel_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._rooms[channel_id]

    def forget(self, conn: Connection) -> None:
        """A connection closed: leave its rooms."""
        self.connections.discard(conn)
        for channel_id in conn.rooms.values():
            self.unsubscribe(conn, channel_id)

    def authenticate(self, token: str) -> tuple[str, str] | None:
        """(login, user id) of a user token with `chat:read`, as Twitch checks `PASS`."""
        if self.tokens is None or not token:
            return None
        found = self.tokens.lookup(token)
        if found is None or not found.is_user or CHAT_READ_SCOPE not in found.scopes:
            return None
        return str(found.login), str(found.user_id)

    def reconnect_all(self) -> int:
        """Send RECONNECT to every connection (each then closes); how many got it."""
        conns = list(self.connections)
        for conn in conns:
            conn.reconnect()
        return len(conns)

    # -- faults ------------------------------------------------------------------------

    def chat_faults_active(self) -> bool:
        return self.faults is not None and self.faults.chat_active

    def join_fault(self, channel: str) -> str | None:
        """The chat fault to apply to a JOIN of `channel`, if any."""
        if not self.chat_faults_active():
            return None
        chosen = self.faults.choose("IRC", f"/chat/join/{channel}", "")
        return None if chosen is None else str(chosen[0].fault)

    def message_fault(self, room: str, data: bytes) -> tuple[bytes, str | None] | None:
        """What to send instead of a message line of `room`, and whether to close after."""
        chosen = self.faults.choose("IRC", f"/chat/message/{room}", "")
        if chosen is None:
            return None
        rule, variant = chosen
        fault = str(rule.fault)
        half = data[: max(1, len(data) // 2)]
        if fault == "irc_reset":
            return half, "connection reset"
        if fault == "irc_truncated":
            return half.rstrip(b"\r\n") + b"\r\n", None
        if fault == "irc_malformed":
            return _MALFORMED[variant % len(_MALFORMED)], None
        if fault == "irc_reconnect":
            self.stats.reconnects_sent += 1
            return line("RECONNECT").encode(), "reconnect"
        return None

    # -- transports ----------------------------------------------------------------------

    def _admit(self, conn: Connection) -> bool:
        self.stats.connections_total += 1
        if len(self.connections) >= self.max_connections:
            self.stats.connections_refused += 1
            conn.close("too many connections")
            return False
        self.connections.add(conn)
        return True

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _limit_send_buffer(writer.get_extra_info("socket"))
        conn = Connection(self, _TcpWire(writer), "irc")
        if not self._admit(conn):
            return
        sender = asyncio.create_task(conn.run_writer())
        try:
            while not conn.closed:
                try:
                    raw = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError:
                    break  # end of stream (a partial last line is dropped)
                except asyncio.LimitOverrunError:
                    self.stats.malformed_input += 1
                    break
                await conn.handle(raw.decode("utf-8", "replace"))
        except (ConnectionError, OSError):
            pass
        finally:
            conn.close(conn.close_reason or "client left", abort=False)
            await _finish(sender)
            writer.close()

    async def _serve_ws(self, ws: ServerConnection) -> None:
        _limit_send_buffer(ws.transport.get_extra_info("socket"))
        conn = Connection(self, _WsWire(ws), "websocket")
        if not self._admit(conn):
            return
        sender = asyncio.create_task(conn.run_writer())
        try:
            async for frame in ws:
                text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                for part in text.split("\n"):
                    await conn.handle(part)
                if conn.closed:
                    break
        except websockets.ConnectionClosed:
            pass
        finally:
            conn.close(conn.close_reason or "client left", abort=False)
            await _finish(sender)
            await ws.close()


_MALFORMED: tuple[bytes, ...] = (
    b"@badge-info=;badges=;color=;display-name\r\n",  # tags cut off, no command
    b":" + SERVER.encode() + b"\r\n",  # a prefix and nothing else
    b"@id=\xff\xfe :x!x@x.tmi.twitch.tv PRIVMSG #\xff :\xc3\r\n",  # not UTF-8
)


async def _finish(task: asyncio.Task[None]) -> None:
    await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _limit_send_buffer(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"
