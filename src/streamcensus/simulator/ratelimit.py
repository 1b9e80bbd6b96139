"""Helix's token bucket, refilling on the simulator's clock.

Twitch gives each client id (app tokens) and each client id + user (user tokens) a bucket
of points (800 per minute by default); every request costs one point here, the bucket
refills continuously, and an empty bucket answers 429. Each response carries
`Ratelimit-Limit` (the bucket size), `Ratelimit-Remaining` (whole points left) and
`Ratelimit-Reset`, "a Unix epoch timestamp that identifies when your bucket is reset to
full", as Twitch documents it. Time comes from the caller (the simulator's clock), so a
bucket on a standing clock never refills.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

_EPSILON = 1e-6  # float slack, so 1/rate seconds always buys exactly one point


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    """The outcome of one request against a bucket, and the header values to send."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        """The three `Ratelimit-*` headers Twitch sends with every Helix response."""
        return {
            "Ratelimit-Limit": str(self.limit),
            "Ratelimit-Remaining": str(self.remaining),
            "Ratelimit-Reset": str(self.reset),
        }


class TokenBucket:
    """A continuously refilling bucket of `capacity` points, `capacity / window` per second."""

    __slots__ = ("_points", "_updated", "capacity", "rate")

    def __init__(self, capacity: int, window: float, now: float) -> None:
        if capacity < 1:
            raise ValueError(f"a bucket holds at least one point, got {capacity}")
        if not window > 0 or math.isinf(window):
            raise ValueError(
                f"the refill window must be a positive number of seconds, got {window}"
            )
        self.capacity = capacity
        self.rate = capacity / window
        self._points = float(capacity)
        self._updated = now

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._points = min(float(self.capacity), self._points + elapsed * self.rate)
        # A clock set backwards neither refills nor drains: time restarts from `now`.
        self._updated = now

    def points(self, now: float) -> float:
        """Points in the bucket at `now` (fractional)."""
        self._refill(now)
        return self._points

    def take(self, now: float, cost: int = 1) -> RateLimitDecision:
        """Spend `cost` points if the bucket holds them; report the headers either way."""
        self._refill(now)
        allowed = self._points + _EPSILON >= cost
        if allowed:
            self._points = max(0.0, self._points - cost)
        missing = self.capacity - self._points
        reset = (
            math.ceil(now + missing / self.rate - _EPSILON)
            if missing > _EPSILON
            else math.ceil(now)
        )
        return RateLimitDecision(
            allowed=allowed,
            limit=self.capacity,
            remaining=max(0, math.floor(self._points + _EPSILON)),
            reset=reset,
        )


class RateLimiter:
    """One `TokenBucket` per key (a client id, or a client id and a user id); thread-safe."""

    def __init__(self, points: int = 800, window: float = 60.0) -> None:
        TokenBucket(points, window, 0.0)  # validate once, with a clear error
        self.points = points
        self.window = window
        self._buckets: dict[str, TokenBucket] = {}
        self._granted: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float, cost: int = 1) -> RateLimitDecision:
        """Charge `cost` points to the bucket of `key` at simulated time `now`."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.points, self.window, now)
            decision = bucket.take(now, cost)
            if decision.allowed:
                self._granted[key] = self._granted.get(key, 0) + cost
            return decision

    def granted(self) -> dict[str, int]:
        """Points granted so far, per key (what each bucket has let through)."""
        with self._lock:
            return dict(self._granted)

    def remaining(self, key: str, now: float) -> float:
        """Points left for `key` at `now` (a full bucket for a key never seen)."""
        with self._lock:
            bucket = self._buckets.get(key)
            return float(self.points) if bucket is None else bucket.points(now)
