"""Client-side pacing against one Helix token bucket.

Twitch documents a token bucket per token kind (app tokens per client id, user tokens per
client id and user): `Ratelimit-Limit` points, refilled continuously over a minute
(800 points/min by default); every answer carries `Ratelimit-Limit`, `Ratelimit-Remaining`
and `Ratelimit-Reset` (epoch seconds when the bucket is full again); an empty bucket
answers 429.

`Pacer` keeps an estimate of the points left, on the injected clock:

* each request takes a point when it starts, so requests in flight are already counted;
* the estimate refills at `limit / 60` points per second, capped at `limit`;
* every answer's `Ratelimit-Remaining`, minus the requests still in flight, is a lower
  bound of the server's bucket; the estimate never exceeds it, so a slower server refill
  or another process drawing on the same bucket is corrected at the next answer;
* a request starts only while the estimate keeps `margin` points spare; otherwise it
  waits for just enough refill;
* after a 429 every request waits until `Ratelimit-Reset` (capped at one window).

Waiting happens under one lock, so requests leave in order and only one task sleeps at a
time; on a standing `SimClock` (whose `sleep` advances time) that keeps simulated time
exact. Before the first answer a single request probes the bucket.
"""

from __future__ import annotations

import asyncio
import logging
import math

import httpx

from streamcensus.clock import Clock
from streamcensus.twitch.errors import parse_reset
from streamcensus.twitch.stats import ClientStats

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 800  # points per minute, Twitch's default for app and user tokens
WINDOW_SECONDS = 60.0  # the bucket refills `limit` points per this many seconds
_EPS = 1e-6
_MIN_SLEEP = 1e-3  # seconds; shorter sleeps could vanish in epoch-seconds float rounding


def _header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


class Pacer:
    """Paces the requests drawn on one token bucket (call `acquire`, then `release`)."""

    def __init__(
        self,
        clock: Clock,
        stats: ClientStats,
        *,
        name: str = "app",
        margin: float = 2.0,
        default_limit: int = DEFAULT_LIMIT,
        window: float = WINDOW_SECONDS,
    ) -> None:
        if margin < 0 or default_limit < 1 or window <= 0:
            raise ValueError("pacer needs margin >= 0, default_limit >= 1 and window > 0")
        self.name = name
        self._clock = clock
        self._stats = stats
        self._margin = float(margin)
        self._window = float(window)
        self._limit = default_limit
        self._tokens = float(default_limit)
        self._stamp = clock.time()
        self._known = False
        self._in_flight = 0
        self._blocked_until = -math.inf
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()

    @property
    def limit(self) -> int:
        """Bucket size, as last reported by `Ratelimit-Limit` (or the default)."""
        return self._limit

    @property
    def rate(self) -> float:
        """Estimated refill, points per second."""
        return self._limit / self._window

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def blocked_until(self) -> float:
        """Clock time before which no request starts (after a 429); -inf when not blocked."""
        return self._blocked_until

    def estimate(self) -> float:
        """Points the bucket is estimated to hold now, requests in flight deducted."""
        self._refill(self._clock.time())
        return self._tokens

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(float(self._limit), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def _delay(self, now: float) -> float:
        """Seconds to wait before the next request may start (0 when it may start now)."""
        if now < self._blocked_until - _EPS:
            return self._blocked_until - now
        # a bucket smaller than the margin still lets one request through at a time
        need = min(1.0 + self._margin, float(self._limit))
        if not self._known or self._tokens >= need - _EPS:
            return 0.0
        return (need - self._tokens) / self.rate

    async def acquire(self) -> None:
        """Wait until a request may start without running the bucket dry, then take a point."""
        async with self._lock:
            while not self._known and self._in_flight > 0:
                self._changed.clear()
                await self._changed.wait()
            start = self._clock.time()
            slept = False
            while True:
                now = self._clock.time()
                self._refill(now)
                delay = self._delay(now)
                if delay <= 0:
                    break
                slept = True
                await self._clock.sleep(max(delay, _MIN_SLEEP))
            if slept:
                self._stats.record_wait(max(0.0, self._clock.time() - start))
            self._tokens -= 1.0
            self._in_flight += 1

    def release(self, response: httpx.Response | None) -> None:
        """Finish a request started by `acquire`, learning from its answer's headers."""
        self._in_flight = max(0, self._in_flight - 1)
        if response is not None:
            self._observe(response)
        self._changed.set()

    def _observe(self, response: httpx.Response) -> None:
        now = self._clock.time()
        self._refill(now)
        limit = _header_int(response, "ratelimit-limit")
        remaining = _header_int(response, "ratelimit-remaining")
        if limit is not None and limit > 0:
            self._limit = limit
        if remaining is not None:
            bound = float(remaining - self._in_flight)
            self._tokens = bound if not self._known else min(self._tokens, bound)
        elif not self._known:
            self._tokens = float(self._limit - self._in_flight)
        self._known = True
        if response.status_code == 429:
            self._tokens = min(self._tokens, float(-self._in_flight))
            reset = parse_reset(response)
            until = reset if reset is not None else now + (1.0 + self._margin) / self.rate
            until = min(max(until, now + 1.0 / self.rate), now + self._window)
            if until > self._blocked_until:
                self._blocked_until = until
                log.info("%s bucket empty (429): waiting %.1f s", self.name, until - now)
