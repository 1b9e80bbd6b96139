"""Bad requests get a 4xx with a clear message, never a 500; pages work with no data."""

from __future__ import annotations

import asyncio

import duckdb
import httpx
import pytest

from serve.census import FRIDAY, THURSDAY
from serve.conftest import ClientFactory
from streamcensus.config import Settings
from streamcensus.serve.app import create_app
from streamcensus.serve.vendor import plotly_js

BAD_REQUESTS = [
    ("/api/overview?day=2026-13-01", 400, "invalid day '2026-13-01': expected a UTC day as "),
    ("/api/overview?day=20261126", 400, "invalid day '20261126': expected a UTC day as YYYY"),
    ("/api/overview?day=yesterday", 400, "invalid day 'yesterday'"),
    (
        "/api/overview?day=2020-01-01",
        404,
        "no data for 2020-01-01: the loaded days are 2026-11-26 to 2026-11-27",
    ),
    ("/api/overview?limit=abc", 400, "invalid limit: Input should be a valid integer"),
    ("/api/overview?limit=0", 400, "invalid limit: Input should be greater than or equal to 1"),
    ("/api/schedules?limit=101", 400, "invalid limit: Input should be less than or equal to 100"),
    ("/api/map?window=3", 400, "invalid window 3: expected 1 (the day) or 7 (the week)"),
    ("/api/map?window=x", 400, "invalid window: Input should be a valid integer"),
    ("/api/exposure?window=30", 400, "invalid window 30"),
    ("/api/health?days=0", 400, "invalid days"),
    ("/api/channels", 400, "invalid q: Field required"),
    ("/api/channels?q=", 400, "invalid q '': expected 1 to 50 characters"),
    ("/api/channels?q=%20%20", 400, "invalid q"),
    ("/api/channels?q=" + "a" * 51, 400, "expected 1 to 50 characters"),
    ("/api/channels/nobody", 404, "unknown channel 'nobody': it was not live on any loaded day"),
    (
        "/api/channels/a-b",
        400,
        "invalid channel 'a-b': a Twitch login is 1-25 letters, digits or underscores",
    ),
    ("/api/channels/" + "a" * 26, 400, "invalid channel"),
    ("/api/channels/alice?weeks=13", 400, "invalid weeks"),
    ("/api/channels/alice?day=2026-02-30", 400, "invalid day '2026-02-30'"),
    ("/api/nothing", 404, "no such page: /api/nothing"),
]


@pytest.mark.parametrize(("url", "status", "message"), BAD_REQUESTS)
async def test_bad_requests_say_what_is_wrong(
    census: Settings, client_for: ClientFactory, url: str, status: int, message: str
) -> None:
    async with client_for(census) as client:
        response = await client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/?day=2026-13-01", 400, "invalid day"),
        ("/schedules?day=2020-01-01", 404, "no data for 2020-01-01"),
        ("/channels/nobody", 404, "unknown channel"),
        ("/channels/no-body", 400, "invalid channel"),
        ("/nothing", 404, "no such page: /nothing"),
    ],
)
async def test_bad_pages_are_html_with_the_message(
    census: Settings, client_for: ClientFactory, url: str, status: int, message: str
) -> None:
    async with client_for(census) as client:
        response = await client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert 'href="/"' in response.text


PAGES = ["/", "/schedules", "/map", "/habits", "/exposure", "/health"]


async def test_every_page_renders_with_the_chosen_day(
    census: Settings, client_for: ClientFactory
) -> None:
    async with client_for(census) as client:
        for path in [*PAGES, "/channels/alice"]:
            response = await client.get(f"{path}?day={THURSDAY}")
            assert response.status_code == 200, path
            text = response.text
            assert '<script src="/vendor/plotly.min.js"></script>' in text
            assert f'"day":"{THURSDAY}"' in text
            assert f'"latest":"{FRIDAY}"' in text
            assert "cdn" not in text.lower()


async def test_search_page_redirects_a_single_match_and_lists_several(
    census: Settings, client_for: ClientFactory
) -> None:
    async with client_for(census) as client:
        response = await client.get("/channels?q=Dav")
        assert response.status_code == 303
        assert response.headers["location"] == "/channels/dave_tv"
        response = await client.get("/channels?q=alice&day=2026-11-26")
        assert response.headers["location"] == "/channels/alice?day=2026-11-26"
        response = await client.get("/channels?q=zz")
        assert response.status_code == 200
        assert "No channel was live under that name" in response.text


async def test_with_no_warehouse_pages_say_how_to_get_data(
    empty: Settings, client_for: ClientFactory
) -> None:
    async with client_for(empty) as client:
        for path in PAGES:
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "No data yet" in response.text
            assert "make demo" in response.text
            assert "plotly" not in response.text
        days = await client.get("/api/days")
        assert days.json() == {
            "days": [],
            "partial_days": [],
            "first": None,
            "latest": None,
            "k": 10,
            "interval_minutes": 5,
        }
        overview = await client.get("/api/overview")
        assert overview.status_code == 404
        assert "no data loaded yet: run `make demo`" in overview.json()["detail"]
        search = await client.get("/api/channels?q=a")
        assert search.json() == {"q": "a", "channels": []}
    assert not empty.warehouse_path.exists()  # reading never creates the warehouse


async def test_an_empty_warehouse_file_reads_as_no_data(
    empty: Settings, client_for: ClientFactory
) -> None:
    empty.data_dir.mkdir(parents=True)
    duckdb.connect(str(empty.warehouse_path)).close()
    async with client_for(empty) as client:
        assert (await client.get("/api/days")).json()["days"] == []
        assert "No data yet" in (await client.get("/habits")).text


async def test_a_warehouse_held_by_a_writer_is_busy_not_an_error(
    census: Settings, client_for: ClientFactory
) -> None:
    writer = duckdb.connect(str(census.warehouse_path))
    try:
        async with client_for(census) as client:
            response = await client.get("/api/overview")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert "busy" in response.json()["detail"]
            page = await client.get("/")
            assert page.status_code == 503
    finally:
        writer.close()


async def test_the_warehouse_is_released_once_requests_stop(census: Settings) -> None:
    app = create_app(census, idle_seconds=0.2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        assert (await client.get("/api/overview")).status_code == 200
        assert (await client.get("/api/schedules")).status_code == 200
        for _ in range(50):  # a load (a writer) gets in within the idle time
            try:
                writer = duckdb.connect(str(census.warehouse_path))
            except duckdb.Error:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            break
        else:
            pytest.fail("the dashboard kept the warehouse open")
        assert (await client.get("/api/overview")).status_code == 200
    app.state.serve.pool.close()


async def test_a_load_in_the_same_process_pauses_the_dashboard(census: Settings) -> None:
    app = create_app(census, idle_seconds=60)
    pool = app.state.serve.pool
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        assert (await client.get("/api/days")).status_code == 200  # the pool holds it now
        with pool.paused():
            writer = duckdb.connect(str(census.warehouse_path))  # the load of `run`
            writer.close()
            response = await client.get("/api/days")
            assert response.status_code == 503
            assert "busy" in response.json()["detail"]
        assert (await client.get("/api/days")).status_code == 200
    pool.close()


async def test_plotly_is_served_from_the_installed_package(
    census: Settings, client_for: ClientFactory
) -> None:
    plain, packed = plotly_js()
    async with client_for(census) as client:
        response = await client.get("/vendor/plotly.min.js")
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.content == plain  # httpx decodes the gzip body
        assert int(response.headers["content-length"]) == len(packed) < len(plain) // 2
        assert b"plotly.js v" in plain[:200]
        css = await client.get("/static/css/app.css")
        assert css.status_code == 200
        icon = await client.get("/static/favicon.svg")
        assert icon.headers["content-type"].startswith("image/svg")


async def test_the_openapi_document_lists_the_endpoints(
    census: Settings, client_for: ClientFactory
) -> None:
    async with client_for(census) as client:
        doc = (await client.get("/api/openapi.json")).json()
        assert (await client.get("/docs")).status_code == 404  # Swagger UI would need a CDN
    assert sorted(doc["paths"]) == [
        "/api/channels",
        "/api/channels/{channel}",
        "/api/chat-lists",
        "/api/communities",
        "/api/communities/{channel}",
        "/api/cost",
        "/api/days",
        "/api/exposure",
        "/api/followers",
        "/api/games",
        "/api/games/{game}",
        "/api/habits",
        "/api/health",
        "/api/map",
        "/api/overview",
        "/api/rankings",
        "/api/schedules",
    ]
