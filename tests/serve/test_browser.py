"""The dashboard in headless Chromium: pages load cleanly, charts draw, controls work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve.browser import (
    READY,
    assert_charts_drawn,
    charts,
    clean,
    open_page,
    require_chromium,
    screenshot,
    serving,
    static_server,
)
from serve.census import FRIDAY, THURSDAY
from streamcensus.config import Settings
from streamcensus.serve.export import export_static

PAGES = {
    "overview": "/",
    "schedules": "/schedules",
    "map": "/map",
    "habits": "/habits",
    "exposure": "/exposure",
    "health": "/health",
}


@pytest.fixture(scope="module")
def dashboard(synthetic: Settings) -> Iterator[str]:
    with serving(synthetic) as url:
        yield url


@pytest.fixture(scope="module")
def census_dashboard(census: Settings) -> Iterator[str]:
    with serving(census) as url:
        yield url


@pytest.fixture(scope="module")
def top_channel(dashboard: str) -> dict[str, Any]:
    overview = httpx.get(f"{dashboard}/api/overview", timeout=30).json()
    channel: dict[str, Any] = overview["top_channels"][0]
    return channel


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_loads_cleanly_and_draws_its_charts(
    page: Any, dashboard: str, name: str
) -> None:
    open_page(page, dashboard + PAGES[name])
    drawn = assert_charts_drawn(page)
    assert {c["day"] for c in drawn} == {FRIDAY.isoformat()}
    clean(page)
    screenshot(page, f"live-{name}")


def test_the_channel_page_draws_its_weeks_curve_and_neighbours(
    page: Any, dashboard: str, top_channel: dict[str, Any]
) -> None:
    open_page(page, f"{dashboard}/channels/{top_channel['channel_login']}")
    assert_charts_drawn(page)
    clean(page)
    assert page.locator("#page-title").inner_text() == top_channel["channel_name"]
    assert page.locator("#table-neighbours tbody tr").count() > 0
    screenshot(page, "live-channel")


def test_changing_the_day_redraws_the_charts(page: Any, dashboard: str) -> None:
    open_page(page, dashboard + "/")
    before = page.evaluate("document.getElementById('chart-audience').data[0].x[0]")
    assert before.startswith(FRIDAY.isoformat())
    page.locator("#prev-day").click()
    page.wait_for_function(
        "day => document.getElementById('chart-audience').dataset.day === day",
        arg=THURSDAY.isoformat(),
    )
    page.wait_for_function(READY)
    after = page.evaluate("document.getElementById('chart-audience').data[0].x[0]")
    assert after.startswith(THURSDAY.isoformat())
    assert f"day={THURSDAY}" in page.url
    assert page.locator("#day").input_value() == THURSDAY.isoformat()
    assert page.locator("#prev-day").is_disabled()
    link = page.locator("a[data-nav='schedules']").get_attribute("href") or ""
    assert f"day={THURSDAY}" in link
    page.locator("#day").fill(FRIDAY.isoformat())
    page.locator("#day").dispatch_event("change")
    page.wait_for_function(
        "day => document.getElementById('chart-audience').dataset.day === day",
        arg=FRIDAY.isoformat(),
    )
    page.wait_for_function("() => document.body.dataset.state === 'ready'")  # every chart
    clean(page)


def test_the_search_box_leads_to_the_channel_page(
    page: Any, dashboard: str, top_channel: dict[str, Any]
) -> None:
    open_page(page, dashboard + "/schedules")
    login = top_channel["channel_login"]
    page.locator("#search-input").fill(login[:-1].upper())
    page.locator("#search-results li a").first.wait_for()
    assert login in page.locator("#search-results").inner_text()
    page.locator("#search-input").fill(login)
    page.wait_for_function(
        "login => document.querySelector('#search-results li a .login')?.textContent === login",
        arg=login,
    )
    page.locator("#search-input").press("Enter")
    page.wait_for_url(f"**/channels/{login}?day={FRIDAY}")
    page.wait_for_function(READY)
    assert_charts_drawn(page)
    clean(page)


def test_the_map_zooms_and_a_click_opens_the_channel(page: Any, dashboard: str) -> None:
    open_page(page, dashboard + "/map")
    nodes = page.locator("#chart-map .scatterlayer .trace:nth-child(2) path.point")
    assert nodes.count() > 10
    span = (
        "() => { const r = document.getElementById('chart-map')._fullLayout.xaxis.range;"
        " return r[1] - r[0]; }"
    )
    before = page.evaluate(span)
    box = page.locator("#chart-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(5):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(300)
        if page.evaluate(span) < before:
            break
    assert page.evaluate(span) < before * 0.95
    page.locator("#window").select_option("1")
    page.wait_for_function(READY)
    page.wait_for_function("() => Number(document.getElementById('chart-map').dataset.draws) >= 2")
    assert "window=1" in page.url
    target = nodes.first
    target.wait_for()
    hover = page.locator("#chart-map .hoverlayer .hovertext")
    # leave the chart first, so the label read below is the target's, not a stale one
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    hover.wait_for(state="hidden")
    point = target.bounding_box()
    x, y = point["x"] + point["width"] / 2, point["y"] + point["height"] / 2
    page.mouse.move(x, y)
    hover.wait_for()
    name = page.evaluate(
        "() => document.querySelector("
        "'#chart-map .hoverlayer .hovertext text.nums tspan.line tspan').textContent"
    )
    logins = page.evaluate(
        "name => document.getElementById('chart-map').data[1].customdata"
        ".filter(c => c[1] === name).map(c => c[0])",
        name,
    )
    assert len(logins) == 1
    page.mouse.click(x, y)
    page.wait_for_url("**/channels/**")
    assert f"/channels/{logins[0]}?day=" in page.url
    page.wait_for_function(READY)
    clean(page)


def test_an_empty_dashboard_says_how_to_get_data(page: Any, empty: Settings) -> None:
    with serving(empty) as url:
        page.goto(url + "/")
        page.get_by_text("No data yet").wait_for()
        assert "make demo" in page.locator("#empty").inner_text()
        assert charts(page) == []
        page.goto(url + "/map")
        page.get_by_text("No data yet").wait_for()
        assert page.watch.problems == []
        screenshot(page, "live-empty")


@pytest.fixture(scope="module")
def exported(synthetic: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "site"
    export_static(synthetic, out, channel_limit=60)
    return out


@pytest.mark.parametrize("how", ["file", "http"])
def test_the_static_export_shows_the_same_charts(
    page: Any, exported: Path, how: str, top_channel: dict[str, Any]
) -> None:
    with static_server(exported) as url:
        base = exported.as_uri() if how == "file" else url
        for name in PAGES:
            file = "index.html" if name == "overview" else f"{name}.html"
            open_page(page, f"{base}/{file}")
            drawn = assert_charts_drawn(page)
            assert {c["day"] for c in drawn} == {FRIDAY.isoformat()}
            clean(page)
            if how == "file":
                screenshot(page, f"static-{name}")
        open_page(page, f"{base}/index.html?day={THURSDAY}")
        assert charts(page)[0]["day"] == THURSDAY.isoformat()
        page.locator("#next-day").click()
        page.wait_for_function(
            "day => document.getElementById('chart-audience').dataset.day === day",
            arg=FRIDAY.isoformat(),
        )
        login = top_channel["channel_login"]
        page.locator("#search-input").fill(login)
        page.wait_for_function(
            "login => document.querySelector('#search-results li a .login')?.textContent === login",
            arg=login,
        )
        page.locator("#search-input").press("Enter")
        page.wait_for_url(f"**/channel.html?channel={login}&day={FRIDAY}")
        page.wait_for_function(READY)
        assert_charts_drawn(page)
        clean(page)
        if how == "file":
            screenshot(page, "static-channel")


TABLE_PAGES = {
    "followers": ("/followers", "followers.html"),
    "chatlists": ("/chat-lists", "chat-lists.html"),
}


@pytest.mark.parametrize("name", sorted(TABLE_PAGES))
def test_the_follower_and_chat_list_pages_show_their_tables(
    page: Any, census_dashboard: str, name: str
) -> None:
    open_page(page, census_dashboard + TABLE_PAGES[name][0])
    clean(page)
    if name == "chatlists":
        assert page.locator("#summary").inner_text() == (
            "Chat lists read: 1 channels by consent, 1 by moderation."
        )
        rows = page.locator("#table-chatlists tbody tr")
        assert rows.count() == 2
        assert "consent" in rows.nth(0).inner_text()
    else:
        rows = page.locator("#table-followers tbody tr")
        assert rows.count() == 3
        assert rows.nth(0).inner_text().startswith("Alice")
        page.locator("#window").select_option("7")
        page.wait_for_function(
            "() => document.querySelector('#table-followers th:nth-child(3)')"
            "?.textContent === 'gained in 7 days'"
        )
    screenshot(page, f"live-{name}")


def test_the_signal_selector_redraws_map_habits_and_exposure(
    page: Any, census_dashboard: str
) -> None:
    for path in ("/map?window=1", "/habits", "/exposure"):
        open_page(page, census_dashboard + path)
        clean(page)
        note = page.locator("#signal-note")
        assert note.inner_text().startswith("Figures from people who posted.")
        page.locator("#signal").select_option("chat_list")
        page.wait_for_function(
            "() => document.getElementById('signal-note').textContent"
            ".startsWith('Figures from people in the chat list.')"
        )
        assert "signal=chat_list" in page.url
        assert page.watch.problems == []
    open_page(page, f"{census_dashboard}/health")
    clean(page)
    tokens = page.locator("#table-tokens tbody tr")
    assert tokens.count() == 2
    assert "revoked by its user" in tokens.nth(0).inner_text()


def test_without_chromium_ci_fails_and_a_laptop_skips(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("serve.browser.CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no-chromium is missing"):
        require_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_chromium()
