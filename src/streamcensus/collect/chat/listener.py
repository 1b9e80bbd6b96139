"""The chat-activity listener: every listed channel joined anonymously, activity per window.

`ChatListener` keeps anonymous connections to Twitch chat (or the simulator's), joins the
channels given to `set_channels` within Twitch's join limits (`joiner.py`), parts the ones no
longer listed, rejoins after `RECONNECT` or a dropped connection, and counts each PRIVMSG
under its author's pseudonym in the grid window of its `tmi-sent-ts` (`windows.py`). It
records when each channel was really joined (from the JOIN echo to the PART echo, or to the
last moment its connection was known to be read), so `close_windows` can say how many
seconds of each window it covered. Faults are counted in `ChatCounters`, never raised.

Closing window t: against real Twitch, once the clock is `grace_seconds` past t (by default
5 s for the server's delivery plus one `read_pause`, the longest a delivered line waits on
its socket); against the
simulator (a simulated clock), the simulator's barrier is used: a PING is answered only after
every message up to its simulated now was sent on that connection, so once every connection
has answered, the window is complete, whatever the speed of the machine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import ssl
from collections.abc import Iterable, Mapping
from types import TracebackType

from streamcensus.clock import Clock, SimClock, VirtualClock
from streamcensus.collect.chat.channels import (
    IDLE,
    JOINED,
    JOINING,
    PARTING,
    WANTED,
    ChannelState,
    ChatChannel,
)
from streamcensus.collect.chat.connection import READY, ChatConnection
from streamcensus.collect.chat.door import Door, KeyStore
from streamcensus.collect.chat.joiner import Joiner
from streamcensus.collect.chat.limits import ChatLimits
from streamcensus.collect.chat.reception import Reception
from streamcensus.collect.chat.schema import ChatCounters
from streamcensus.collect.chat.state import ListenerState
from streamcensus.collect.chat.transport import parse_chat_url
from streamcensus.collect.chat.windows import (
    ChannelCoverage,
    ChatWindow,
    WindowBook,
    window_end_ms,
)
from streamcensus.timeutil import GRID_SECONDS, to_epoch

log = logging.getLogger("streamcensus.collect.chat")

DEFAULT_GRACE = 5.0  # seconds past a window's end before it is closed, on real Twitch
HOUSEKEEPING_INTERVAL = 1.0  # real seconds


async def _finished(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Wait until `tasks` are done, without raising their errors or their cancellation (so a
    cancellation of the caller arriving meanwhile is never swallowed); errors were logged."""
    waiting = set(tasks)
    if waiting:
        await asyncio.wait(waiting)
    for task in waiting:
        if not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" warning


class ChatListener:
    """Anonymous chat connections to every listed channel; activity per 5-minute window.

    `url`: the chat (`ircs://irc.chat.twitch.tv:6697`, `wss://...`, or the simulator's
    `host:port` / `ws://host:port/`). `clock`: the clock that paces joins and closes windows.
    `keys`: the pseudonym key store. `barrier`: close windows with the simulator's PING
    barrier (default: when `clock` is simulated, a `SimClock` or a `VirtualClock`);
    otherwise `grace_seconds` after the end.
    `tls`: the context that verifies `ircs://`/`wss://` servers (default: the system's CAs).
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Clock,
        keys: KeyStore,
        optout_viewers: Iterable[str] = (),
        known_bots: Iterable[str] = (),
        optout_channels: Iterable[str] = (),
        known_bot_ids: Mapping[str, str] | None = None,
        limits: ChatLimits | None = None,
        barrier: bool | None = None,
        grace_seconds: float | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = parse_chat_url(url)
        self.clock = clock
        self.limits = limits or ChatLimits()
        simulated = isinstance(clock, SimClock | VirtualClock)
        self.barrier = simulated if barrier is None else barrier
        # on real Twitch a line delivered within the grace may then wait one rest on its socket
        real_grace = DEFAULT_GRACE + self.limits.read_pause
        self.grace = (
            (0.0 if self.barrier else real_grace) if grace_seconds is None else grace_seconds
        )
        self.door = Door(
            keys, optout_viewers, known_bots, optout_channels, known_bot_ids=known_bot_ids
        )
        counters = ChatCounters()
        self.state = ListenerState(
            url=self.url,
            clock=clock,
            limits=self.limits,
            barrier=self.barrier,
            book=WindowBook(self.door, counters),
            counters=counters,
            tls=tls,
        )
        self.book = self.state.book
        self.channels = self.state.channels  # by login
        self.by_id = self.state.by_id
        self.connections = self.state.connections
        self.joiner = Joiner(self.state)
        self.reception = Reception(self.state, self.joiner)
        self.joiner.sink = self.reception
        self._started_at: float | None = None
        self._first_listing: float | None = None  # when set_channels was first called
        self._next_end: int | None = None
        self._counted = ChatCounters()
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()

    # -- life --------------------------------------------------------------------------

    async def start(self) -> None:
        if self._tasks:
            return
        self._started_at = self.clock.time()
        if isinstance(self.clock, VirtualClock):
            self.clock.add_actor()  # the joiner sleeps on it: one more actor
        self._tasks = [
            asyncio.create_task(self.joiner.run(), name="chat-joiner"),
            asyncio.create_task(self._housekeeping(), name="chat-housekeeping"),
        ]

    async def stop(self) -> None:
        """Close every connection (the open windows are dropped: close them first)."""
        self.state.stopping = True
        for task in self._tasks:
            task.cancel()
        for conn in list(self.connections):
            conn.abort("listener stopping")
        pending = [*self._tasks, *self._side_tasks] + [
            c.task for c in self.connections if c.task is not None
        ]
        await _finished(pending)
        if self._tasks and isinstance(self.clock, VirtualClock):
            self.clock.remove_actor()
        self._tasks = []

    async def __aenter__(self) -> ChatListener:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def last_error(self) -> str:
        """Why the last connection failed or dropped ("" if none did)."""
        return self.state.last_error

    @property
    def counters(self) -> ChatCounters:
        """Counters since the listener was made (a copy)."""
        return self.state.counters.copy()

    # -- what to listen to -------------------------------------------------------------

    def set_channels(self, channels: Iterable[ChatChannel]) -> None:
        """Listen to exactly these channels: join new ones, part those no longer listed.

        Channels come from the latest snapshot's listing (top N + tracked - opt-outs); an
        opted-out channel given here anyway is left out (P4). Order is priority.
        """
        now = self.clock.time()
        if self._first_listing is None:
            self._first_listing = now
        wanted: dict[str, ChatChannel] = {}
        for channel in channels:
            login = channel.login.strip().lower()
            if login and not self.door.is_optout_channel(login, channel.channel_id):
                wanted.setdefault(login, ChatChannel(login, channel.channel_id))
        for login, ch in self.channels.items():
            if ch.listed and login not in wanted:
                ch.listed = False
                ch.unlisted_at = now
                if ch.state == WANTED:
                    ch.state = IDLE
        for rank, (login, channel) in enumerate(wanted.items()):
            found = self.channels.get(login)
            if found is None:
                found = self.channels[login] = ChannelState(login, channel.channel_id)
            elif found.channel_id != channel.channel_id:  # the login now names another account
                self.by_id.pop(found.channel_id, None)
                found.channel_id = channel.channel_id
            self.by_id[channel.channel_id] = found
            ch = found
            ch.rank = rank
            if not ch.listed:
                ch.listed = True
                ch.listed_since = now
                ch.unlisted_at = None
                if ch.state == IDLE:
                    ch.state = WANTED
                    ch.not_before = max(ch.not_before, now)
        self.joiner.wake()

    async def settled(self, timeout: float = 600.0) -> bool:
        """Wait (real seconds) until every listed channel that can be joined now is joined."""
        return await self.joiner.settled(timeout)

    def joined(self) -> dict[str, float]:
        """Login -> since when (clock) of the channels joined now."""
        return {
            login: ch.joined_at
            for login, ch in self.channels.items()
            if ch.state in (JOINED, PARTING) and ch.joined_at is not None
        }

    # -- windows -----------------------------------------------------------------------

    async def close_windows(self, until: dt.datetime) -> list[ChatWindow]:
        """Close every open grid window ending at or before `until` (a grid time), oldest
        first; each carries its activity and coverage tables. Windows start with the one
        the listener started in."""
        end = int(to_epoch(until))
        if end % GRID_SECONDS:
            raise ValueError(f"{until.isoformat()} is not on the {GRID_SECONDS}-second grid")
        if self._next_end is None:
            began = self._started_at if self._started_at is not None else self.clock.time()
            self._next_end = int(window_end_ms(int(began * 1000)) // 1000)
        ends = list(range(self._next_end, end + 1, GRID_SECONDS))
        if not ends:
            return []
        wait = end + self.grace - self.clock.time()
        if wait > 0:
            await self.clock.sleep(wait)
        if self.barrier:
            await self._barrier()
        delta = self.state.counters.minus(self._counted)
        self._counted = self.state.counters.copy()
        out: list[ChatWindow] = []
        began = self._started_at if self._started_at is not None else math.inf
        listing = self._first_listing if self._first_listing is not None else math.inf
        for i, window_end in enumerate(ends):
            start = window_end - GRID_SECONDS
            covered = self._coverage(start, window_end)
            counters = delta if i == len(ends) - 1 else ChatCounters()
            throughout = [
                ch.channel_id
                for ch in self.channels.values()
                if ch.listed_throughout(start, window_end)
            ]
            out.append(
                self.book.close(
                    window_end * 1000,
                    covered,
                    counters,
                    # running, with a listing, before the window's end: the channels of that
                    # listing are owed from then on (`listed_throughout` says which are
                    # owed the whole window); a window that ended first was not listened to
                    listening=max(began, listing) < window_end,
                    listed_throughout=throughout,
                )
            )
        self._next_end = end + GRID_SECONDS
        self._prune(float(end))
        return out

    async def _barrier(self) -> None:
        ready = [c for c in self.connections if c.state == READY]
        answers = await asyncio.gather(
            *(c.ping(self.limits.barrier_timeout, "barrier") for c in ready)
        )
        silent = [c for c, ok in zip(ready, answers, strict=True) if not ok]
        for conn in silent:
            conn.abort("no answer to the window barrier")
        await _finished([conn.task for conn in silent if conn.task is not None])

    def _coverage(self, start: float, end: float) -> list[ChannelCoverage]:
        out = []
        for ch in self.channels.values():
            listed = (ch.listed_since is not None and ch.listed_since < end and ch.listed) or (
                ch.unlisted_at is not None and ch.unlisted_at > start
            )
            if listed or ch.joined_at is not None or any(hi > start for _, hi in ch.intervals):
                out.append(ch.coverage())
        return out

    def _prune(self, start: float) -> None:
        """Forget joined intervals and unlisted channels that no open window needs."""
        for login in list(self.channels):
            ch = self.channels[login]
            ch.intervals = [(lo, hi) for lo, hi in ch.intervals if hi > start]
            if (
                not ch.listed
                and ch.state == IDLE
                and not ch.intervals
                and (ch.unlisted_at is None or ch.unlisted_at <= start)
            ):
                del self.channels[login]
                if self.by_id.get(ch.channel_id) is ch:
                    del self.by_id[ch.channel_id]

    # -- housekeeping (real time: network liveness, not data) --------------------------

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        pinging: set[ChatConnection] = set()
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)
            now = loop.time()
            for ch in list(self.channels.values()):
                if ch.state == JOINING and ch.echo_deadline is not None and ch.echo_deadline < now:
                    self.reception.join_failed(ch, "no JOIN echo")
            for conn in list(self.connections):
                if (
                    conn.state == READY
                    and conn not in pinging
                    and now - conn.last_read > self.limits.idle_ping
                ):
                    pinging.add(conn)
                    task = asyncio.create_task(self._keepalive(conn, pinging))
                    self._side_tasks.add(task)
                    task.add_done_callback(self._side_tasks.discard)
            self.joiner.wake()

    async def _keepalive(self, conn: ChatConnection, pinging: set[ChatConnection]) -> None:
        """PING a silent connection; drop it only if nothing at all arrives for a while.

        A busy server may answer late (the simulator answers a PING after delivering
        everything up to its now), so lines still arriving count as signs of life.
        """
        loop = asyncio.get_running_loop()
        try:
            while conn.state == READY:
                if await conn.ping(self.limits.pong_timeout, "alive"):
                    return
                if conn.state != READY:
                    return
                if loop.time() - conn.last_read > self.limits.pong_timeout:
                    conn.abort("no answer to PING")
                    return
        finally:
            pinging.discard(conn)
