"""Fuzzing the dashboard: no request, however malformed, gets a 500 or a traceback, and
every answer carries the security headers.

The JSON API is fuzzed from its OpenAPI document by schemathesis (valid and invalid values
for every query and path parameter, a fixed number of derandomized examples per route),
each example also sent with a Host the dashboard does not answer to (DNS rebinding); the
HTML pages, which are not in the document, get a fixed list of hostile values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
import pytest
import schemathesis

from serve.conftest import ClientFactory
from serve.test_privacy import PEOPLE_KEYS, walk
from streamcensus.config import Settings
from streamcensus.serve.app import create_app
from streamcensus.serve.security import security_headers

SCHEMATHESIS_HOST = "testserver"  # the Host schemathesis's ASGI client sends
REBOUND_HOST = "attacker.example"  # a page whose name was re-pointed at 127.0.0.1

GenerationMode = schemathesis.GenerationMode

EXAMPLES_PER_ROUTE = 40

HOSTILE = [
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999999",
    "1.5",
    "1e3",
    "NaN",
    "abc",
    "é",
    "😀",
    "٢٠٢٦-١١-٢٦",
    "２０２６-１１-２６",
    "' OR 1=1 --",
    '"; drop table channel_day; --',
    "%",
    "_",
    "\\",
    "\x00",
    "<script>alert(1)</script>",
    "0001-01-01",
    "9999-12-31",
    "2026-11-26T00:00:00Z",
    "2026-02-30",
    "2026-11-26\n",
    "alice\n",
    "x" * 5000,
]
PAGES = ["/", "/schedules", "/map", "/habits", "/exposure", "/health"]


def _settings(request: pytest.FixtureRequest, name: str, tmp_path: Path) -> Settings:
    if name == "census":
        census: Settings = request.getfixturevalue("census")
        return census.model_copy(update={"allowed_hosts": [SCHEMATHESIS_HOST]})
    return Settings(data_dir=tmp_path / "nothing", allowed_hosts=[SCHEMATHESIS_HOST])


def assert_secured(response: Any) -> None:
    """The security headers, as `security.py` declares them, on an answer."""
    for name, value in security_headers().items():
        got = response.headers.get(name)
        got = got if isinstance(got, str) or got is None else ", ".join(got)  # schemathesis
        assert got == value, (response.request.url, name)


def _checker(k: int) -> Callable[[Any], None]:
    """The check of one generated request: no 5xx, a message with every 4xx, and no count
    of people under k in a 2xx (P3)."""

    def check(case: Any) -> None:
        rebound = case.call(headers={"Host": REBOUND_HOST})
        assert rebound.status_code == 400, case.as_curl_command()
        assert REBOUND_HOST in rebound.json()["detail"]
        assert_secured(rebound)
        response = case.call()
        assert response.status_code < 500, (case.as_curl_command(), response.text[:300])
        assert "Traceback" not in response.text
        assert_secured(response)
        body = response.json()
        if response.status_code >= 400:
            assert isinstance(body["detail"], str)
            assert body["detail"]
            return
        for name, value in walk(body):
            if name in PEOPLE_KEYS and isinstance(value, int | float):
                assert value >= k, (case.as_curl_command(), name, value)

    return check


@pytest.mark.parametrize("name", ["census", "empty"])
def test_api_answers_generated_requests_without_a_server_error(
    request: pytest.FixtureRequest, tmp_path: Path, name: str
) -> None:
    """Every operation of the OpenAPI document, with values that fit it and values that
    do not, a fixed number of derandomized examples each."""
    settings = _settings(request, name, tmp_path)
    app = create_app(settings)
    try:
        schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == 17
        for operation in operations:
            parameters = len(operation.query) + len(operation.path_parameters)
            for mode in GenerationMode if parameters else [GenerationMode.POSITIVE]:
                strategy = operation.as_strategy(generation_mode=mode)
                run = hypothesis.given(case=strategy)(_checker(settings.k))
                hypothesis.settings(
                    max_examples=EXAMPLES_PER_ROUTE,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    suppress_health_check=list(hypothesis.HealthCheck),
                )(run)()
    finally:
        app.state.serve.pool.close()


async def test_api_answers_hostile_values_without_a_server_error(
    census: Settings, client_for: ClientFactory
) -> None:
    """Each query parameter of each operation in the OpenAPI document, one hostile value at
    a time, and each hostile value as the channel of the channel route."""
    async with client_for(census) as client:
        document = (await client.get("/api/openapi.json")).json()
        for path, methods in document["paths"].items():
            names = [p["name"] for p in methods["get"].get("parameters", []) if p["in"] == "query"]
            url = path.replace("{channel}", "alice")
            base = {"q": "a"} if "q" in names else {}
            for name in names:
                for value in HOSTILE:
                    _assert_clean(await client.get(url, params={**base, name: value}))
            if "{channel}" in path:
                for value in HOSTILE:
                    if value:
                        _assert_clean(
                            await client.get(path.replace("{channel}", quote(value, safe="")))
                        )


def _assert_clean(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.url, response.text[:300])
    assert "Traceback" not in response.text
    assert_secured(response)
    if response.request.url.path.startswith("/api/") and response.status_code >= 400:
        assert response.headers["content-type"] == "application/json"
        assert response.json()["detail"]


def _page_requests() -> Iterator[tuple[str, dict[str, str]]]:
    for value in HOSTILE:
        for page in PAGES:
            yield page, {"day": value}
        yield "/channels", {"q": value}
        yield "/channels", {"q": "alice", "day": value}
        if value:
            yield "/channels/" + quote(value, safe=""), {}
        yield "/channels/alice", {"day": value}


@pytest.mark.parametrize("name", ["census", "empty"])
async def test_pages_answer_hostile_values_without_a_server_error(
    request: pytest.FixtureRequest, client_for: ClientFactory, tmp_path: Path, name: str
) -> None:
    settings: Settings = (
        request.getfixturevalue("census") if name == "census" else Settings(data_dir=tmp_path)
    )
    async with client_for(settings) as client:
        for path, params in _page_requests():
            _assert_clean(await client.get(path, params=params))
        for path in [*PAGES, "/channels", "/api/overview", "/api/map", "/api/health"]:
            _assert_clean(await client.get(f"{path}?day=x&day=2026-11-26&day=&limit=2&limit=x"))


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/static/%00", 404),
        ("/static/css/%00.css", 404),
        ("/static/" + "a" * 5000, 404),
        ("/static/..%2f..%2fapp.py", 404),
        ("/api/channels/alice%0A", 400),
        ("/channels/alice%0A", 400),
    ],
)
async def test_paths_the_filesystem_or_twitch_cannot_name_are_4xx(
    census: Settings, client_for: ClientFactory, url: str, status: int
) -> None:
    async with client_for(census) as client:
        response = await client.get(url)
    assert response.status_code == status
    assert "Traceback" not in response.text


async def test_wrong_method_says_which_methods_are_allowed(
    census: Settings, client_for: ClientFactory
) -> None:
    async with client_for(census) as client:
        api = await client.post("/api/days")
        page = await client.delete("/channels/alice")
    assert (api.status_code, api.headers["allow"], api.json()) == (
        405,
        "GET",
        {"detail": "Method Not Allowed"},
    )
    assert (page.status_code, page.headers["allow"]) == (405, "GET")


async def test_search_redirect_carries_the_day_as_parsed(
    census: Settings, client_for: ClientFactory
) -> None:
    async with client_for(census) as client:
        response = await client.get("/channels", params={"q": "alice", "day": " 2026-11-26\n"})
    assert response.status_code == 303
    assert response.headers["location"] == "/channels/alice?day=2026-11-26"
