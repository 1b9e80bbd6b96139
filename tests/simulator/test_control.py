"""The simulator's control routes against hostile callers: JSON only (no cross-site POST),
bounded clock values, and no request that leaves the simulator answering 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import strategies as st

from streamcensus.clock import SimClock
from streamcensus.simulator.api import create_app
from streamcensus.simulator.control import MAX_EPOCH, MAX_SPEED, MIN_EPOCH
from streamcensus.simulator.faults import FaultMiddleware

from .fake_world import START, FakeWorld

JSON = {"Content-Type": "application/json"}
# What a page of another site can send to 127.0.0.1 without a CORS preflight.
SIMPLE_TYPES = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    None,
]
ROUTES = [
    "/_sim/clock",
    "/_sim/info",
    "/_sim/truth/streams",
    "/_sim/truth/chatters/2",
    "/_sim/faults",
    "/helix/streams",
]


class Sim:
    """The simulator app in process (faults outermost, as served), with its clock."""

    def __init__(self) -> None:
        self.clock = SimClock(START, speed=0)
        self.faults = FaultMiddleware(create_app(FakeWorld(), self.clock), clock=self.clock)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.faults, raise_app_exceptions=False),
            base_url="http://127.0.0.1",
        )
        self.token = ""

    async def start(self) -> None:
        response = await self.http.post(
            "/oauth2/token",
            params={"client_id": "c", "client_secret": "s", "grant_type": "client_credentials"},
        )
        self.token = response.json()["access_token"]

    async def clock_post(self, raw: bytes, content_type: str | None = "application/json") -> Any:
        headers = {"Content-Type": content_type} if content_type else {}
        return await self.http.post("/_sim/clock", content=raw, headers=headers)

    async def assert_every_route_answers(self) -> None:
        """No route answers 5xx; the clock and the helix routes answer 200."""
        auth = {"Authorization": f"Bearer {self.token}", "Client-Id": "c"}
        for route in ROUTES:
            response = await self.http.get(route, headers=auth)
            assert response.status_code < 500, (route, response.status_code, response.text)
        assert (await self.http.get("/_sim/clock")).status_code == 200


@asynccontextmanager
async def simulator() -> AsyncIterator[Sim]:
    sim = Sim()
    async with sim.http:
        await sim.start()
        yield sim


@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
async def test_a_cross_site_post_is_refused(content_type: str | None) -> None:
    async with simulator() as sim:
        clock = await sim.clock_post(b'{"set": "2030-01-01T00:00:00Z"}', content_type)
        plan = {"rules": [{"path": "/helix/*", "fault": "503"}]}
        headers = {"Content-Type": content_type} if content_type else {}
        faults = await sim.http.post("/_sim/faults", content=json.dumps(plan), headers=headers)
        assert sim.clock.time() == START
        assert sim.faults.plan is None
        await sim.assert_every_route_answers()
    for response in (clock, faults):
        assert response.status_code == 415
        body = response.json()
        assert body["status"] == 415 and body["error"] == "Unsupported Media Type"
        assert "Content-Type: application/json" in body["message"]


async def test_json_with_parameters_is_accepted() -> None:
    async with simulator() as sim:
        response = await sim.clock_post(b'{"advance": 60}', "Application/JSON; charset=utf-8")
        assert response.status_code == 200
        assert sim.clock.time() == START + 60


def test_a_cross_site_post_over_real_http_is_refused(running_simulator: Any) -> None:
    sim = running_simulator()
    before = sim.clock.time()
    response = httpx.post(
        f"{sim.base_url}/_sim/clock",
        content='{"speed": 100}',
        headers={"Content-Type": "text/plain", "Origin": "https://attacker.example"},
    )
    assert response.status_code == 415
    assert "access-control-allow-origin" not in response.headers
    preflight = httpx.options(
        f"{sim.base_url}/_sim/clock",
        headers={
            "Origin": "https://attacker.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers  # never granted
    assert sim.clock.time() == before and sim.clock.speed == 0


HUGE = "1" + "0" * 400  # a JSON integer no float holds
HOSTILE_BODIES = [
    ('{"set": NaN}', "set: the simulated clock runs from 2000-01-01T00:00:00Z"),
    ('{"set": Infinity}', "set: the simulated clock runs from"),
    ('{"set": -Infinity}', "set: the simulated clock runs from"),
    ('{"set": 1e308}', "set: the simulated clock runs from"),
    ('{"set": -1e308}', "set: the simulated clock runs from"),
    (f'{{"set": {HUGE}}}', "set: the simulated clock runs from"),
    ('{"set": -1}', "set: the simulated clock runs from"),
    ('{"set": 0}', "set: the simulated clock runs from"),
    ('{"set": "1e400"}', "set: the simulated clock runs from"),
    ('{"set": "1999-12-31T23:59:59Z"}', "set: the simulated clock runs from"),
    ('{"set": "2100-01-01T00:00:01Z"}', "set: the simulated clock runs from"),
    ('{"set": "9999-12-31T23:59:59-23:59"}', "set: not an ISO-8601 time"),
    ('{"set": "0001-01-01T00:00:00+01:00"}', "set: not an ISO-8601 time"),
    ('{"set": "99999-01-01T00:00:00Z"}', "set: not an ISO-8601 time"),
    ('{"set": null}', "set: expected an ISO time or epoch seconds"),
    ('{"set": [1]}', "set: expected an ISO time or epoch seconds"),
    ('{"advance": NaN}', "advance: must be a finite number from 0 to"),
    ('{"advance": Infinity}', "advance: must be a finite number from 0 to 3155760000, got inf"),
    ('{"advance": -Infinity}', "advance: must be a finite number >= 0"),
    ('{"advance": -1}', "advance: must be a finite number >= 0, got -1"),
    ('{"advance": 1e308}', "advance: must be a finite number from 0 to"),
    (f'{{"advance": {HUGE}}}', "advance: must be a finite number from 0 to"),
    ('{"advance": 3000000000}', "advance: would take the clock past 2100-01-01T00:00:00Z"),
    ('{"set": "2099-12-31T23:00:00Z", "advance": 7200}', "advance: would take the clock past"),
    ('{"advance": "60"}', "advance: expected a number, got '60'"),
    ('{"speed": NaN}', "speed: must be a finite number from 0 to 10000"),
    ('{"speed": Infinity}', "speed: must be a finite number from 0 to 10000"),
    ('{"speed": -1}', "speed: must be a finite number from 0 to 10000, got -1"),
    ('{"speed": 1e308}', "speed: must be a finite number from 0 to 10000"),
    (f'{{"speed": {HUGE}}}', "speed: must be a finite number from 0 to 10000, got 1000"),
    ('{"speed": 10000.5}', "speed: must be a finite number from 0 to 10000"),
    ('{"speed": true}', "speed: expected a number, got True"),
    ('{"set": "2030-01-01T00:00:00Z", "speed": 1e9}', "speed: must be a finite number"),
    ('{"rewind": 1}', "unknown fields ['rewind']"),
    ("[]", "the body must be a JSON object"),
    ('"x"', "the body must be a JSON object"),
    ("{", "the body must be a JSON object"),
    ("1" * 5000, "the body must be a JSON object"),
]


@pytest.mark.parametrize(("raw", "message"), HOSTILE_BODIES)
async def test_hostile_clock_values_are_a_400_and_change_nothing(raw: str, message: str) -> None:
    async with simulator() as sim:
        response = await sim.clock_post(raw.encode())
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["error"] == "Bad Request" and body["message"].startswith(message)
        assert len(body["message"]) < 400
        assert (sim.clock.time(), sim.clock.speed) == (START, 0)
        await sim.assert_every_route_answers()


async def test_the_bounds_themselves_are_accepted() -> None:
    async with simulator() as sim:
        assert (await sim.clock_post(json.dumps({"set": MIN_EPOCH}).encode())).status_code == 200
        ok = await sim.clock_post(
            json.dumps({"set": "2099-12-31T00:00:00Z", "advance": 86400}).encode()
        )
        assert ok.status_code == 200 and ok.json()["epoch"] == MAX_EPOCH
        fast = await sim.clock_post(json.dumps({"speed": MAX_SPEED}).encode())
        assert fast.status_code == 200 and fast.json()["speed"] == MAX_SPEED
        await sim.assert_every_route_answers()


async def test_a_clock_that_ran_past_its_range_still_answers() -> None:
    """At full speed for months the clock can leave 2000-2100 (or what a date holds): the
    routes say so with a 4xx, the clock route shows it, and a POST brings it back."""
    async with simulator() as sim:
        for epoch in (MAX_EPOCH + 1, 1e15, -1e15):
            sim.clock.set(epoch)
            await sim.assert_every_route_answers()
            truth = await sim.http.get("/_sim/truth/streams")
            assert truth.status_code == 409
            assert "POST /_sim/clock" in truth.json()["message"]
            assert (
                await sim.http.get("/_sim/truth/streams", params={"at": START})
            ).status_code == 200
            back = await sim.clock_post(b'{"set": "2026-01-01T12:00:00Z"}')
            assert back.status_code == 200 and sim.clock.time() == START


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
CLOCK_BODIES = (
    st.dictionaries(st.sampled_from(["set", "advance", "speed"]), JSON_VALUES, max_size=3)
    | JSON_VALUES
)


async def test_generated_clock_bodies_never_break_the_simulator() -> None:
    """Derandomized generated bodies: each is a 200 or a 400, and every route still works."""
    async with simulator() as sim:
        answered: list[int] = []

        async def post(body: object) -> None:
            raw = json.dumps(body).encode()  # NaN and Infinity as JSON's literals
            response = await sim.clock_post(raw)
            answered.append(response.status_code)
            assert response.status_code in (200, 400), (raw, response.text)
            await sim.assert_every_route_answers()
            sim.clock.set(START, speed=0)

        bodies: list[object] = []

        def collect(body: object) -> None:
            bodies.append(body)

        hypothesis.settings(
            max_examples=300,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )(hypothesis.given(body=CLOCK_BODIES)(collect))()
        for body in bodies:
            await post(body)
    assert 200 in answered and 400 in answered and len(answered) >= 100
