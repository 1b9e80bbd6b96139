"""Pacing against a fake token-bucket server on a standing SimClock (sleep advances time)."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random

import httpx
import pytest

from streamcensus.clock import SimClock
from streamcensus.timeutil import UTC
from streamcensus.twitch import ClientStats, HelixClient, HelixConfig, Pacer

START = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
LIMIT = 800
RATE = LIMIT / 60.0


class BucketServer:
    """Helix users/chatters behind a continuous token bucket, as Twitch documents it.

    `limit` points refill at limit/60 per second on `clock`; each request costs one point;
    an empty bucket answers 429. `Ratelimit-Reset` is when the bucket would be full again.
    Answers are held back for a few event-loop turns so requests overlap and finish out
    of order.
    """

    def __init__(self, clock: SimClock, seed: int = 1, limit: int = LIMIT) -> None:
        self.clock = clock
        self.limit = limit
        self.rate = limit / 60.0
        self.tokens = float(limit)
        self.stamp = clock.time()
        self.rng = random.Random(seed)
        self.served = 0
        self.http_429 = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.in_flight_before_first_answer = 0
        self.answered = 0
        self.drain_at: int | None = None

    def _refill(self) -> float:
        now = self.clock.time()
        self.tokens = min(self.limit, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return now

    def _headers(self, now: float) -> dict[str, str]:
        full_at = now + (self.limit - self.tokens) / self.rate
        return {
            "Ratelimit-Limit": str(self.limit),
            "Ratelimit-Remaining": str(max(0, math.floor(self.tokens))),
            "Ratelimit-Reset": str(math.ceil(full_at)),
        }

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "app", "expires_in": 10**7})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.answered == 0:
            self.in_flight_before_first_answer = max(
                self.in_flight_before_first_answer, self.in_flight
            )
        now = self._refill()
        if self.drain_at is not None and self.served == self.drain_at:
            self.tokens = 0.0  # another consumer of the same bucket empties it
            self.drain_at = None
        if self.tokens < 1:
            self.http_429 += 1
            response = httpx.Response(429, json={"status": 429}, headers=self._headers(now))
        else:
            self.tokens -= 1
            self.served += 1
            ids = request.url.params.get_list("id")
            users = [{"id": i, "login": f"u{i}", "display_name": i} for i in ids]
            response = httpx.Response(200, json={"data": users}, headers=self._headers(now))
        for _ in range(self.rng.randrange(2, 12)):
            await asyncio.sleep(0)
        self.in_flight -= 1
        self.answered += 1
        return response


def _client(server: BucketServer) -> HelixClient:
    config = HelixConfig(
        helix_url="http://127.0.0.1:9/helix",
        auth_url="http://127.0.0.1:9/oauth2",
        client_id="cid",
        client_secret="sec",
        concurrency=8,
    )
    return HelixClient(
        config,
        clock=server.clock,
        transport=httpx.MockTransport(server),
        rng=random.Random(5),
    )


async def _run(client: HelixClient, requests: int, concurrency: int) -> list[str]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    got: list[str] = []

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            users = await client.get_users(ids=[str(i)])
            got.extend(u.id for u in users)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return got


async def test_paced_client_never_runs_the_bucket_dry_and_stays_near_the_floor() -> None:
    clock = SimClock(START, speed=0)
    server = BucketServer(clock)
    requests = 2000
    async with _client(server) as client:
        start = clock.time()
        got = await _run(client, requests, concurrency=8)
        elapsed = clock.time() - start
    floor = (requests - LIMIT) / RATE  # 90 s: the bucket's capacity, then its refill rate
    assert sorted(got, key=int) == [str(i) for i in range(requests)]
    assert server.http_429 == 0 and client.stats.http_429 == 0
    assert server.served == requests
    assert floor <= elapsed <= 1.1 * floor
    assert server.max_in_flight == 8
    assert server.in_flight_before_first_answer == 1  # a single probe learns the bucket
    assert client.stats.requests == requests + 1  # + the app token
    assert client.stats.retries == 0
    assert client.stats.rate_limit_waits > 0
    assert client.stats.rate_limit_wait_seconds == pytest.approx(elapsed, rel=0.02)


async def test_a_bucket_emptied_by_someone_else_costs_waits_not_data() -> None:
    clock = SimClock(START, speed=0)
    server = BucketServer(clock, seed=2)
    server.drain_at = 300
    async with _client(server) as client:
        got = await _run(client, 1200, concurrency=8)
    assert sorted(got, key=int) == [str(i) for i in range(1200)]
    assert server.served == 1200
    assert 1 <= server.http_429 <= 8  # only the requests already in flight
    assert client.stats.http_429 == server.http_429
    assert client.stats.retries == server.http_429
    assert client.stats.errors == {"http_429": server.http_429}


async def test_pacer_waits_for_refill_from_headers() -> None:
    clock = SimClock(START, speed=0)
    stats = ClientStats()
    pacer = Pacer(clock, stats, margin=2)
    now = clock.time()
    await pacer.acquire()
    headers = {"Ratelimit-Limit": "60", "Ratelimit-Remaining": "3", "Ratelimit-Reset": str(now)}
    pacer.release(httpx.Response(200, headers=headers))
    assert pacer.limit == 60 and pacer.rate == pytest.approx(1.0)
    assert pacer.estimate() == pytest.approx(3.0)
    await pacer.acquire()  # 3 points left, 2 kept spare: goes at once
    assert clock.time() == now and stats.rate_limit_waits == 0
    await pacer.acquire()  # 2 left: waits 1 s for the third point
    assert clock.time() - now == pytest.approx(1.0)
    assert stats.rate_limit_waits == 1 and stats.rate_limit_wait_seconds == pytest.approx(1.0)
    assert pacer.in_flight == 2


async def test_429_blocks_the_bucket_until_reset_and_leaves_the_other_bucket_alone() -> None:
    clock = SimClock(START, speed=0)
    stats = ClientStats()
    app = Pacer(clock, stats, name="app")
    user = Pacer(clock, stats, name="user")
    now = clock.time()
    await user.acquire()
    headers = {
        "Ratelimit-Limit": "800",
        "Ratelimit-Remaining": "0",
        "Ratelimit-Reset": str(now + 12),
    }
    user.release(httpx.Response(429, headers=headers))
    assert user.blocked_until == pytest.approx(now + 12)
    await app.acquire()
    assert clock.time() == now and app.blocked_until == -math.inf
    await user.acquire()
    assert clock.time() - now == pytest.approx(12.0)
    assert stats.rate_limit_waits == 1


@pytest.mark.parametrize("limit", [1, 2])
async def test_a_bucket_smaller_than_the_margin_still_paces(limit: int) -> None:
    """A bucket of 1 or 2 points lets one request through per refill, never waits forever."""
    start = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.UTC)
    clock = SimClock(start, speed=0)
    pacer = Pacer(clock, ClientStats(), margin=2.0, default_limit=limit, window=60.0)
    for _ in range(5):
        await asyncio.wait_for(pacer.acquire(), timeout=5)
        remaining = max(0, int(pacer.estimate()))
        headers = {
            "Ratelimit-Limit": str(limit),
            "Ratelimit-Remaining": str(remaining),
            "Ratelimit-Reset": str(int(clock.time()) + 60),
        }
        pacer.release(httpx.Response(200, headers=headers))
    # five requests through a bucket of `limit` points: at most one window per request
    assert 0 < clock.time() - start.timestamp() <= 5 * 60
