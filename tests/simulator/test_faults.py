"""Fault injection: the plan and its validation, the `/_sim/faults` route, each fault's shape
in process (ASGI transport) and over real HTTP (hang-ups, truncation, timeouts), and the
determinism of which requests are hit.

`serve_with_faults` (also used by the collector's reliability tests) serves the simulator
wrapped in `FaultMiddleware` on 127.0.0.1, as the `simulator` server does.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from streamcensus.clock import SimClock
from streamcensus.simulator.api import create_app
from streamcensus.simulator.faults import (
    DEFAULT_DELAY,
    DEFAULT_RESET_IN,
    FaultMiddleware,
    FaultPlan,
    PlanError,
    draw,
)
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle, bind_socket

from .fake_world import START, FakeWorld

CID = "test-client"
STARTUP_SECONDS = 10.0


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve any ASGI app with uvicorn on a free 127.0.0.1 port; yield its base URL."""
    sock = bind_socket("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"faulty:{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_with_faults(
    world: World, clock: SimClock, **app_kwargs: Any
) -> Iterator[tuple[SimulatorHandle, FaultMiddleware]]:
    """The simulator over `world`, wrapped in a `FaultMiddleware` on `clock`, on 127.0.0.1."""
    app = create_app(world, clock, **app_kwargs)
    faults = FaultMiddleware(app, clock=clock)
    with serve_asgi(faults) as base_url:
        handle = SimulatorHandle(
            base_url=base_url,
            helix_url=f"{base_url}/helix",
            auth_url=f"{base_url}/oauth2",
            port=int(base_url.rsplit(":", 1)[1]),
            clock=clock,
            world=world,
            app=app,
        )
        yield handle, faults


def set_plan(base_url: str, plan: dict[str, Any]) -> dict[str, Any]:
    """POST a plan to a running simulator; its answer (the plan and zeroed counters)."""
    response = httpx.post(f"{base_url}/_sim/faults", json=plan)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def fault_counters(base_url: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/_sim/faults")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# --- the plan --------------------------------------------------------------------------------


def test_plan_round_trip_and_defaults() -> None:
    doc = {
        "seed": 5,
        "rules": [
            {"path": "/helix/chat/chatters", "fault": 500, "rate": 0.25, "count": 3},
            {"path": "/helix/*", "fault": "429", "method": "get", "skip": 2},
            {"path": "/helix/streams", "fault": "timeout", "query": {"language": "fr"}},
            {"path": "/oauth2/token", "fault": "delay", "delay": 0.5},
        ],
    }
    plan = FaultPlan.from_json(doc)
    assert plan.seed == 5
    assert [r.fault for r in plan.rules] == ["500", "429", "timeout", "delay"]
    assert plan.to_json() == {
        "seed": 5,
        "rules": [
            {"path": "/helix/chat/chatters", "fault": "500", "rate": 0.25, "count": 3},
            {
                "path": "/helix/*",
                "fault": "429",
                "rate": 1.0,
                "skip": 2,
                "method": "GET",
                "reset_in": DEFAULT_RESET_IN,
            },
            {
                "path": "/helix/streams",
                "fault": "timeout",
                "rate": 1.0,
                "query": {"language": "fr"},
                "delay": DEFAULT_DELAY["timeout"],
            },
            {"path": "/oauth2/token", "fault": "delay", "rate": 1.0, "delay": 0.5},
        ],
    }
    assert FaultPlan.from_json(plan.to_json()) == plan
    assert FaultPlan.from_json({}) == FaultPlan(seed=0, rules=())


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "must be a JSON object"),
        ({"seed": 1, "rule": []}, "unknown fields ['rule']"),
        ({"seed": "1"}, "seed: expected an integer"),
        ({"seed": True}, "seed: expected an integer"),
        ({"rules": {}}, "rules: expected a list"),
        ({"rules": [{"path": "/x", "fault": "500"}] * 101}, "at most 100 rules"),
        ({"rules": ["/x"]}, "rules[0]: expected an object"),
        ({"rules": [{"path": "x", "fault": "500"}]}, "rules[0].path: expected a path"),
        ({"rules": [{"fault": "500"}]}, "rules[0].path"),
        ({"rules": [{"path": "/x", "fault": "418"}]}, "rules[0].fault: expected one of"),
        ({"rules": [{"path": "/x"}]}, "rules[0].fault"),
        ({"rules": [{"path": "/x", "fault": "500", "rate": 1.5}]}, "rules[0].rate: must be"),
        ({"rules": [{"path": "/x", "fault": "500", "rate": "0.5"}]}, "rules[0].rate: expected"),
        ({"rules": [{"path": "/x", "fault": "500", "count": 0}]}, "rules[0].count"),
        ({"rules": [{"path": "/x", "fault": "500", "count": 1.5}]}, "rules[0].count"),
        ({"rules": [{"path": "/x", "fault": "500", "skip": -1}]}, "rules[0].skip"),
        ({"rules": [{"path": "/x", "fault": "500", "method": "G T"}]}, "rules[0].method"),
        ({"rules": [{"path": "/x", "fault": "500", "query": {"a": 1}}]}, "rules[0].query"),
        ({"rules": [{"path": "/x", "fault": "500", "delay": 1}]}, "only for the timeout"),
        ({"rules": [{"path": "/x", "fault": "timeout", "delay": -1}]}, "rules[0].delay"),
        ({"rules": [{"path": "/x", "fault": "timeout", "delay": 1e9}]}, "rules[0].delay"),
        ({"rules": [{"path": "/x", "fault": "500", "reset_in": 3}]}, "only for the 429"),
        ({"rules": [{"path": "/x", "fault": "429", "reset_in": "3"}]}, "rules[0].reset_in"),
        ({"rules": [{"path": "/x", "fault": "500", "colour": "red"}]}, "unknown fields"),
    ],
)
def test_bad_plans_are_refused_naming_the_field(doc: Any, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        FaultPlan.from_json(doc)
    assert message in str(caught.value)


# --- in process ------------------------------------------------------------------------------


def _client(faults: FaultMiddleware) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=faults), base_url="http://sim")


def _faulty_fake() -> tuple[FaultMiddleware, SimClock]:
    clock = SimClock(START, speed=0)
    return FaultMiddleware(create_app(FakeWorld(), clock), clock=clock), clock


async def test_control_route_sets_shows_and_clears_the_plan() -> None:
    faults, _ = _faulty_fake()
    async with _client(faults) as client:
        empty = (await client.get("/_sim/faults")).json()
        assert empty == {"plan": None, "requests": 0, "injected": 0, "by_fault": {}, "rules": []}

        bad = await client.post(
            "/_sim/faults", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert bad.status_code == 400
        assert bad.json() == {
            "error": "Bad Request",
            "status": 400,
            "message": "the body must be a JSON object",
        }
        refused = await client.post("/_sim/faults", json={"rules": [{"path": "/x", "rate": 2}]})
        assert refused.status_code == 400
        assert refused.json()["message"].startswith("rules[0].fault: expected one of")
        assert faults.plan is None

        plan = {"seed": 3, "rules": [{"path": "/helix/streams", "fault": "503", "count": 2}]}
        shown = (await client.post("/_sim/faults", json=plan)).json()
        assert shown["plan"] == FaultPlan.from_json(plan).to_json()
        assert shown["rules"] == [{"matched": 0, "injected": 0}]

        statuses = [(await client.get("/helix/streams")).status_code for _ in range(3)]
        assert statuses == [503, 503, 401]  # the third reaches the app: no token
        assert (await client.get("/_sim/clock")).status_code == 200

        counted = (await client.get("/_sim/faults")).json()
        assert counted["requests"] == 4
        assert counted["injected"] == 2
        assert counted["by_fault"] == {"503": 2}
        assert counted["rules"] == [{"matched": 3, "injected": 2}]

        final = await client.delete("/_sim/faults")
        assert final.status_code == 200 and final.json() == counted
        assert (await client.get("/_sim/faults")).json()["plan"] is None
        assert (await client.get("/helix/streams")).status_code == 401

        wrong = await client.put("/_sim/faults")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST, DELETE"


@pytest.mark.parametrize(
    ("fault", "status", "error", "message"),
    [
        ("500", 500, "Internal Server Error", "Internal Server Error"),
        ("502", 502, "Bad Gateway", "Bad Gateway"),
        ("503", 503, "Service Unavailable", "Service Unavailable"),
        ("504", 504, "Gateway Timeout", "Gateway Timeout"),
        ("401", 401, "Unauthorized", "Invalid OAuth token"),
    ],
)
async def test_status_faults_answer_like_twitch(
    fault: str, status: int, error: str, message: str
) -> None:
    faults, _ = _faulty_fake()
    faults.set_plan(FaultPlan.from_json({"rules": [{"path": "/helix/streams", "fault": fault}]}))
    async with _client(faults) as client:
        response = await client.get("/helix/streams", params={"first": "5"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"error": error, "status": status, "message": message}
    if status == 401:
        assert response.headers["www-authenticate"].startswith('OAuth realm="TwitchTV"')


async def test_429_points_the_reset_ahead_on_the_simulator_clock() -> None:
    faults, clock = _faulty_fake()
    clock.advance(0.4)
    plan = {"rules": [{"path": "/helix/chat/chatters", "fault": "429", "reset_in": 7}]}
    faults.set_plan(FaultPlan.from_json(plan))
    async with _client(faults) as client:
        response = await client.get("/helix/chat/chatters", params={"broadcaster_id": "1"})
    assert response.status_code == 429
    assert response.json() == {
        "error": "Too Many Requests",
        "status": 429,
        "message": "Too Many Requests",
    }
    assert response.headers["ratelimit-limit"] == "800"
    assert response.headers["ratelimit-remaining"] == "0"
    assert int(response.headers["ratelimit-reset"]) == math.ceil(START + 0.4 + 7)


async def test_malformed_bodies_come_in_turn() -> None:
    faults, _ = _faulty_fake()
    faults.set_plan(FaultPlan.from_json({"rules": [{"path": "/helix/*", "fault": "malformed"}]}))
    async with _client(faults) as client:
        answers = [await client.get("/helix/streams") for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    with pytest.raises(ValueError):
        json.loads(answers[0].content)
    assert answers[1].json() == {"pagination": {}}
    assert answers[2].headers["content-type"] == "text/html"
    assert answers[3].content == answers[0].content


async def test_rules_match_on_path_method_and_query() -> None:
    faults, _ = _faulty_fake()
    plan = {
        "rules": [
            {"path": "/helix/chat/chatters", "fault": "500", "query": {"broadcaster_id": "2"}},
            {"path": "/oauth2/*", "fault": "503", "method": "POST"},
        ]
    }
    faults.set_plan(FaultPlan.from_json(plan))
    async with _client(faults) as client:
        hit = await client.get("/helix/chat/chatters", params={"broadcaster_id": "2", "first": "9"})
        other = await client.get("/helix/chat/chatters", params={"broadcaster_id": "1"})
        token = await client.post("/oauth2/token", params={"client_id": CID})
        validate = await client.get("/oauth2/validate")
    assert hit.status_code == 500
    assert other.status_code == 401  # reached the app, which wants a token
    assert token.status_code == 503
    assert validate.status_code == 401
    assert faults.counters()["rules"] == [
        {"matched": 1, "injected": 1},
        {"matched": 1, "injected": 1},
    ]


async def test_skip_lets_the_first_requests_through_then_count_caps() -> None:
    faults, _ = _faulty_fake()
    plan = {"rules": [{"path": "/helix/streams", "fault": "500", "skip": 2, "count": 3}]}
    faults.set_plan(FaultPlan.from_json(plan))
    async with _client(faults) as client:
        statuses = [(await client.get("/helix/streams")).status_code for _ in range(7)]
    assert statuses == [401, 401, 500, 500, 500, 401, 401]


def _hits(seed: int, urls: list[str], rate: float = 0.3) -> set[str]:
    faults = FaultMiddleware(lambda *a: None)  # type: ignore[arg-type,return-value]
    rule = {"path": "/helix/chat/chatters", "fault": "500", "rate": rate}
    faults.set_plan(FaultPlan.from_json({"seed": seed, "rules": [rule]}))
    hits = set()
    for url in urls:
        if faults.choose("GET", "/helix/chat/chatters", url) is not None:
            hits.add(url)
    return hits


def test_which_requests_are_hit_depends_on_seed_and_request_not_order() -> None:
    urls = [f"broadcaster_id={i}&moderator_id=500&first=1000" for i in range(1000)]
    first = _hits(1, urls)
    assert first == _hits(1, list(reversed(urls)))
    assert first != _hits(2, urls)
    assert 240 <= len(first) <= 360  # 1000 draws at rate 0.3
    assert _hits(1, urls, rate=0.0) == set()
    assert _hits(1, urls, rate=1.0) == set(urls)


def test_a_repeated_request_gets_a_fresh_draw() -> None:
    faults = FaultMiddleware(lambda *a: None)  # type: ignore[arg-type,return-value]
    plan = {"seed": 9, "rules": [{"path": "/helix/streams", "fault": "503", "rate": 0.5}]}
    faults.set_plan(FaultPlan.from_json(plan))
    outcomes = [faults.choose("GET", "/helix/streams", "first=100") is not None for _ in range(64)]
    expected = [draw(9, 0, "GET /helix/streams?first=100", n) < 0.5 for n in range(64)]
    assert outcomes == expected
    assert 16 <= sum(outcomes) <= 48
    assert not all(outcomes[:3])  # a retried request does not fail forever at rate 0.5


# --- over real HTTP --------------------------------------------------------------------------


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def uvicorn_errors() -> Iterator[list[logging.LogRecord]]:
    """What uvicorn logs as errors while the test runs."""
    recorder = _Recorder()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(recorder)
    try:
        yield recorder.records
    finally:
        logger.removeHandler(recorder)


class CountingApp:
    """A tiny ASGI app that answers `{"data": [], "path": ...}` and counts its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.calls.append(scope["path"])
        body = json.dumps({"data": [], "path": scope["path"], "pad": "x" * 200}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def test_reset_and_truncation_break_the_connection_quietly(
    uvicorn_errors: list[logging.LogRecord],
) -> None:
    inner = CountingApp()
    faults = FaultMiddleware(inner)
    plan = {
        "rules": [
            {"path": "/reset", "fault": "reset"},
            {"path": "/cut", "fault": "truncated"},
        ]
    }
    faults.set_plan(FaultPlan.from_json(plan))
    with serve_asgi(faults) as base, httpx.Client(base_url=base, timeout=5.0) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get("/reset")
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            client.get("/cut")
        assert client.get("/fine").json()["path"] == "/fine"
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/reset")
    assert inner.calls == ["/cut", "/fine"]
    assert faults.counters()["by_fault"] == {"reset": 2, "truncated": 1}
    assert uvicorn_errors == []


def test_timeout_holds_the_request_until_the_client_gives_up() -> None:
    inner = CountingApp()
    faults = FaultMiddleware(inner)
    plan = {
        "rules": [
            {"path": "/slow", "fault": "timeout", "delay": 0.6},
            {"path": "/late", "fault": "delay", "delay": 0.3},
        ]
    }
    faults.set_plan(FaultPlan.from_json(plan))
    with serve_asgi(faults) as base, httpx.Client(base_url=base, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):  # the client gave up before the fault's delay
            client.get("/slow")
        time.sleep(0.7)  # past the fault's delay: the request was dropped, never answered
        assert inner.calls == []
        started = time.monotonic()
        late = client.get("/late", timeout=2.0)
        assert late.json()["path"] == "/late"
        assert time.monotonic() - started >= 0.3
    assert inner.calls == ["/late"]


def test_delayed_post_keeps_its_body() -> None:
    clock = SimClock(START, speed=0)
    app = create_app(FakeWorld(), clock)
    faults = FaultMiddleware(app, clock=clock)
    faults.set_plan(
        FaultPlan.from_json({"rules": [{"path": "/oauth2/token", "fault": "delay", "delay": 0.1}]})
    )
    form = {"client_id": CID, "client_secret": "x", "grant_type": "client_credentials"}
    with serve_asgi(faults) as base:
        response = httpx.post(f"{base}/oauth2/token", data=form, timeout=5.0)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


def test_serve_with_faults_answers_the_control_route() -> None:
    clock = SimClock(START, speed=0)
    with serve_with_faults(FakeWorld(), clock) as (handle, faults):
        shown = set_plan(handle.base_url, {"rules": [{"path": "/helix/streams", "fault": "500"}]})
        assert shown["plan"]["rules"][0]["fault"] == "500"
        assert httpx.get(f"{handle.helix_url}/streams").status_code == 500
        assert fault_counters(handle.base_url)["injected"] == 1
        assert faults.counters()["injected"] == 1
