"""Helix client against a scripted in-process server (httpx.MockTransport, SimClock at speed 0)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from streamcensus.clock import SimClock
from streamcensus.config import load_settings
from streamcensus.errors import ConfigError, UserError
from streamcensus.timeutil import UTC
from streamcensus.twitch import (
    ClientStats,
    CredentialsRejected,
    Forbidden,
    HelixClient,
    HelixConfig,
    MissingUserToken,
    RetriesExhausted,
    ServerError,
    Stream,
    Unauthorized,
)

START = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
HELIX = "http://127.0.0.1:9/helix"
AUTH = "http://127.0.0.1:9/oauth2"

Fault = Callable[[httpx.Request], httpx.Response]


def _stream(i: int, language: str = "fr") -> dict[str, Any]:
    return {
        "id": f"s{i}",
        "user_id": str(1000 + i),
        "user_login": f"chan{i}",
        "user_name": f"Chan{i}",
        "game_id": "509658",
        "game_name": "Just Chatting",
        "type": "live",
        "title": f"stream {i}",
        "viewer_count": 10_000 - i,
        "started_at": "2026-11-27T18:30:00Z",
        "language": language,
        "thumbnail_url": "",
        "tags": ["Français"],
        "is_mature": i % 2 == 0,
    }


@dataclass
class FakeHelix:
    """A small Helix: streams, users, chatters, tokens; faults can be queued per path."""

    clock: SimClock
    streams: list[dict[str, Any]] = field(default_factory=list)
    chatters: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, deque[Fault | Exception]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    app_tokens_issued: int = 0
    rejected_tokens: set[str] = field(default_factory=set)
    forbidden_channels: set[str] = field(default_factory=set)

    def fail(self, path: str, *faults: Fault | Exception) -> None:
        self.faults.setdefault(path, deque()).extend(faults)

    def paths(self, prefix: str = "/helix") -> list[str]:
        return [r.url.path for r in self.requests if r.url.path.startswith(prefix)]

    def helix_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/helix")]

    def headers(self) -> dict[str, str]:
        return {
            "Ratelimit-Limit": "800",
            "Ratelimit-Remaining": "700",
            "Ratelimit-Reset": str(int(self.clock.time()) + 8),
        }

    def ok(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json=body, headers=self.headers())

    def error(self, status: int, message: str) -> httpx.Response:
        body = {"error": "Error", "status": status, "message": message}
        return httpx.Response(status, json=body, headers=self.headers())

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        queued = self.faults.get(path)
        if queued:
            fault = queued.popleft()
            if isinstance(fault, Exception):
                raise fault
            return fault(request)
        return self.route(request)

    def route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth2/token":
            self.app_tokens_issued += 1
            token = f"app-{self.app_tokens_issued}"
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        if path == "/oauth2/validate":
            if request.headers.get("authorization") != "OAuth mod-token":
                return httpx.Response(401, json={"status": 401, "message": "invalid access token"})
            body = {"client_id": "cid", "login": "op", "user_id": "42", "scopes": ["a"]}
            return httpx.Response(200, json={**body, "expires_in": 5000})
        if path == "/auth/authorize":
            uid = request.url.params["user_id"]
            return httpx.Response(200, json={"access_token": f"mock-{uid}", "expires_in": 600})
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.rejected_tokens or request.headers.get("client-id") != "cid":
            return self.error(401, "Invalid OAuth token")
        if path == "/helix/streams":
            return self.list_streams(request)
        if path == "/helix/users":
            return self.list_users(request)
        if path == "/helix/chat/chatters":
            return self.list_chatters(request)
        return self.error(404, "Not Found")

    def list_streams(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        rows = self.streams
        if "language" in params:
            rows = [r for r in rows if r["language"] == params["language"]]
        if "user_login" in params:
            wanted = set(params.get_list("user_login"))
            rows = [r for r in rows if r["user_login"] in wanted]
        return self.page(rows, request, 20, 100)

    def list_users(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        values = params.get_list("id") + params.get_list("login")
        if len(values) > 100:
            return self.error(400, "too many ids")
        return self.ok({"data": [{"id": v, "login": v, "display_name": v} for v in values]})

    def list_chatters(self, request: httpx.Request) -> httpx.Response:
        if request.url.params["broadcaster_id"] in self.forbidden_channels:
            return self.error(403, "not a moderator")
        rows = [
            {"user_id": u, "user_login": login, "user_name": login} for u, login in self.chatters
        ]
        return self.page(rows, request, 100, 1000, total=len(rows))

    def page(
        self,
        rows: list[dict[str, Any]],
        request: httpx.Request,
        default: int,
        most: int,
        total: int | None = None,
    ) -> httpx.Response:
        first = int(request.url.params.get("first", default))
        if first > most:
            return self.error(400, "first too large")
        offset = int(request.url.params.get("after", "0"))
        chunk = rows[offset : offset + first]
        body: dict[str, Any] = {"data": chunk, "pagination": {}}
        if offset + first < len(rows):
            body["pagination"] = {"cursor": str(offset + first)}
        if total is not None:
            body["total"] = total
        return self.ok(body)


def _config(**overrides: Any) -> HelixConfig:
    values: dict[str, Any] = {
        "helix_url": HELIX,
        "auth_url": AUTH,
        "client_id": "cid",
        "client_secret": "csecret",
        "user_token": "mod-token",
    }
    values.update(overrides)
    return HelixConfig(**values)


def _client(server: FakeHelix, seed: int = 7, **overrides: Any) -> HelixClient:
    return HelixClient(
        _config(**overrides),
        clock=server.clock,
        transport=httpx.MockTransport(server),
        rng=random.Random(seed),
    )


@pytest.fixture
def server() -> FakeHelix:
    return FakeHelix(clock=SimClock(START, speed=0))


def _status(status: int, body: str = "{}", headers: dict[str, str] | None = None) -> Fault:
    return lambda request: httpx.Response(status, content=body.encode(), headers=headers or {})


# ---------------------------------------------------------------- pagination and chunking


async def test_streams_follow_cursors_and_stop(server: FakeHelix) -> None:
    server.streams = [_stream(i) for i in range(250)] + [_stream(i, "de") for i in range(300, 340)]
    async with _client(server) as client:
        streams = await client.get_streams(language="fr")
    assert [s.user_login for s in streams] == [f"chan{i}" for i in range(250)]
    calls = server.helix_requests()
    assert len(calls) == 3
    assert [c.url.params.get("after") for c in calls] == [None, "100", "200"]
    assert all(c.url.params["first"] == "100" and c.url.params["language"] == "fr" for c in calls)
    assert all(c.headers["authorization"] == "Bearer app-1" for c in calls)
    first = streams[0]
    assert isinstance(first, Stream)
    assert first.viewer_count == 10_000 and first.is_mature is True
    assert first.started_at == dt.datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
    assert first.started_at.tzinfo is not None
    assert first.tags == ("Français",)


async def test_streams_limit_stops_early(server: FakeHelix) -> None:
    server.streams = [_stream(i) for i in range(500)]
    async with _client(server) as client:
        streams = await client.get_streams(language="fr", limit=150)
        assert len(streams) == 150
        assert len(server.helix_requests()) == 2
        assert await client.get_streams(limit=0) == []
        assert await client.get_streams(user_logins=[]) == []
    assert len(server.helix_requests()) == 2


async def test_streams_repeated_on_two_pages_are_yielded_once(server: FakeHelix) -> None:
    rows = [_stream(i) for i in range(150)]
    server.streams = rows[:100] + rows[95:150]  # a page boundary shifted by viewer changes
    async with _client(server) as client:
        streams = await client.get_streams()
    assert [s.id for s in streams] == [f"s{i}" for i in range(150)]


async def test_streams_by_login_are_sent_100_per_request(server: FakeHelix) -> None:
    server.streams = [_stream(i) for i in range(300)]
    logins = [f"chan{i}" for i in range(250)]
    async with _client(server) as client:
        streams = await client.get_streams(user_logins=logins)
    calls = server.helix_requests()
    assert [len(c.url.params.get_list("user_login")) for c in calls] == [100, 100, 50]
    assert len(streams) == 250


async def test_users_are_chunked_by_100(server: FakeHelix) -> None:
    ids = [str(i) for i in range(250)]
    logins = [f"l{i}" for i in range(30)]
    async with _client(server) as client:
        users = await client.get_users(ids=ids, logins=logins)
    calls = server.helix_requests()
    sizes = [(len(c.url.params.get_list("id")), len(c.url.params.get_list("login"))) for c in calls]
    assert sizes == [(100, 0), (100, 0), (50, 0), (0, 30)]
    assert [u.id for u in users] == ids + logins


async def test_chatters_read_every_page_as_two_lists(server: FakeHelix) -> None:
    server.chatters = [(str(5000 + i), f"viewer{i}") for i in range(2500)]
    server.chatters[1000] = server.chatters[999]  # someone seen again on the next page
    async with _client(server) as client:
        result = await client.get_chatters("1001", "42")
    assert result.pages == 3 and result.total == 2500 and len(result) == 2499
    assert result.user_ids[:2] == ["5000", "5001"] and result.user_logins[-1] == "viewer2499"
    assert list(result.pairs())[7] == ("5007", "viewer7")
    calls = server.helix_requests()
    assert [c.url.params.get("after") for c in calls] == [None, "1000", "2000"]
    assert all(c.url.params["first"] == "1000" for c in calls)
    assert all(c.url.params["moderator_id"] == "42" for c in calls)
    assert all(c.headers["authorization"] == "Bearer mod-token" for c in calls)
    assert "viewer" not in repr(result) and "5000" not in repr(result)
    assert server.paths("/oauth2") == []  # no app token needed for chatters


# ---------------------------------------------------------------- rate limit


async def test_429_waits_until_reset_and_retries_the_same_request(server: FakeHelix) -> None:
    server.streams = [_stream(i) for i in range(150)]
    reset = int(server.clock.time()) + 7
    limited = {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "0", "Ratelimit-Reset": str(reset)}
    async with _client(server) as client:
        await client.app_token()
        start = server.clock.time()
        server.fail("/helix/streams", server.route, _status(429, "{}", limited))
        streams = await client.get_streams()
    assert len(streams) == 150
    calls = server.helix_requests()
    assert [c.url.params.get("after") for c in calls] == [None, "100", "100"]
    assert str(calls[1].url) == str(calls[2].url)
    assert server.clock.time() - start == pytest.approx(7.0)
    stats = client.stats
    assert (stats.http_429, stats.retries, stats.rate_limit_waits) == (1, 1, 1)
    assert stats.rate_limit_wait_seconds == pytest.approx(7.0)
    assert stats.requests == 4 and stats.auth_requests == 1
    assert stats.errors == {"http_429": 1}


async def test_429_storm_ends_in_a_final_error_not_an_empty_answer(server: FakeHelix) -> None:
    limited = {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "0"}
    server.fail("/helix/streams", *[_status(429, "{}", limited)] * 4)
    async with _client(server, max_rate_limit_retries=3) as client:
        with pytest.raises(RetriesExhausted) as caught:
            await client.get_streams()
    assert caught.value.reason.status == 429
    assert client.stats.http_429 == 4 and client.stats.retries == 3


# ---------------------------------------------------------------- retries


async def test_faults_are_retried_with_jittered_backoff(server: FakeHelix) -> None:
    server.streams = [_stream(i) for i in range(3)]
    server.fail(
        "/helix/streams",
        _status(500),
        httpx.ReadTimeout("slow"),
        _status(200, "{not json"),
        _status(200, '{"pagination": {}}'),
        httpx.ConnectError("refused"),
        _status(200, '{"data": [{"id": "x"}]}'),
    )
    async with _client(server, seed=3, max_attempts=7) as client:
        await client.app_token()
        start = server.clock.time()
        streams = await client.get_streams()
    assert len(streams) == 3
    rng = random.Random(3)
    expected = sum(
        min(30.0, 0.5 * 2.0 ** (n - 1)) * (0.5 + 0.5 * rng.random()) for n in range(1, 7)
    )
    assert server.clock.time() - start == pytest.approx(expected)
    stats = client.stats
    assert stats.retries == 6 and stats.requests == 8
    assert stats.errors == {"http_500": 1, "timeout": 1, "malformed": 3, "network": 1}
    assert stats.rate_limit_waits == 0 and stats.http_429 == 0


async def test_retries_are_bounded_then_final(server: FakeHelix) -> None:
    server.fail("/helix/streams", *[_status(503)] * 10)
    async with _client(server) as client:
        with pytest.raises(RetriesExhausted) as caught:
            await client.get_streams()
    assert caught.value.attempts == 5
    assert isinstance(caught.value.reason, ServerError)
    assert "503" in str(caught.value)
    assert len(server.helix_requests()) == 5
    assert client.stats.retries == 4 and client.stats.errors == {"http_503": 5}


async def test_forbidden_chatters_are_final_without_retry(server: FakeHelix) -> None:
    server.forbidden_channels = {"777"}
    async with _client(server) as client:
        with pytest.raises(Forbidden) as caught:
            await client.get_chatters("777", "42")
    assert caught.value.status == 403
    assert len(server.helix_requests()) == 1
    assert client.stats.retries == 0 and client.stats.errors == {"http_403": 1}


# ---------------------------------------------------------------- tokens


async def test_app_token_is_refreshed_once_on_401(server: FakeHelix) -> None:
    server.streams = [_stream(0)]
    server.rejected_tokens = {"app-1"}
    async with _client(server) as client:
        streams = await client.get_streams()
        again = await client.get_streams()
    assert len(streams) == len(again) == 1
    auths = [c.headers["authorization"] for c in server.helix_requests()]
    assert auths == ["Bearer app-1", "Bearer app-2", "Bearer app-2"]
    assert server.app_tokens_issued == 2
    assert client.stats.token_refreshes == 1 and client.stats.retries == 1
    assert client.stats.errors == {"http_401": 1}


async def test_app_token_rejected_twice_is_final(server: FakeHelix) -> None:
    server.rejected_tokens = {"app-1", "app-2", "app-3"}
    async with _client(server) as client:
        with pytest.raises(Unauthorized):
            await client.get_streams()
    assert len(server.helix_requests()) == 2
    assert client.stats.token_refreshes == 1


async def test_app_token_is_renewed_before_it_expires(server: FakeHelix) -> None:
    server.streams = [_stream(0)]
    async with _client(server) as client:
        await client.get_streams()
        server.clock.advance(3600 - 30)  # inside the 60 s leeway of a 3600 s token
        await client.get_streams()
    auths = [c.headers["authorization"] for c in server.helix_requests()]
    assert auths == ["Bearer app-1", "Bearer app-2"]
    assert client.stats.token_refreshes == 1 and client.stats.errors == {}


async def test_a_shared_http_client_is_used_and_left_open(server: FakeHelix) -> None:
    server.streams = [_stream(0)]
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    async with HelixClient(_config(), clock=server.clock, http=http) as client:
        assert len(await client.get_streams()) == 1
    assert not http.is_closed
    await http.aclose()
    with pytest.raises(ValueError):
        HelixClient(_config(), http=http, transport=httpx.MockTransport(server))


async def test_token_form_and_rejected_credentials(server: FakeHelix) -> None:
    server.fail("/oauth2/token", _status(403, '{"status":403,"message":"invalid client secret"}'))
    async with _client(server) as client:
        with pytest.raises(CredentialsRejected) as caught:
            await client.get_streams()
        token = await client.app_token()
    assert isinstance(caught.value, UserError)
    assert "TWITCH_CLIENT_SECRET" in str(caught.value) and "csecret" not in str(caught.value)
    assert token == "app-1"
    form = dict(httpx.QueryParams(server.requests[-1].content.decode()))
    assert form == {
        "client_id": "cid",
        "client_secret": "csecret",
        "grant_type": "client_credentials",
    }
    assert "csecret" not in str(server.requests[-1].url)


async def test_user_token_401_is_final_without_refresher(server: FakeHelix) -> None:
    server.rejected_tokens = {"mod-token"}
    async with _client(server) as client:
        with pytest.raises(Unauthorized):
            await client.get_chatters("1001", "42")
    assert len(server.helix_requests()) == 1 and client.stats.token_refreshes == 0


async def test_user_token_refresher_is_used_once(server: FakeHelix) -> None:
    server.rejected_tokens = {"mod-token"}
    server.chatters = [("1", "a")]
    calls = 0

    async def refresh() -> str:
        nonlocal calls
        calls += 1
        return "mod-token-2"

    client = HelixClient(
        _config(),
        clock=server.clock,
        transport=httpx.MockTransport(server),
        user_token_refresher=refresh,
    )
    async with client:
        result = await client.get_chatters("1001", "42")
    assert result.user_ids == ["1"] and calls == 1 and client.stats.token_refreshes == 1


async def test_missing_user_token(server: FakeHelix) -> None:
    async with _client(server, user_token=None) as client:
        assert not client.has_user_token
        with pytest.raises(MissingUserToken) as caught:
            await client.get_chatters("1001", "42")
    assert "TWITCH_MODERATOR_TOKEN" in str(caught.value)
    assert server.requests == []


async def test_mock_user_token_from_the_simulator_route(server: FakeHelix) -> None:
    server.chatters = [("1", "a"), ("2", "b")]
    async with _client(server, user_token=None) as client:
        token = await client.obtain_mock_user_token("42")
        assert token == "mock-42"
        server.rejected_tokens = {"mock-42"}
        server.fail("/auth/authorize", lambda r: httpx.Response(200, json={"access_token": "m2"}))
        result = await client.get_chatters("1001", "42")
    authorize = next(r for r in server.requests if r.url.path == "/auth/authorize")
    assert authorize.method == "POST"
    assert dict(authorize.url.params) == {
        "client_id": "cid",
        "client_secret": "csecret",
        "grant_type": "user_token",
        "user_id": "42",
        "scope": "moderator:read:chatters",
    }
    assert len(result) == 2
    assert [c.headers["authorization"] for c in server.helix_requests()] == [
        "Bearer mock-42",
        "Bearer m2",
    ]


async def test_validate_token(server: FakeHelix) -> None:
    async with _client(server) as client:
        info = await client.validate_token()
        with pytest.raises(Unauthorized):
            await client.validate_token("other")
    assert (info.client_id, info.login, info.user_id) == ("cid", "op", "42")
    assert info.scopes == ("a",) and info.expires_in == 5000
    assert server.requests[0].headers["authorization"] == "OAuth mod-token"
    assert client.stats.auth_requests == 2 and client.stats.token_refreshes == 0


# ---------------------------------------------------------------- config, stats, privacy


def test_config_from_settings(tmp_path: Any) -> None:
    base = {"STREAMCENSUS_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="set TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET"):
        HelixConfig.from_settings(load_settings(environ=base))
    env = {**base, "TWITCH_CLIENT_ID": "id1", "TWITCH_CLIENT_SECRET": "sec1"}
    env["STREAMCENSUS_HELIX_URL"] = "http://127.0.0.1:5/helix/"
    env["TWITCH_MODERATOR_TOKEN"] = "tok1"
    config = HelixConfig.from_settings(load_settings(environ=env))
    assert config.helix_url == "http://127.0.0.1:5/helix"
    assert (config.client_id, config.client_secret, config.user_token) == ("id1", "sec1", "tok1")
    assert "sec1" not in repr(config) and "tok1" not in repr(config)
    sim = HelixConfig.from_settings(
        load_settings(environ=base),
        helix_url="http://127.0.0.1:6/helix",
        placeholder_credentials=True,
    )
    assert sim.client_id and sim.client_secret and sim.helix_url.endswith(":6/helix")


def test_stats_snapshot_diff_reset() -> None:
    stats = ClientStats(requests=5, retries=1, errors={"http_500": 1})
    before = stats.snapshot()
    stats.requests += 3
    stats.record_error("http_500")
    stats.record_error("timeout")
    stats.record_wait(2.5)
    delta = stats.diff(before)
    assert (delta.requests, delta.retries, delta.rate_limit_waits) == (3, 0, 1)
    assert delta.errors == {"http_500": 1, "timeout": 1}
    assert delta.rate_limit_wait_seconds == 2.5
    assert before.errors == {"http_500": 1}
    assert stats.to_dict()["errors"] == {"http_500": 2, "timeout": 1}
    stats.reset()
    assert stats == ClientStats()


async def test_logs_name_no_token_secret_or_chatter(
    server: FakeHelix, caplog: pytest.LogCaptureFixture
) -> None:
    server.chatters = [("9001", "secretviewer")]
    server.fail(
        "/helix/chat/chatters",
        _status(500),
        _status(200, json.dumps({"data": [{"user_id": "9001"}]})),
    )
    with caplog.at_level(logging.DEBUG):
        async with _client(server) as client:
            result = await client.get_chatters("1001", "42")
    assert result.user_logins == ["secretviewer"]
    text = caplog.text
    assert "retrying" in text
    for secret in ("secretviewer", "9001", "mod-token", "csecret"):
        assert secret not in text
