"""The community map in Chromium: channels coloured by community, the communities listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from communities.audience import DAYS, X, Y
from serve.browser import browser_session, clean, open_page, serving, watched_page
from streamcensus.config import Settings

NODES = """() => {
    const trace = document.getElementById('chart-map').data[1];
    return trace.customdata.map((c, i) => [c[0], trace.marker.color[i]]);
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_session()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    yield from watched_page(browser)


def test_the_map_colours_and_lists_the_communities(page: Any, scenes: Settings) -> None:
    with serving(scenes) as url:
        open_page(page, f"{url}/map?day={DAYS[1]}&window=7&signal=chat_list")
        colours = dict(page.evaluate(NODES))
        clean(page)
        rows = page.locator("#table-communities tbody tr")
        texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert {colours[f"ch{c}"] for c in X} != {colours[f"ch{c}"] for c in Y}
    assert len({colours[f"ch{c}"] for c in X}) == 1 and len({colours[f"ch{c}"] for c in Y}) == 1
    assert [t.strip() for t in texts] == [
        "Minecraft\t4\tch3001, ch3002, ch3003, ch3004",
        "League of Legends\t4\tch3011, ch3012, ch3013, ch3014",
    ]
