"""Twitch's chat limits as the listener honours them, the join pacer and the join-time floor.

What Twitch allows (researched 2026):
- Twitch's IRC guide ("Rate limits"): a regular account may make 20 join attempts and 20
  authentication attempts (one PASS/NICK pair) per 10 seconds per user; exceeding the join
  limit gets the connection dropped. Each anonymous connection logs in as its own
  `justinfan<digits>` user, and the simulator applies the limit per connection, so the
  listener keeps a join window per connection, never shared and never reset by a reconnect.
- Twitch limits are buckets that refill on a schedule the client cannot see (pajbot's
  tmi-rate-limits notes): the safe client-side form is a sliding window, "the bucket refilled
  exactly one period ago". A token bucket refilling continuously at 2/s would let a 21st
  join into some 10-second span and get the connection dropped, so `JoinWindow` keeps the
  times of the last 20 attempts and the next waits for the oldest to be 10 s old.
- Opening connections: Twitch documents no connection count for anonymous chat (its staff
  said "there is currently no connection limit", and anonymous services such as
  recent-messages spread thousands of channels over many connections of under 100 channels).
  robotty's twitch-irc-rs, the library those services use, opens one connection at a time,
  one every 2 seconds, and puts at most 90 channels on a connection; the listener does the
  same (`connect_interval`, `max_channels_per_connection`), which also keeps authentication
  attempts at 5 per 10 s, under the documented 20. An older per-IP figure (50 JOIN or auth
  per 10 s, Twitch staff on their forum, 2014) is no longer documented, and maintainers of
  anonymous-chat services report it not enforced; it is not applied here.

Each attempt is entered in the window at the time the server is known to have processed it:
when the PONG to a PING sent right after the JOIN line comes back (Twitch answers a
connection's lines in order). The server saw the attempt at or before that moment, and sees
the next one at or after it is sent, so "send when the 20th-last acknowledged attempt is
10 s old" can never put 21 attempts into the server's 10 seconds, whatever the latency.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

# Waits end this long after the exact moment: the server computes "now - 10 s" in floating
# point on its own clock reading, and an exact tie could fall one rounding step short.
MARGIN = 0.001


@dataclass(frozen=True)
class ChatLimits:
    """Limits and timings of the chat listener (seconds on the injected clock unless said)."""

    join_attempts: int = 20  # per join_window and connection (Twitch's IRC guide)
    join_window: float = 10.0
    connect_interval: float = 2.0  # one new connection at most this often (twitch-irc-rs)
    max_channels_per_connection: int = 90  # twitch-irc-rs's default
    max_connections: int = 100  # our own ceiling: fr needs about 30
    reconnect_base: float = 1.0  # backoff after a failed or dropped connection: base * 2^k
    reconnect_max: float = 60.0
    refused_retry: float = 60.0  # a join that got no answer: retried after this, doubling
    refused_retry_max: float = 1800.0
    suspended_retry: float = 3600.0  # a channel Twitch called suspended/banned/unknown
    connect_timeout: float = 20.0  # real seconds to connect and register (TLS, WebSocket)
    ack_timeout: float = 10.0  # real seconds to wait for the PONG that acknowledges joins
    join_timeout: float = 30.0  # real seconds after the ack for a JOIN echo (grace mode)
    idle_ping: float = 60.0  # real seconds of silence before the listener PINGs
    pong_timeout: float = 30.0  # real seconds for that PONG before the connection is dropped
    barrier_timeout: float = 600.0  # real seconds for a window barrier's PONG (the simulator
    # first delivers every message up to its now: a 5-minute jump at fr takes seconds)
    read_pause: float = 2.0  # real seconds a connection lets lines gather between reads while
    # it awaits no answer (a PONG): a few large reads cost far less CPU than one read per line

    def __post_init__(self) -> None:
        if self.join_attempts < 1 or self.join_window <= 0:
            raise ValueError("join_attempts and join_window must be positive")
        if self.max_connections < 1 or self.max_channels_per_connection < 1:
            raise ValueError("max_connections and max_channels_per_connection must be >= 1")
        if self.connect_interval < 0 or self.reconnect_base <= 0:
            raise ValueError("connect_interval must be >= 0 and reconnect_base > 0")
        if self.read_pause < 0:
            raise ValueError("read_pause must be >= 0 (0 reads every line as it comes)")

    def reconnect_delay(self, failures: int) -> float:
        """Bounded exponential backoff after `failures` consecutive failed connections."""
        if failures <= 0:
            return 0.0
        return min(self.reconnect_max, self.reconnect_base * 2.0 ** (failures - 1))

    def refused_delay(self, failures: int) -> float:
        """When to retry a channel whose join failed `failures` times in a row."""
        return min(self.refused_retry_max, self.refused_retry * 2.0 ** max(0, failures - 1))


class JoinWindow:
    """The join attempts of one connection in the last `window` seconds (a sliding window)."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._acked: deque[float] = deque()  # acknowledgement times, oldest first
        self.in_flight = 0  # attempts sent, not acknowledged yet: they hold a slot

    def _expire(self, now: float) -> None:
        while self._acked and self._acked[0] <= now - self.window:
            self._acked.popleft()

    def free(self, now: float) -> int:
        """Attempts that may be sent at `now`."""
        self._expire(now)
        return max(0, self.attempts - len(self._acked) - self.in_flight)

    def next_free(self, now: float) -> float:
        """The earliest time at or after `now` when one attempt may be sent (inf: unknown yet,
        an attempt in flight must be acknowledged first)."""
        if self.free(now) > 0:
            return now
        held = len(self._acked) + self.in_flight - self.attempts + 1
        if held > len(self._acked):
            return math.inf
        return self._acked[held - 1] + self.window + MARGIN

    def sent(self, n: int) -> None:
        self.in_flight += n

    def acknowledged(self, n: int, at: float) -> None:
        """`n` attempts in flight are now known to be processed by `at`."""
        n = min(n, self.in_flight)
        self.in_flight -= n
        self._acked.extend([at] * n)


def join_floor(channels: int, limits: ChatLimits) -> float:
    """The least time from the first connection to the last JOIN attempt for `channels`.

    Connection k opens at k x connect_interval (k < max_connections) and can send
    `join_attempts` JOINs at once and as many again every `join_window`, up to
    `max_channels_per_connection`; taking the earliest batches first is optimal. Round trips
    (connecting, registering, acknowledgements) are left out: they are zero on a standing
    simulated clock, so the listener must meet this floor exactly there.
    """
    if channels <= 0:
        return 0.0
    per_conn = limits.max_channels_per_connection
    batches_per_conn = math.ceil(per_conn / limits.join_attempts)
    slots: list[tuple[float, int]] = []
    for k in range(limits.max_connections):
        opened = k * limits.connect_interval
        left = per_conn
        for j in range(batches_per_conn):
            size = min(limits.join_attempts, left)
            slots.append((opened + j * limits.join_window, size))
            left -= size
    slots.sort()
    placed = 0
    for at, size in slots:
        placed += size
        if placed >= channels:
            return at
    return math.inf  # more channels than max_connections x max_channels_per_connection
