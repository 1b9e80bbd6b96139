"""The static export holds the rankings and games pages with the API's answers."""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path

import pytest

from apiclient import client
from load.lakebuilder import DAY
from rankings.lake import CHATTING, FORTNITE
from streamcensus.config import Settings


def _data(path: Path) -> tuple[str, object]:
    text = path.read_text()
    key, _, body = text[len("SC.provide(") : -3].partition(", ")
    return json.loads(key), json.loads(body)


@pytest.mark.parametrize(
    ("url", "file"),
    [
        (
            f"/api/rankings?day={DAY}&window=7&kind=channels&by=chatters&signal=chat_list",
            f"rankings/by-chatters_day-{DAY}_kind-channels_signal-chat_list_window-7.js",
        ),
        (
            f"/api/rankings?day={DAY}&window=30&kind=games&by=peak_viewers&signal=chat_activity",
            f"rankings/by-peak_viewers_day-{DAY}_kind-games_signal-chat_activity_window-30.js",
        ),
        (
            f"/api/games?day={DAY}&window=1&signal=chat_list",
            f"games/day-{DAY}_signal-chat_list_window-1.js",
        ),
        (
            f"/api/games/{FORTNITE}?day={DAY}&window=7&signal=chat_activity",
            f"games/{FORTNITE}/day-{DAY}_signal-chat_activity_window-7.js",
        ),
    ],
)
async def test_the_export_holds_the_apis_answers(
    ranked: Settings, site: Path, url: str, file: str
) -> None:
    key, payload = _data(site / "data" / file)
    assert key == file.removesuffix(".js")
    async with client(ranked) as c:
        assert payload == (await c.get(url)).json()


def test_exported_pages_know_their_games(site: Path) -> None:
    out = site
    for page in ("rankings", "games"):
        html = unescape((out / f"{page}.html").read_text())
        config = json.loads(
            html.split('<script type="application/json" id="sc-config">')[1].split("</script>")[0]
        )
        assert config["games"] == [CHATTING, FORTNITE]  # by hours watched over the range
        assert config["rules"]["rankingWindows"] == [1, 7, 30]
    assert (out / "data" / "games" / CHATTING).is_dir()
