"""The rankings and games pages in Chromium, over the lake of lake.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from load.lakebuilder import DAY
from rankings.lake import FORTNITE
from serve.browser import (
    assert_charts_drawn,
    browser_session,
    clean,
    open_page,
    screenshot,
    serving,
    static_server,
    watched_page,
)
from streamcensus.config import Settings


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_session()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    yield from watched_page(browser)


def _rows(page: Any, table: str) -> list[str]:
    rows = page.locator(f"#{table} tbody tr")
    return [rows.nth(i).inner_text() for i in range(rows.count())]


def test_the_rankings_page_ranks_channels_with_their_change(page: Any, ranked: Settings) -> None:
    with serving(ranked) as url:
        open_page(page, f"{url}/rankings?day={DAY}&window=1")
        clean(page)
        assert_charts_drawn(page)
        rows = _rows(page, "table-ranking")
        assert page.locator('nav a[data-nav="rankings"]').get_attribute("aria-current") == "page"
        screenshot(page, "rankings")
        # by chat size, in the chat lists: carol's chat is under k and is not listed
        page.select_option("#by", "chatters")
        page.select_option("#signal", "chat_list")
        page.wait_for_function(
            "() => document.querySelectorAll('#table-ranking tbody tr').length === 2"
        )
        by_chat = _rows(page, "table-ranking")
        title = page.locator("#chart-title").inner_text()
        assert "signal=chat_list" in page.url and "by=chatters" in page.url
    assert [r.split("\t")[:3] for r in rows] == [
        ["1", "Alice", "Just Chatting"],
        ["2", "Bob", "Fortnite"],
        ["3", "Carol", "Fortnite"],
    ]
    # alice: 75 hours watched, +25 (+50%) against the day before
    assert "75\n+25 (+50%)" in rows[0].split("\t")[3]
    assert [r.split("\t")[1] for r in by_chat] == ["Alice", "Bob"]
    assert title == "Top 2 channels by chat size (people)"


def test_an_incomplete_window_says_so(page: Any, ranked: Settings) -> None:
    with serving(ranked) as url:
        open_page(page, f"{url}/rankings?day={DAY}&window=30&kind=games")
        clean(page)
        coverage = page.locator("#coverage").inner_text()
        rows = _rows(page, "table-ranking")
    assert "3 of the 30 days of the period are loaded" in coverage
    assert "No day of the previous period is loaded" in coverage
    assert [r.split("\t")[1] for r in rows] == ["Just Chatting", "Fortnite"]


def test_the_games_page_and_a_games_detail(page: Any, ranked: Settings) -> None:
    with serving(ranked) as url:
        open_page(page, f"{url}/games?day={DAY}&window=7")
        clean(page)
        assert_charts_drawn(page)
        games = _rows(page, "table-games")
        page.locator("#table-games a", has_text="Fortnite").click()
        page.wait_for_url(f"**/games?*game={FORTNITE}*")
        page.wait_for_function("() => document.body.dataset.state === 'ready'")
        clean(page)
        drawn = assert_charts_drawn(page)
        title = page.locator("#page-title").inner_text()
        channels = _rows(page, "table-game-channels")
        screenshot(page, "game")
        assert page.locator("#games-list").is_hidden()
    assert [g.split("\t")[1] for g in games] == ["Just Chatting", "Fortnite"]
    assert "bob" in games[1].split("\t")[5]
    assert title == "Fortnite"
    assert len(drawn) == 2
    assert [c.split("\t")[0] for c in channels] == ["Bob", "Carol"]


def test_a_bad_game_parameter_is_said_not_run(page: Any, ranked: Settings) -> None:
    with serving(ranked) as url:
        open_page(page, f"{url}/games?day={DAY}&game=%3Cimg%20src=x%3E")
        notice = page.locator("#notice").inner_text()
        assert page.watch.problems == []
        assert page.locator("img[src=x]").count() == 0
    assert "invalid game" in notice


def test_the_exported_pages_work_from_files_and_a_static_host(page: Any, site: Path) -> None:
    with static_server(site) as url:
        for base in (url, site.as_uri()):
            open_page(page, f"{base}/rankings.html?day={DAY}&window=7&kind=games&by=hours_watched")
            clean(page)
            assert_charts_drawn(page)
            games = _rows(page, "table-ranking")
            open_page(page, f"{base}/games.html?day={DAY}&game={FORTNITE}&window=1")
            clean(page)
            assert len(assert_charts_drawn(page)) == 2
            channels = _rows(page, "table-game-channels")
            assert [g.split("\t")[1] for g in games] == ["Just Chatting", "Fortnite"]
            assert [c.split("\t")[0] for c in channels] == ["Bob", "Carol"]
        # a game the export has no page for is said, not fetched
        open_page(page, f"{url}/games.html?day={DAY}&game=424242")
        notice = page.locator("#notice").inner_text()
    assert "this static export holds no games data" in notice
