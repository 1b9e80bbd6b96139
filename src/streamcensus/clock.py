"""Clocks that can be injected: the wall clock, and a drivable simulated clock.

Everything that waits (the Helix client's pacing, the collector's grid) and everything
that keeps time (the simulator's token bucket) takes a `Clock`. A `SimClock` lets a
caller set and advance simulated time and let it flow at a chosen speed-up, so a
simulated day can be collected in minutes while the rate limit is still honoured: the
bucket refills on the same simulated time that the client sleeps on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from streamcensus.timeutil import from_epoch, to_epoch


class Clock(Protocol):
    """What a component needs to know about time."""

    def time(self) -> float:
        """Epoch seconds on this clock."""
        ...

    def now(self) -> dt.datetime:
        """Aware UTC time on this clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class WallClock:
    """Real time."""

    def time(self) -> float:
        return time.time()

    def now(self) -> dt.datetime:
        return from_epoch(self.time())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(frozen=True)
class ClockState:
    """A clock reading that can travel over HTTP: simulated epoch seconds and speed."""

    epoch: float
    speed: float

    def to_json(self) -> dict[str, float | str]:
        return {"epoch": self.epoch, "speed": self.speed, "now": from_epoch(self.epoch).isoformat()}


class SimClock:
    """A drivable clock: simulated time = anchor + (real time elapsed) × speed.

    `speed=1` flows like real time, `speed=60` runs a minute per real second, `speed=0`
    stands still. On a standing clock `sleep` advances the clock itself (virtual time),
    so in-process callers never wait forever; out-of-process callers should give the
    clock a speed instead, since only the owner's clock refills the rate limit.
    """

    def __init__(
        self,
        start: dt.datetime | float | None = None,
        speed: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic  # the real time it flows with (injectable for tests)
        self._anchor_sim = self._as_epoch(start) if start is not None else time.time()
        self._anchor_real = monotonic()
        self._speed = self._check_speed(speed)

    @staticmethod
    def _as_epoch(value: dt.datetime | float) -> float:
        return to_epoch(value) if isinstance(value, dt.datetime) else float(value)

    @staticmethod
    def _check_speed(speed: float) -> float:
        if not speed >= 0 or speed == float("inf"):
            raise ValueError(f"clock speed must be a finite number >= 0, got {speed!r}")
        return float(speed)

    def _time_locked(self) -> float:
        return self._anchor_sim + (self._monotonic() - self._anchor_real) * self._speed

    def time(self) -> float:
        with self._lock:
            return self._time_locked()

    def now(self) -> dt.datetime:
        return from_epoch(self.time())

    @property
    def speed(self) -> float:
        with self._lock:
            return self._speed

    def state(self) -> ClockState:
        with self._lock:
            return ClockState(epoch=self._time_locked(), speed=self._speed)

    def set(self, moment: dt.datetime | float, speed: float | None = None) -> None:
        """Jump to `moment` (and optionally change speed)."""
        with self._lock:
            self._anchor_sim = self._as_epoch(moment)
            self._anchor_real = self._monotonic()
            if speed is not None:
                self._speed = self._check_speed(speed)

    def set_speed(self, speed: float) -> None:
        """Change speed from now on, keeping the current reading."""
        with self._lock:
            self._anchor_sim = self._time_locked()
            self._anchor_real = self._monotonic()
            self._speed = self._check_speed(speed)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds` (never backward)."""
        if seconds < 0:
            raise ValueError("a clock only advances forward")
        with self._lock:
            self._anchor_sim = self._time_locked() + seconds
            self._anchor_real = self._monotonic()

    def sync(self, state: ClockState) -> None:
        """Mirror another clock's reading and speed (e.g. a remote simulator's)."""
        self.set(state.epoch, speed=state.speed)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        speed = self.speed
        if speed == 0:
            self.advance(seconds)
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(seconds / speed)


@dataclass(order=True)
class _Sleeper:
    deadline: float
    order: int
    future: asyncio.Future[None] = field(compare=False)


class VirtualClock:
    """Simulated time that moves only by jumps: sleeps never wait for real time.

    Made for tests and simulated runs whose results must not depend on the machine's
    speed. `actors` is how many tasks take part (e.g. a collector loop and a daily-load
    loop). While fewer than `actors` sleeps are pending, some task is still working
    (computing, or waiting for an HTTP answer), and time stands still; once `actors` sleeps
    are pending, time jumps to the earliest deadline and wakes that sleeper. A collector's
    pacing waits therefore add up to exactly the waits it chose, however slow the machine,
    and concurrent loops interleave in deadline order. Readable from any thread; sleep
    from one event loop.
    """

    def __init__(self, start: dt.datetime | float, *, actors: int = 1) -> None:
        if actors < 1:
            raise ValueError("a virtual clock needs at least one actor")
        self._lock = threading.Lock()
        self._now = to_epoch(start) if isinstance(start, dt.datetime) else float(start)
        self._actors = actors
        self._sleepers: list[_Sleeper] = []
        self._order = itertools.count()
        self._jump_scheduled = False

    def time(self) -> float:
        with self._lock:
            return self._now

    def now(self) -> dt.datetime:
        return from_epoch(self.time())

    @property
    def speed(self) -> float:
        """Virtual time never flows on its own: 0, like a standing `SimClock`."""
        return 0.0

    def state(self) -> ClockState:
        """The reading a simulator's `/_sim/clock` reports."""
        return ClockState(epoch=self.time(), speed=0.0)

    @property
    def pending(self) -> int:
        """Sleeps waiting for their deadline."""
        return len(self._sleepers)

    @property
    def actors(self) -> int:
        return self._actors

    def add_actor(self) -> None:
        """One more task takes part from now on (e.g. a chat listener's join scheduler,
        which counts itself while it runs, so callers count only their own loops)."""
        with self._lock:
            self._actors += 1

    def remove_actor(self) -> None:
        """One task less (the one `add_actor` added has stopped)."""
        with self._lock:
            if self._actors <= 1:
                raise ValueError("a virtual clock needs at least one actor")
            self._actors -= 1
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._schedule_jump(loop)  # the remaining sleepers may now be every actor

    def set(self, moment: dt.datetime | float) -> None:
        """Jump to `moment` (forward only); sleepers whose deadline passed wake up."""
        target = to_epoch(moment) if isinstance(moment, dt.datetime) else float(moment)
        with self._lock:
            if target < self._now:
                raise ValueError("a virtual clock only moves forward")
            self._now = target
        self._wake_due()

    def advance(self, seconds: float) -> None:
        """Move forward by `seconds`."""
        if seconds < 0:
            raise ValueError("a clock only advances forward")
        self.set(self.time() + seconds)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        sleeper = _Sleeper(self.time() + seconds, next(self._order), loop.create_future())
        heapq.heappush(self._sleepers, sleeper)
        self._schedule_jump(loop)
        try:
            await sleeper.future
        finally:
            if not sleeper.future.done():
                sleeper.future.cancel()
            if sleeper in self._sleepers:
                self._sleepers.remove(sleeper)
                heapq.heapify(self._sleepers)

    def _schedule_jump(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._jump_scheduled:
            self._jump_scheduled = True
            loop.call_soon(self._maybe_jump)

    def _maybe_jump(self) -> None:
        """Jump to the earliest deadline once every actor sleeps (after ready tasks ran)."""
        self._jump_scheduled = False
        live = [s for s in self._sleepers if not s.future.done()]
        if len(live) < self._actors:
            return
        earliest = min(live)
        with self._lock:
            self._now = max(self._now, earliest.deadline)
        self._wake_due()

    def _wake_due(self) -> None:
        now = self.time()
        while self._sleepers and self._sleepers[0].deadline <= now:
            sleeper = heapq.heappop(self._sleepers)
            if not sleeper.future.done():
                sleeper.future.set_result(None)
