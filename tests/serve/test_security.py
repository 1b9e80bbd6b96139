"""HTTP hardening: security headers on every answer, the Host allow-list (DNS rebinding),
pages without inline script or style, and the setting that widens the allow-list."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from serve.browser import serving
from serve.census import HOSTILE_NAME, HOSTILE_TITLE
from serve.conftest import ClientFactory
from streamcensus.config import Settings, load_settings
from streamcensus.serve.app import create_app
from streamcensus.serve.pages import json_script
from streamcensus.serve.security import (
    content_security_policy,
    host_name,
    host_rule,
    security_headers,
)
from streamcensus.serve.vendor import EMPTY_STYLE, csp_hash, plotly_js, plotly_style_hashes

PAGES = [
    "/",
    "/schedules",
    "/map",
    "/habits",
    "/exposure",
    "/followers",
    "/chat-lists",
    "/health",
    "/channels/alice",
]


def assert_secured(response: httpx.Response) -> None:
    for name, value in security_headers().items():
        assert response.headers.get(name) == value, (response.request.url, name)


def test_the_policy_runs_only_the_dashboards_own_files() -> None:
    policy = dict(part.split(" ", 1) for part in content_security_policy().split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no other origin
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == policy["object-src"] == "'none'"
    assert policy["form-action"] == policy["connect-src"] == "'self'"
    for directive in ("style-src", "style-src-elem"):
        assert "'unsafe-inline'" not in policy[directive]
    for value in policy.values():
        assert "http" not in value and "*" not in value  # no other origin
    meta = content_security_policy(meta=True)
    assert "frame-ancestors" not in meta  # browsers ignore it in <meta>, with an error
    assert meta == content_security_policy().removesuffix("; frame-ancestors 'none'")


def test_plotly_inline_styles_are_allowed_by_hash_only() -> None:
    hashes = plotly_style_hashes()
    assert hashes[0] == EMPTY_STYLE == "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
    # the constant stylesheet plotly.js injects when it loads (its map traces' CSS)
    bundle = plotly_js()[0].decode()
    css = re.search(r"e\.textContent='(\.maplibregl-map\{[^']*)'", bundle)
    assert css is not None
    assert csp_hash(css.group(1)) in hashes
    assert len(hashes) == 2


async def test_every_kind_of_answer_carries_the_headers(
    census: Settings, client_for: ClientFactory
) -> None:
    async with client_for(census) as client:
        answers = [
            *[await client.get(path) for path in PAGES],
            await client.get("/channels?q=zz"),  # no match: a page that says so
            await client.get("/channels?q=alice"),  # a redirect
            await client.get("/api/overview"),
            await client.get("/api/openapi.json"),
            await client.get("/static/js/sc.js"),
            await client.get("/static/favicon.svg"),
            await client.get("/vendor/plotly.min.js"),
            await client.get("/api/overview?day=nonsense"),  # 400
            await client.get("/nothing"),  # 404
            await client.post("/api/days"),  # 405
        ]
    pages = len(PAGES) + 1
    assert [a.status_code for a in answers] == [200] * pages + [303] + [200] * 5 + [400, 404, 405]
    for answer in answers:
        assert_secured(answer)


async def test_an_unexpected_error_carries_the_headers_too(census: Settings) -> None:
    app = create_app(census)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            response = await client.get("/broken")
    finally:
        app.state.serve.pool.close()
    assert response.status_code == 500
    assert "a bug" not in response.text
    assert_secured(response)


@asynccontextmanager
async def dashboard(settings: Settings, host: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            yield client
    finally:
        app.state.serve.pool.close()


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:8000", "localhost.", "[::1]:8000"],
)
async def test_the_bound_host_and_loopback_names_are_served(census: Settings, host: str) -> None:
    async with dashboard(census, "127.0.0.1") as client:
        response = await client.get("/api/days", headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:8000",
        "127.0.0.1.attacker.example",
        "localhost.attacker.example",
        "127.0.0.2",
        "[::2]",
        "",
        "127.0.0.1:80:80",
        "user@127.0.0.1",
        "[::1",
        "x" * 500,
    ],
)
async def test_a_host_the_dashboard_does_not_answer_to_is_refused_with_a_message(
    census: Settings, host: str
) -> None:
    async with dashboard(census, "127.0.0.1") as client:
        api = await client.get("/api/days", headers={"Host": host})
        page = await client.get("/", headers={"Host": host})
        static = await client.get("/static/js/sc.js", headers={"Host": host})
    assert (api.status_code, page.status_code, static.status_code) == (400, 400, 400)
    detail = api.json()["detail"]
    assert "is not served here" in detail and "allowed_hosts" in detail
    assert "STREAMCENSUS_ALLOWED_HOSTS" in page.text
    assert page.headers["content-type"].startswith("text/plain")
    assert len(detail) < 400  # a long Host is not echoed whole
    for answer in (api, page, static):
        assert_secured(answer)


async def test_two_host_headers_are_refused(census: Settings) -> None:
    app = create_app(census)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/days",
        "raw_path": b"/api/days",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"host", b"attacker.example")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }
    try:
        await app(scope, receive, send)
    finally:
        app.state.serve.pool.close()
    assert sent[0]["status"] == 400


def test_host_names_are_parsed_as_browsers_send_them() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("[::1]") == "::1"
    assert host_name("example.org.") == "example.org"
    for malformed in ("", ":80", "[::1", "[nope]:80", "a b", "a:b", "[::1]x", "a/b", "a@b"):
        assert host_name(malformed) is None, malformed


def test_the_allow_list_rule() -> None:
    local = host_rule("127.0.0.1")
    assert all(local.allows(n) for n in ("127.0.0.1", "localhost", "::1"))
    assert not local.allows("10.0.0.5") and not local.allows("attacker.example")
    named = host_rule("10.0.0.5", ["Dash.Example.org"])
    assert named.allows("10.0.0.5") and named.allows("dash.example.org")
    assert not named.allows("10.0.0.6")
    # on every interface, any address is fine (a rebinding page always sends a name)
    everywhere = host_rule("0.0.0.0")
    assert everywhere.allows("192.168.1.20") and everywhere.allows("fe80::1")
    assert not everywhere.allows("attacker.example") and not everywhere.allows("0.0.0.0.nip.io")
    assert host_rule("::").allows("10.1.2.3")
    assert host_rule("127.0.0.1", ["*"]).allows("anything.example")


def test_allowed_hosts_is_a_setting_of_the_environment_and_the_file() -> None:
    settings = load_settings(
        environ={"STREAMCENSUS_ALLOWED_HOSTS": "Dash.Example.org, stats.example.org"}
    )
    assert settings.allowed_hosts == ["dash.example.org", "stats.example.org"]
    assert load_settings(environ={}).allowed_hosts == []


async def test_allowed_hosts_widens_the_list(census: Settings) -> None:
    widened = census.model_copy(update={"allowed_hosts": ["dash.example.org"]})
    async with dashboard(widened, "dash.example.org") as client:
        assert (await client.get("/api/days")).status_code == 200
        assert (await client.get("/", headers={"Host": "other.example"})).status_code == 400


def test_a_real_server_refuses_a_rebound_name(census: Settings) -> None:
    """Over real HTTP (uvicorn on 127.0.0.1), as a DNS-rebinding page would reach it."""
    with serving(census) as url:
        port = url.rsplit(":", 1)[1]
        good = httpx.get(f"{url}/api/days", headers={"Host": f"localhost:{port}"})
        bad = httpx.get(f"{url}/api/days", headers={"Host": f"rebind.attacker.example:{port}"})
    assert good.status_code == 200
    assert bad.status_code == 400
    assert "rebind.attacker.example" in bad.json()["detail"]
    assert_secured(bad)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")", re.I)
EVENT_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style|\sstyle\s*=", re.I)


async def test_pages_hold_no_inline_script_style_or_handler(
    hostile: Settings, client_for: ClientFactory
) -> None:
    async with client_for(hostile) as client:
        bodies = [(await client.get(p)).text for p in [*PAGES, "/channels?q=b", "/nothing"]]
    for body in bodies:
        assert INLINE_SCRIPT.search(body) is None
        assert EVENT_ATTRIBUTE.search(body) is None
        assert STYLE.search(body) is None
        assert "<script>" not in body.replace('<script type="application/json"', "")
    alice = bodies[PAGES.index("/channels/alice")]
    assert HOSTILE_NAME not in alice  # the page title is escaped by the template
    assert "&lt;img src=x onerror=alert(1)&gt;" in alice


def test_the_config_block_cannot_be_closed_by_its_strings() -> None:
    text = json_script({"title": HOSTILE_TITLE, "and": "<!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\\u003c/script\\u003e" in text
