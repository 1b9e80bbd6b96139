"""Join pacing: the sliding window holds against the server's own rule; the floor's arithmetic."""

from __future__ import annotations

import math
from collections import deque

import pytest

from streamcensus.collect.chat import ChatLimits, join_floor
from streamcensus.collect.chat.limits import JoinWindow
from streamcensus.simulator.chat.connection import JOIN_LIMIT, JOIN_WINDOW


def server_accepts(times: list[float]) -> bool:
    """The simulator's check (simulator/chat/connection.py), applied to attempt times."""
    joins: deque[float] = deque()
    for now in times:
        joins.append(now)
        while joins and joins[0] <= now - JOIN_WINDOW:
            joins.popleft()
        if len(joins) > JOIN_LIMIT:
            return False
    return True


@pytest.mark.parametrize("latency", [0.0, 0.013, 0.4, 3.0])
def test_attempts_paced_by_the_window_never_trip_the_server(latency: float) -> None:
    window = JoinWindow(JOIN_LIMIT, JOIN_WINDOW)
    now, sent_at = 0.0, []
    for _ in range(12):  # batches: as many as free, acknowledged `latency` later
        now = window.next_free(now)
        n = window.free(now)
        window.sent(n)
        assert window.next_free(now) == math.inf  # nothing more before the acknowledgement
        sent_at += [now + latency / 2] * n  # the server sees them half a round trip later
        now += latency
        window.acknowledged(n, now)
    assert len(sent_at) == 12 * JOIN_LIMIT
    assert server_accepts(sent_at)


def test_a_continuously_refilled_bucket_would_trip_it() -> None:
    # 20 at once, then one each time a token comes back at 2/s: the server drops at the 21st
    times = [0.0] * 20 + [0.5 * k for k in range(1, 21)]
    assert not server_accepts(times)


def test_floor_arithmetic() -> None:
    one = ChatLimits(max_connections=1)
    assert join_floor(0, one) == 0.0
    assert join_floor(20, one) == 0.0
    assert join_floor(21, one) == 10.0
    assert join_floor(90, one) == 40.0
    assert join_floor(91, one) == math.inf  # one connection holds 90 channels
    two = ChatLimits(max_connections=2, connect_interval=2.0)
    assert join_floor(40, two) == 2.0 and join_floor(41, two) == 10.0
    assert join_floor(2000, ChatLimits()) == 62.0


def test_backoffs_are_bounded() -> None:
    limits = ChatLimits()
    delays = [limits.reconnect_delay(k) for k in range(12)]
    assert delays[:4] == [0.0, 1.0, 2.0, 4.0] and max(delays) == limits.reconnect_max
    assert limits.refused_delay(1) == 60.0 and limits.refused_delay(30) == limits.refused_retry_max
