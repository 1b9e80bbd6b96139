"""Joining within Twitch's limits: one scheduler picks the earliest allowed JOIN for each channel.

The joiner takes the wanted channels in priority order and, each time, the earliest moment
the limits allow: a free slot in an open connection's join window (20 per 10 s), or a new
connection (one at a time, `connect_interval` apart, later after failures: bounded
exponential backoff). That greedy choice is optimal, so the listener meets the floor of
`limits.join_floor` on a standing simulated clock and spreads channels over several
connections exactly when that is faster.

It is the only part of the listener that waits on the injected clock (pacing waits of at
most `join_window`, `connect_interval` or the first steps of the reconnect backoff): on a
standing `SimClock` such a wait advances simulated time. Before any such wait it lets the
acknowledgements of the JOINs already sent come in (real time), so simulated time never
runs ahead of the server's answers. A channel waiting to be retried (refused, suspended) is
not a pacing wait: it is looked at again when the clock has moved on by itself.

On a `VirtualClock` (time moves only when every actor sleeps) the joiner is one of the
actors (the listener adds it): when it has nothing to do it sleeps on the clock until its
next retry time (or `VIRTUAL_IDLE`), so the other actors' sleeps can end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from streamcensus.clock import VirtualClock
from streamcensus.collect.chat.channels import JOINED, JOINING, PARTING, WANTED, ChannelState
from streamcensus.collect.chat.connection import CONNECTING, READY, ChatConnection, Sink
from streamcensus.collect.chat.state import ListenerState

log = logging.getLogger("streamcensus.collect.chat")

IDLE_POLL = 0.25  # real seconds between looks at channels waiting for a retry time
QUIET_POLL = 5.0  # real seconds between looks when nothing waits, joins or parts (events wake it)
VIRTUAL_IDLE = 300.0  # on a VirtualClock: an idle joiner looks again after this (clock)
# A reconnect backoff is a pacing wait for the first failures in a row only; after that it
# is waited out like a retry, so a chat server that keeps failing cannot run a standing
# simulated clock away.
PACED_FAILURES = 3


class Joiner:
    """Opens connections and sends JOIN and PART for a `ChatListener`.

    `sink` receives what the connections it opens report (the listener's `Reception`).
    """

    def __init__(self, state: ListenerState) -> None:
        self.state = state
        self.limits = state.limits
        self.sink: Sink | None = None
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._settled = asyncio.Event()
        self._last_connect = -math.inf
        self._failures = 0  # connections failed in a row
        self._backoff_until = -math.inf
        self._index = 0

    # -- signals from the listener -----------------------------------------------------

    def wake(self) -> None:
        """Something changed (channels listed or unlisted, a channel can be retried)."""
        self._settled.clear()
        self._wake.set()

    def progress(self) -> None:
        """A connection became ready or closed, or JOINs were acknowledged."""
        self._progress.set()
        self.wake()

    def connection_failed(self, now: float) -> None:
        self._failures += 1
        self._backoff_until = now + self.limits.reconnect_delay(self._failures)

    def joined_ok(self) -> None:
        """A JOIN echo came back: connections work again, the backoff starts over."""
        self._failures = 0
        self._backoff_until = -math.inf

    async def settled(self, timeout: float) -> bool:
        """Wait until the scheduler, looking afresh at the clock, has nothing to do now."""
        self.wake()
        try:
            await asyncio.wait_for(self._settled.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # -- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Join and part until cancelled; a bug in one round is logged, never fatal."""
        while not self.state.stopping:
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("chat joiner: unexpected error; going on")
                await asyncio.sleep(1.0)

    async def _round(self) -> None:
        """Part what is unlisted, then take one step: join, open, wait or idle."""
        listener = self.state
        self._wake.clear()
        await self._parts()
        now = listener.clock.time()
        wanted = sorted(
            (
                ch
                for ch in listener.channels.values()
                if ch.state == WANTED and ch.listed and ch.not_before <= now
            ),
            key=lambda ch: ch.rank,
        )
        if not wanted:
            busy = any(ch.state in (JOINING, PARTING) for ch in listener.channels.values()) or any(
                c.state == CONNECTING for c in listener.connections
            )
            if not busy:
                self._settled.set()
            await self._idle(quiet=not busy)
            return
        kind, at, conn = self._next(now)
        if kind == "":
            if not await self._settle():
                self._settled.set()  # nothing can be placed now (no capacity left)
                await self._idle()
            return
        if at > now:
            if not await self._settle():  # else answers came in: decide again with them
                await self._sleep(at - now)
            return
        if kind == "open":
            self._open(now)
        elif conn is not None:
            await self._join(conn, wanted, now)

    def _next(self, now: float) -> tuple[str, float, ChatConnection | None]:
        """The earliest allowed action: ("join", time, conn), ("open", time, None) or ("", inf)."""
        limits = self.limits
        best: tuple[str, float, ChatConnection | None] = ("", math.inf, None)
        for conn in self.state.connections:
            if conn.state != READY or len(conn.channels) >= limits.max_channels_per_connection:
                continue
            at = conn.window.next_free(now)
            if at < best[1]:
                best = ("join", at, conn)
        connecting = any(c.state == CONNECTING for c in self.state.connections)
        waiting_out = self._failures > PACED_FAILURES and self._backoff_until > now
        if len(self.state.connections) < limits.max_connections and not (connecting or waiting_out):
            at = max(now, self._last_connect + limits.connect_interval, self._backoff_until)
            if at < best[1]:
                best = ("open", at, None)
        return best

    def _open(self, now: float) -> None:
        listener = self.state
        if self.sink is None:
            raise RuntimeError("the joiner has no sink for its connections")
        conn = ChatConnection(
            self._index, listener.url, listener.clock, self.limits, self.sink, listener.tls
        )
        self._index += 1
        self._last_connect = now
        listener.connections.append(conn)
        conn.start()

    async def _join(self, conn: ChatConnection, wanted: list[ChannelState], now: float) -> None:
        room = self.limits.max_channels_per_connection - len(conn.channels)
        batch = wanted[: max(0, min(conn.window.free(now), room))]
        if not batch:
            return
        for ch in batch:
            ch.state = JOINING
            ch.conn = conn
            ch.echo_deadline = None
            ch.first_read = math.inf
            conn.channels.add(ch.login)
        self.state.counters.join_attempts += len(batch)
        await conn.join([ch.login for ch in batch])

    async def _parts(self) -> None:
        """PART every joined channel that is no longer listed (not rate-limited)."""
        by_conn: dict[ChatConnection, list[ChannelState]] = {}
        for ch in self.state.channels.values():
            if ch.state == JOINED and not ch.listed and ch.conn is not None:
                by_conn.setdefault(ch.conn, []).append(ch)
        for conn, channels in by_conn.items():
            for ch in channels:
                ch.state = PARTING
            await conn.part([ch.login for ch in channels])

    async def _settle(self) -> bool:
        """Wait (real time, bounded) for pending answers: connections registering, JOINs
        unacknowledged. True when there were some."""

        def pending() -> bool:
            return any(
                c.state == CONNECTING or (c.state == READY and c.unacked)
                for c in self.state.connections
            )

        if not pending():
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(self.limits.connect_timeout, self.limits.ack_timeout)
        while pending() and loop.time() < deadline:
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), deadline - loop.time())
        return True

    async def _sleep(self, seconds: float) -> None:
        """A pacing wait on the clock, cut short when something changes."""
        sleeper = asyncio.ensure_future(self.state.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # asyncio.wait never raises its tasks' CancelledError, so a cancellation of
            # this task arriving meanwhile is not swallowed (it would keep the joiner alive)
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.wait({sleeper, waker})

    async def _idle(self, *, quiet: bool = False) -> None:
        """Wait for a change; on a real clock look again after `IDLE_POLL`, or `QUIET_POLL`
        when `quiet` (nothing joining or parting) and no channel waits for a retry time."""
        clock = self.state.clock
        now = clock.time()
        if isinstance(clock, VirtualClock):
            await self._sleep(max(0.001, min(self._next_retry(now), now + VIRTUAL_IDLE) - now))
            return
        poll = QUIET_POLL if quiet and self._next_retry(now) == math.inf else IDLE_POLL
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), poll)

    def _next_retry(self, now: float) -> float:
        """The next moment a waiting channel may be joined, or the backoff ends."""
        times = [
            ch.not_before
            for ch in self.state.channels.values()
            if ch.state == WANTED and ch.listed and ch.not_before > now
        ]
        if self._backoff_until > now:
            times.append(self._backoff_until)
        return min(times, default=math.inf)
