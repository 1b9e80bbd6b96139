"""One client connection to the simulated chat: registration, capabilities, rooms, PING.

A connection reads lines and answers as Twitch's IRC server does; what it sends goes
through one writer task that reads the shared delivery log from the connection's cursor
and merges the connection's own replies (welcome, JOIN echo, NAMES, PONG, NOTICE) at the
log position where they were made. A JOIN or PART takes effect at that position, so a
client gets exactly the lines of a room posted after its JOIN echo and before its PART.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from streamcensus.clock import Clock
from streamcensus.simulator.chat.irc import SERVER, ParseError, line, parse, strip_tags, user_prefix
from streamcensus.simulator.chat.log import DeliveryLog
from streamcensus.simulator.chat.model import Kind

CAPS = ("twitch.tv/tags", "twitch.tv/commands", "twitch.tv/membership")
ANONYMOUS = re.compile(r"^justinfan\d+$")
CHANNEL = re.compile(r"^#[a-z0-9_]{1,25}$")
JOIN_LIMIT = 20  # join attempts per window and connection, as Twitch documents
JOIN_WINDOW = 10.0  # simulated seconds
PING_EVERY = 300.0  # simulated seconds between the server's PINGs ("about every five minutes")
PONG_WAIT_SIM = 60.0  # an unanswered PING drops the client after this many simulated seconds
BATCH_BYTES = 64 * 1024
MAX_CONTROL = 20_000  # replies queued for one client before it counts as flooding
NAMES_PER_LINE = 40
KNOWN = frozenset(
    {"PASS", "NICK", "USER", "CAP", "JOIN", "PART", "PING", "PONG", "PRIVMSG", "QUIT"}
)
SUSPENDED = "This channel does not exist or has been suspended."


class Wire(Protocol):
    """The byte stream under a connection: TCP or WebSocket."""

    async def send(self, data: bytes) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class ChatStats:
    """Counters of the chat server since it started (`GET /_sim/chat`)."""

    connections_total: int = 0
    connections_refused: int = 0
    joins: int = 0
    join_attempts: int = 0
    joins_suspended: int = 0
    join_rate_dropped: int = 0
    slow_dropped: int = 0
    flood_dropped: int = 0
    ping_timeouts: int = 0
    reconnects_sent: int = 0
    login_failed: int = 0
    malformed_input: int = 0
    unknown_commands: int = 0
    lines_rendered: int = 0
    lines_sent: int = 0
    skipped_seconds: float = 0.0


class Hub(Protocol):
    """What a connection needs from its server (`server.ChatServer` is one)."""

    clock: Clock
    log: DeliveryLog
    stats: ChatStats
    pong_wait_real: float

    async def barrier(self) -> None: ...

    def room_for(self, login: str) -> tuple[str, int] | None: ...

    def room_logins(self, channel_id: int) -> list[str]: ...

    def subscribe(self, conn: Connection, channel_id: int) -> None: ...

    def unsubscribe(self, conn: Connection, channel_id: int) -> None: ...

    def forget(self, conn: Connection) -> None: ...

    def authenticate(self, token: str) -> tuple[str, str] | None: ...

    def chat_faults_active(self) -> bool: ...

    def join_fault(self, channel: str) -> str | None: ...

    def message_fault(self, room: str, data: bytes) -> tuple[bytes, str | None] | None: ...


@dataclass
class _Control:
    position: int
    data: bytes
    action: Callable[[], None] | None = None
    close_after: str | None = None


class Connection:
    """The server side of one client."""

    def __init__(self, server: Hub, wire: Wire, transport: str) -> None:
        self.server = server
        self.wire = wire
        self.transport = transport
        self.nick = "*"
        self.password: str | None = None
        self.registered = False
        self.caps: set[str] = set()
        self.rooms: dict[str, int] = {}  # joined login -> channel id
        self._active: set[int] = set()
        self._active_arr = np.zeros(0, dtype=np.int64)
        self.cursor = server.log.end
        self._control: deque[_Control] = deque()
        self._joins: deque[float] = deque()
        now = server.clock.time()
        self._ping_sim = now
        self._ping_real: float | None = None
        self._ping_wait_sim = 0.0
        self.closed = False
        self._closing = False
        self.close_reason = ""
        self._wake = asyncio.Event()

    # -- output ------------------------------------------------------------------------

    def _reply(
        self,
        *lines: str,
        action: Callable[[], None] | None = None,
        close_after: str | None = None,
    ) -> None:
        if self.closed:
            return
        if len(self._control) >= MAX_CONTROL:
            self.server.stats.flood_dropped += 1
            self.close("flooding")
            return
        item = _Control(self.server.log.end, "".join(lines).encode(), action, close_after)
        self._control.append(item)
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _allowed_kinds(self) -> npt.NDArray[np.bool_]:
        commands = "twitch.tv/commands" in self.caps
        membership = "twitch.tv/membership" in self.caps
        allowed = np.zeros(8, dtype=np.bool_)
        allowed[Kind.PRIVMSG] = True
        allowed[[Kind.USERNOTICE, Kind.CLEARCHAT]] = commands
        allowed[[Kind.JOIN, Kind.PART]] = membership
        return allowed

    def _collect(self) -> tuple[list[bytes], str | None]:
        """Lines to send next (up to BATCH_BYTES), and a reason to close after them."""
        log = self.server.log
        out: list[bytes] = []
        size = 0
        tags = "twitch.tv/tags" in self.caps
        allowed = self._allowed_kinds()
        while size < BATCH_BYTES:
            if self.cursor < log.first:
                self.server.stats.slow_dropped += 1
                return out, "too slow"
            if self._control and self._control[0].position <= self.cursor:
                item = self._control.popleft()
                out.append(item.data)
                size += len(item.data)
                if item.action is not None:
                    item.action()
                if item.close_after:
                    return out, item.close_after
                continue
            target = log.end if not self._control else min(log.end, self._control[0].position)
            if self.cursor >= target:
                break
            if not len(self._active_arr):
                self.cursor = target
                continue
            before = self.cursor
            for chunk in log.chunks_from(self.cursor):
                if chunk.start >= target or size >= BATCH_BYTES:
                    break
                lo = max(self.cursor, chunk.start) - chunk.start
                hi = min(min(target, chunk.stop) - chunk.start, lo + 4096)
                mask = np.isin(chunk.room[lo:hi], self._active_arr) & allowed[chunk.kind[lo:hi]]
                for j in (lo + np.flatnonzero(mask)).tolist():
                    data = chunk.lines[j] if tags else strip_tags(chunk.lines[j])
                    if self.server.chat_faults_active():
                        room = chunk.names[int(chunk.room[j])]
                        faulted = self.server.message_fault(room, data)
                        if faulted is not None:
                            sent, reason = faulted
                            out.append(sent)
                            self.cursor = chunk.start + j + 1
                            if reason:
                                return out, reason
                            continue
                    out.append(data)
                    size += len(data)
                self.cursor = chunk.start + hi
            if self.cursor == before:  # nothing kept between cursor and target
                self.cursor = target
        self.server.stats.lines_sent += len(out)
        return out, None

    async def run_writer(self) -> None:
        """Send the log and the replies until the connection closes."""
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                while not self.closed:
                    out, reason = self._collect()
                    if out:
                        await self.wire.send(b"".join(out))
                    if reason:
                        self.close(reason, abort=reason in ("too slow", "connection reset"))
                        return
                    if not out:
                        break
        except Exception:  # the peer went away while we wrote: nothing left to do
            self.close("write failed", abort=True)

    def close(self, reason: str, *, abort: bool = True) -> None:
        """Stop serving this client (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self._wake.set()
        self.server.forget(self)
        if abort:
            self.wire.abort()
        else:
            self.wire.close()

    # -- input -------------------------------------------------------------------------

    async def handle(self, text: str) -> None:
        """Answer one line from the client (never raises on bad input)."""
        if self.closed or self._closing or not text.strip("\r\n "):
            return
        try:
            msg = parse(text)
        except ParseError:
            self.server.stats.malformed_input += 1
            return
        cmd, params = msg.command, msg.params
        if cmd == "PASS":
            self.password = params[0] if params else ""
        elif cmd == "NICK" and params and params[0].strip():
            self._nick(params[0])
        elif cmd == "CAP":
            self._cap(params)
        elif cmd in ("USER", "PRIVMSG"):
            return  # the simulated chat is read-only; Twitch ignores USER
        elif cmd == "PING":
            await self.server.barrier()
            self._reply(line("PONG", SERVER, trailing=params[-1] if params else SERVER))
        elif cmd == "PONG":
            self._ping_real = None
        elif cmd == "QUIT":
            self.close("quit", abort=False)
        elif cmd == "JOIN" and self.registered and params:
            self._join(params[0])
        elif cmd == "PART" and self.registered and params:
            self._part(params[0])
        elif cmd not in KNOWN:
            self.server.stats.unknown_commands += 1
            self._reply(line("421", self.nick, cmd[:32], trailing="Unknown command"))

    def _nick(self, nick: str) -> None:
        if self.registered:
            return
        nick = nick.strip().lower()
        login_failed = line("NOTICE", "*", trailing="Login authentication failed")
        if ANONYMOUS.match(nick):
            self.nick = nick
        else:
            if not self.password:
                self._reply(
                    line("NOTICE", "*", trailing="Improperly formatted auth"),
                    close_after="login failed",
                )
                return
            token = self.password.removeprefix("oauth:")
            user = self.server.authenticate(token)
            if user is None or user[0] != nick:
                self.server.stats.login_failed += 1
                self._reply(login_failed, close_after="login failed")
                return
            self.nick = nick
        self.registered = True
        n = self.nick
        self._reply(
            line("001", n, trailing="Welcome, GLHF!"),
            line("002", n, trailing=f"Your host is {SERVER}"),
            line("003", n, trailing="This server is rather new"),
            line("004", n, trailing="-"),
            line("375", n, trailing="-"),
            line("372", n, trailing="You are in a maze of twisty passages, all alike."),
            line("376", n, trailing=">"),
        )

    def _cap(self, params: tuple[str, ...]) -> None:
        sub = params[0].upper() if params else ""
        if sub == "LS":
            self._reply(line("CAP", "*", "LS", trailing=" ".join(CAPS)))
        elif sub == "REQ":
            wanted = params[-1].split() if len(params) > 1 else []
            # Twitch acknowledges or refuses the whole request, as IRCv3 asks
            if wanted and all(c in CAPS for c in wanted):
                self.caps.update(wanted)
                self._reply(line("CAP", "*", "ACK", trailing=" ".join(wanted)))
            else:
                self._reply(line("CAP", "*", "NAK", trailing=" ".join(wanted)))

    def _notice(self, channel: str, msg_id: str, text: str) -> None:
        tags = [("msg-id", msg_id)] if "twitch.tv/tags" in self.caps else []
        self._reply(line("NOTICE", channel, tags=tags, trailing=text))

    def _join(self, targets: str) -> None:
        clock_now = self.server.clock.time()
        for raw in targets.split(","):
            name = raw.strip().lower()
            if not name:
                continue
            self._joins.append(clock_now)
            while self._joins and self._joins[0] <= clock_now - JOIN_WINDOW:
                self._joins.popleft()
            self.server.stats.join_attempts += 1
            fault = self.server.join_fault(name.lstrip("#"))
            if len(self._joins) > JOIN_LIMIT or fault == "irc_join_ratelimited":
                # Twitch drops a connection that exceeds the join rate limit
                self.server.stats.join_rate_dropped += 1
                self._closing = True  # what was answered goes out, then the connection drops
                self._reply(close_after="join rate limit exceeded")
                return
            if fault == "irc_join_refused":
                continue  # no answer at all: the client never sees its JOIN echo
            room = self.server.room_for(name[1:]) if CHANNEL.match(name) else None
            if room is None or fault == "irc_suspended":
                self.server.stats.joins_suspended += 1
                self._notice(
                    name if CHANNEL.match(name) else "*", "msg_channel_suspended", SUSPENDED
                )
                continue
            login, channel_id = room
            if login in self.rooms:
                continue
            self.rooms[login] = channel_id
            self.server.subscribe(self, channel_id)
            self.server.stats.joins += 1
            self._reply(
                *self._join_lines(login, channel_id),
                action=functools.partial(self._activate, channel_id, True),
            )

    def _join_lines(self, login: str, channel_id: int) -> list[str]:
        n = self.nick
        chan = f"#{login}"
        names = [n]
        if "twitch.tv/membership" in self.caps:
            names += [u for u in self.server.room_logins(channel_id) if u != n]
        host = f"{n}.{SERVER}"
        out = [line("JOIN", chan, prefix=user_prefix(n))]
        for i in range(0, len(names), NAMES_PER_LINE):
            out.append(
                line(
                    "353",
                    n,
                    "=",
                    chan,
                    prefix=host,
                    trailing=" ".join(names[i : i + NAMES_PER_LINE]),
                )
            )
        out.append(line("366", n, chan, prefix=host, trailing="End of /NAMES list"))
        if "twitch.tv/commands" in self.caps:
            tags = (
                [
                    ("emote-only", "0"),
                    ("followers-only", "-1"),
                    ("r9k", "0"),
                    ("room-id", str(channel_id)),
                    ("slow", "0"),
                    ("subs-only", "0"),
                ]
                if "twitch.tv/tags" in self.caps
                else []
            )
            out.append(line("ROOMSTATE", chan, tags=tags))
        return out

    def _part(self, targets: str) -> None:
        for raw in targets.split(","):
            login = raw.strip().lower().lstrip("#")
            channel_id = self.rooms.pop(login, None)
            if channel_id is None:
                continue
            self.server.unsubscribe(self, channel_id)
            self._reply(
                line("PART", f"#{login}", prefix=user_prefix(self.nick)),
                action=functools.partial(self._activate, channel_id, False),
            )

    def _activate(self, channel_id: int, on: bool) -> None:
        if on:
            self._active.add(channel_id)
        else:
            self._active.discard(channel_id)
        self._active_arr = np.fromiter(self._active, dtype=np.int64, count=len(self._active))

    def reconnect(self) -> None:
        """Send RECONNECT and close, as Twitch does before a server restart."""
        self.server.stats.reconnects_sent += 1
        self._reply(line("RECONNECT"), close_after="reconnect")

    def check_ping(self, sim_now: float) -> None:
        """Send the periodic PING; drop a client that left the last one unanswered."""
        if self.closed or not self.registered:
            return
        real_now = time.monotonic()
        if self._ping_real is not None:
            if (
                sim_now - self._ping_wait_sim >= PONG_WAIT_SIM
                and real_now - self._ping_real >= self.server.pong_wait_real
            ):
                self.server.stats.ping_timeouts += 1
                self.close("ping timeout")
            return
        if sim_now - self._ping_sim >= PING_EVERY:
            self._ping_sim = sim_now
            self._ping_wait_sim = sim_now
            self._ping_real = real_now
            self._reply(line("PING", trailing=SERVER, prefix=""))
