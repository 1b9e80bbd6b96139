"""The token bucket: exact header values, 429 when empty, refill on the simulator clock."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from streamcensus.simulator.ratelimit import RateLimiter, TokenBucket
from streamcensus.simulator.server import SimulatorHandle

from .fake_world import START

T0 = 1_000_000.0
StartSimulator = Callable[..., SimulatorHandle]


def test_bucket_counts_down_then_refuses() -> None:
    bucket = TokenBucket(capacity=3, window=60.0, now=T0)
    decisions = [bucket.take(T0) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    # 20 s per point: full again 20, 40, 60, 60 s later.
    assert [d.reset for d in decisions] == [T0 + 20, T0 + 40, T0 + 60, T0 + 60]
    assert all(d.limit == 3 for d in decisions)


def test_bucket_refills_continuously_and_caps_at_capacity() -> None:
    bucket = TokenBucket(capacity=800, window=60.0, now=T0)
    for _ in range(800):
        assert bucket.take(T0).allowed
    assert not bucket.take(T0).allowed
    assert bucket.points(T0 + 0.075) == pytest.approx(1.0)  # 800/60 points per second
    assert bucket.take(T0 + 0.075).allowed
    assert not bucket.take(T0 + 0.075).allowed
    assert bucket.points(T0 + 3600) == 800.0


def test_standing_clock_never_refills_and_backwards_clock_does_not_drain() -> None:
    bucket = TokenBucket(capacity=2, window=60.0, now=T0)
    bucket.take(T0)
    bucket.take(T0)
    assert not bucket.take(T0).allowed
    assert bucket.points(T0 - 500) == 0.0  # clock set backwards: no refill, no debt
    assert bucket.points(T0 - 470) == pytest.approx(1.0)


def test_headers_are_whole_numbers() -> None:
    decision = TokenBucket(capacity=800, window=60.0, now=T0 + 0.4).take(T0 + 0.4)
    assert decision.headers() == {
        "Ratelimit-Limit": "800",
        "Ratelimit-Remaining": "799",
        "Ratelimit-Reset": str(int(T0) + 1),
    }


def test_limiter_keeps_one_bucket_per_key() -> None:
    limiter = RateLimiter(points=2, window=60.0)
    assert limiter.take("app:a", T0).remaining == 1
    assert limiter.take("app:a", T0).remaining == 0
    assert not limiter.take("app:a", T0).allowed
    assert limiter.take("app:b", T0).remaining == 1
    assert limiter.remaining("user:a:1", T0) == 2.0
    # what each bucket let through; the refused request is not counted
    assert limiter.granted() == {"app:a": 2, "app:b": 1}


@pytest.mark.parametrize(("points", "window"), [(0, 60.0), (10, 0.0), (10, float("inf"))])
def test_limiter_rejects_bad_settings(points: int, window: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(points=points, window=window)


def _token(client: httpx.Client, auth_url: str, client_id: str) -> dict[str, str]:
    grant = client.post(
        f"{auth_url}/token",
        params={"client_id": client_id, "client_secret": "s", "grant_type": "client_credentials"},
    ).json()
    return {"Authorization": f"Bearer {grant['access_token']}", "Client-Id": client_id}


def test_http_headers_count_down_429_and_refill(running_simulator: StartSimulator) -> None:
    sim = running_simulator(rate_limit_points=5, rate_limit_window=60.0)
    with httpx.Client(timeout=10) as client:
        headers = _token(client, sim.auth_url, "cid")
        seen = []
        for _ in range(5):
            r = client.get(f"{sim.helix_url}/streams", headers=headers)
            assert r.status_code == 200
            seen.append((int(r.headers["Ratelimit-Remaining"]), int(r.headers["Ratelimit-Reset"])))
            assert r.headers["Ratelimit-Limit"] == "5"
        # 12 simulated seconds per point; the clock stands still.
        assert seen == [
            (4, START + 12),
            (3, START + 24),
            (2, START + 36),
            (1, START + 48),
            (0, START + 60),
        ]
        refused = client.get(f"{sim.helix_url}/streams", headers=headers)
        assert refused.status_code == 429
        assert refused.json() == {
            "error": "Too Many Requests",
            "status": 429,
            "message": "Too Many Requests",
        }
        assert refused.headers["Ratelimit-Remaining"] == "0"
        assert refused.headers["Ratelimit-Reset"] == str(int(START) + 60)
        # Another client has its own bucket.
        other = _token(client, sim.auth_url, "other")
        assert client.get(f"{sim.helix_url}/streams", headers=other).status_code == 200
        # Refill happens on the simulator clock only.
        assert client.post(f"{sim.base_url}/_sim/clock", json={"advance": 12}).status_code == 200
        again = client.get(f"{sim.helix_url}/streams", headers=headers)
        assert again.status_code == 200
        assert again.headers["Ratelimit-Remaining"] == "0"
        assert again.headers["Ratelimit-Reset"] == str(int(START) + 12 + 60)
        assert client.get(f"{sim.helix_url}/streams", headers=headers).status_code == 429


def test_http_user_token_has_its_own_bucket(running_simulator: StartSimulator) -> None:
    sim = running_simulator(rate_limit_points=2)
    with httpx.Client(timeout=10) as client:
        app_headers = _token(client, sim.auth_url, "cid")
        for _ in range(2):
            client.get(f"{sim.helix_url}/streams", headers=app_headers)
        assert client.get(f"{sim.helix_url}/streams", headers=app_headers).status_code == 429
        grant = client.post(
            f"{sim.base_url}/auth/authorize",
            params={
                "client_id": "cid",
                "client_secret": "s",
                "grant_type": "user_token",
                "user_id": "500",
                "scope": "moderator:read:chatters",
            },
        ).json()
        user_headers = {"Authorization": f"Bearer {grant['access_token']}", "Client-Id": "cid"}
        r = client.get(f"{sim.helix_url}/streams", headers=user_headers)
        assert r.status_code == 200
        assert r.headers["Ratelimit-Remaining"] == "1"
