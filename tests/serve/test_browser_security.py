"""The dashboard's hardening in headless Chromium: hostile names render as text, the
Content-Security-Policy is enforced (live by header, exported by <meta>), and the static
export's parameters choose no script."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serve.browser import clean, csp_violations, open_page, serving
from serve.census import HOSTILE_GAME, HOSTILE_NAME, THURSDAY
from streamcensus.config import Settings
from streamcensus.serve.export import export_static

# The text of every <text> element plotly drew in a chart, and what must never appear.
CHART_TEXTS = """id => Array.from(document.querySelectorAll('#' + id + ' svg text'))
    .map(t => t.textContent)"""
INJECTED = """() => ({
    images: document.querySelectorAll('img').length,
    chartLinks: document.querySelectorAll('.chart a').length,
    alerted: window.__alerted || [],
})"""
# A page whose alert() is recorded instead of shown (the init script runs before any other).
RECORD_ALERTS = "window.__alerted = []; window.alert = (m) => window.__alerted.push(String(m));"


@pytest.fixture(scope="module")
def live(hostile: Settings) -> Iterator[str]:
    with serving(hostile) as url:
        yield url


@pytest.fixture(scope="module")
def exported(hostile: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile-export") / "site"
    export_static(hostile, out)
    return out


@pytest.fixture
def guarded(page: Any) -> Any:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.add_init_script(RECORD_ALERTS)
    page.dialogs = dialogs
    return page


def assert_nothing_ran(page: Any) -> None:
    found = page.evaluate(INJECTED)
    assert found == {"images": 0, "chartLinks": 0, "alerted": []}
    assert page.dialogs == []


def urls(base: str, live: bool) -> dict[str, str]:
    day = f"day={THURSDAY}"
    if live:
        return {
            "overview": f"{base}/?{day}",
            "schedules": f"{base}/schedules?{day}",
            "map": f"{base}/map?{day}&window=1&signal=chat_list",
            "channel": f"{base}/channels/alice?{day}",
        }
    return {
        "overview": f"{base}/index.html?{day}",
        "schedules": f"{base}/schedules.html?{day}",
        "map": f"{base}/map.html?{day}&window=1&signal=chat_list",
        "channel": f"{base}/channel.html?channel=alice&{day}",
    }


def assert_hostile_names_render_as_text(page: Any, pages: dict[str, str]) -> None:
    open_page(page, pages["overview"])
    clean(page)
    assert HOSTILE_GAME in page.evaluate(CHART_TEXTS, "chart-games")  # a category label
    assert HOSTILE_NAME in page.locator("#table-channels").inner_text()
    assert_nothing_ran(page)

    open_page(page, pages["schedules"])
    clean(page)
    texts = page.evaluate(CHART_TEXTS, "chart-schedule")
    assert HOSTILE_NAME in texts  # the channel axis
    assert HOSTILE_GAME in texts  # the legend: a game
    assert_nothing_ran(page)

    open_page(page, pages["map"])
    clean(page)
    assert HOSTILE_NAME in page.evaluate(CHART_TEXTS, "chart-map")  # a node's label
    assert_nothing_ran(page)

    open_page(page, pages["channel"])
    clean(page)
    assert page.locator("#page-title").inner_text() == HOSTILE_NAME
    assert page.title() == f"{HOSTILE_NAME} · streamcensus"
    assert HOSTILE_GAME in page.evaluate(CHART_TEXTS, "chart-games")
    assert_nothing_ran(page)


def test_hostile_names_render_as_text_on_the_live_dashboard(guarded: Any, live: str) -> None:
    assert_hostile_names_render_as_text(guarded, urls(live, live=True))


def test_hostile_names_render_as_text_in_the_export(guarded: Any, exported: Path) -> None:
    assert_hostile_names_render_as_text(guarded, urls(exported.as_uri(), live=False))


# Injected as an attacker's markup would be: an inline script and an inline event handler.
INJECT = """() => new Promise(done => {
    const s = document.createElement('script');
    s.textContent = 'window.__pwned = "script"';
    document.body.appendChild(s);
    const box = document.createElement('div');
    box.innerHTML = '<img src="data:," onerror="window.__pwned = \\'handler\\'">';
    document.body.appendChild(box);
    setTimeout(() => { box.remove(); done(window.__pwned || null); }, 300);
})"""


@pytest.mark.parametrize("where", ["live", "export"])
def test_the_policy_blocks_injected_script_and_handlers(
    page: Any, live: str, exported: Path, where: str
) -> None:
    url = urls(live, True) if where == "live" else urls(exported.as_uri(), False)
    open_page(page, url["overview"])
    clean(page)
    assert page.evaluate(INJECT) is None
    blocked = csp_violations(page)
    assert any(v.startswith("script-src-elem blocked inline") for v in blocked), blocked
    assert any(v.startswith("script-src-attr blocked inline") for v in blocked), blocked


def test_the_export_checks_its_parameters_and_loads_only_its_own_files(
    page: Any, exported: Path
) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    base = exported.as_uri()
    cases = {
        "channel.html?channel=../../x": 'invalid channel "../../x": a Twitch login is 1-25',
        "channel.html?channel=..%2F..%2Fassets%2Fjs%2Fsc": "invalid channel",
        "channel.html?channel=nobody_here": "this static export has no page for nobody_here",
        "channel.html": "no channel chosen",
    }
    for query, message in cases.items():
        open_page(page, f"{base}/{query}")
        assert message in page.locator("#notice").inner_text()
        assert page.evaluate("document.body.dataset.state") == "error"
    open_page(page, f"{base}/index.html?day=../../x")
    assert "no data for ../../x" in page.locator("#notice").inner_text()
    open_page(page, f"{base}/map.html?window=../../x")
    assert page.locator("#window").input_value() == "7"
    assert page.evaluate("document.body.dataset.state") == "ready"
    for url in requested:
        path = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
        assert path.is_file(), url  # every request is a file this export wrote
        assert path.resolve().is_relative_to(exported.resolve()), url
    assert not any("x.js" in url or "/sc.js.js" in url for url in requested)
