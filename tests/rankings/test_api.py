"""`/api/rankings`, `/api/games` and `/api/games/{game}` over the lake of lake.py."""

from __future__ import annotations

from typing import Any

import pytest

from apiclient import get
from load.lakebuilder import DAY
from privacy.expect import published
from rankings.lake import ALICE, CHATTING, FORTNITE, YESTERDAY
from streamcensus.config import Settings


async def test_channels_ranked_by_hours_watched_with_their_change(ranked: Settings) -> None:
    body = await get(ranked, f"/api/rankings?day={DAY}&window=1&kind=channels&by=hours_watched")
    assert (body["day"], body["window_days"], body["kind"], body["by"]) == (
        str(DAY),
        1,
        "channels",
        "hours_watched",
    )
    assert [(s["rank"], s["channel_login"]) for s in body["subjects"]] == [
        (1, "alice"),
        (2, "bob"),
        (3, "carol"),
    ]
    alice = body["subjects"][0]
    assert alice["id"] == ALICE and alice["name"] == "Alice"
    assert alice["main_game"] == "Just Chatting"
    assert alice["hours_watched"] == {
        "current": 75.0,
        "previous": 50.0,
        "change": 25.0,
        "change_pct": 0.5,
        "rank": 1,
    }
    assert alice["avg_viewers"]["current"] == 300.0
    assert body["period"] == {
        "window_days": 1,
        "days_covered": 1,
        "previous_days_covered": 1,
        "complete": True,
    }


async def test_a_week_says_how_many_of_its_days_are_loaded(ranked: Settings) -> None:
    body = await get(ranked, f"/api/rankings?day={DAY}&window=7&by=peak_viewers")
    assert body["period"] == {
        "window_days": 7,
        "days_covered": 2,
        "previous_days_covered": 1,
        "complete": False,
    }
    assert [s["peak_viewers"]["current"] for s in body["subjects"]] == [300.0, 100.0, 5.0]
    month = await get(ranked, f"/api/rankings?day={DAY}&window=30")
    assert month["period"]["previous_days_covered"] == 0
    assert all(s["hours_watched"]["change"] is None for s in month["subjects"])


async def test_ranked_by_chat_size_lists_only_published_chats(ranked: Settings) -> None:
    body = await get(
        ranked, f"/api/rankings?day={DAY}&window=1&by=chatters&signal=chat_list&limit=10"
    )
    assert body["signal"] == "chat_list"
    alice = published(ranked, "channel_people", DAY, ALICE, "chat_list", exact=16)
    # carol's 3 people are under k: not ranked, nowhere in the payload
    assert [s["channel_login"] for s in body["subjects"]] == ["alice", "bob"]
    assert body["subjects"][0]["chatters"]["current"] == alice
    before = published(ranked, "channel_people", YESTERDAY, ALICE, "chat_list", exact=15)
    assert body["subjects"][0]["chatters"]["previous"] == before
    assert body["chatters_period"]["days_covered"] == 1


async def test_games_ranked_and_limited(ranked: Settings) -> None:
    body = await get(ranked, f"/api/rankings?day={DAY}&window=7&kind=games&limit=1")
    assert [(s["id"], s["name"], s["channel_login"]) for s in body["subjects"]] == [
        (CHATTING, "Just Chatting", None)
    ]
    assert body["subjects"][0]["hours_watched"]["current"] == 125.0


async def test_games_list_has_shares_channels_and_top_channel(ranked: Settings) -> None:
    body = await get(ranked, f"/api/games?day={DAY}&window=1")
    assert body["hours_watched"] == round(75.0 + 20.4167, 4)
    games = [
        (g["game"]["id"], g["channels"], g["top_channel"], g["share_of_hours"])
        for g in body["games"]
    ]
    assert games == [
        (CHATTING, 1, "alice", round(75.0 / 95.4167, 4)),
        (FORTNITE, 2, "bob", round(20.4167 / 95.4167, 4)),
    ]


async def test_a_game_page_has_its_days_hours_and_channels(ranked: Settings) -> None:
    body = await get(ranked, f"/api/games/{FORTNITE}?day={DAY}&window=7")
    assert (body["id"], body["name"], body["window_days"]) == (FORTNITE, "Fortnite", 7)
    assert body["figures"]["hours_watched"]["current"] == 32.9167
    assert [(d["day"], d["hours_watched"], d["channels"]) for d in body["days"]] == [
        (str(YESTERDAY), 12.5, 1),
        (str(DAY), 20.4167, 2),
    ]
    assert [(c["channel_login"], c["hours_watched"]) for c in body["channels"]] == [
        ("bob", 32.5),
        ("carol", 0.4167),
    ]
    when = body["when"]
    assert when["weekdays"][0] == "Mon" and len(when["viewer_hours"]) == 7
    # every snapshot is at 20:00-20:10 UTC: Thursday (YESTERDAY) and Friday (DAY)
    assert when["viewer_hours"][3][20] == 12.5
    assert when["viewer_hours"][4][20] == 20.4167
    assert sum(sum(row) for row in when["viewer_hours"]) == pytest.approx(32.9167)
    # 20:00: bob both days, carol on DAY, over the 6 snapshots of that hour
    assert when["avg_channels"][20] == round(7 / 6, 2)


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/rankings?window=14", 400, "invalid window 14"),
        ("/api/rankings?window=week", 400, "invalid window"),
        ("/api/rankings?by=followers", 400, "invalid by"),
        ("/api/rankings?kind=streamers", 400, "invalid kind"),
        ("/api/rankings?signal=irc", 400, "invalid signal"),
        ("/api/rankings?limit=0", 400, "invalid limit"),
        ("/api/rankings?limit=201", 400, "invalid limit"),
        ("/api/rankings?day=2026-13-01", 400, "invalid day"),
        ("/api/rankings?day=2020-01-01", 404, "no data for 2020-01-01"),
        ("/api/games?window=2", 400, "invalid window 2"),
        ("/api/games?limit=-1", 400, "invalid limit"),
        ("/api/games/fortnite", 400, "invalid game 'fortnite'"),
        ("/api/games/1%27%20or%201=1", 400, "invalid game"),
        ("/api/games/424242", 404, "unknown game '424242'"),
        (f"/api/games/{FORTNITE}?window=0", 400, "invalid window 0"),
        (f"/api/games/{FORTNITE}?day=yesterday", 400, "invalid day"),
    ],
)
async def test_bad_parameters_are_4xx_with_a_message(
    ranked: Settings, url: str, status: int, words: str
) -> None:
    body = await get(ranked, url, status)
    assert words in body["detail"]


async def test_the_routes_are_in_the_openapi_document(ranked: Settings) -> None:
    body = await get(ranked, "/api/openapi.json")
    assert {"/api/rankings", "/api/games", "/api/games/{game}"} <= set(body["paths"])
    by = next(p for p in body["paths"]["/api/rankings"]["get"]["parameters"] if p["name"] == "by")
    assert set(by["schema"]["enum"]) == {
        "hours_watched",
        "peak_viewers",
        "avg_viewers",
        "airtime_hours",
        "chatters",
    }


async def test_no_data_yet_is_a_404_not_a_500(tmp_path: Any) -> None:
    settings = Settings(data_dir=tmp_path)
    for url in ("/api/rankings", "/api/games", f"/api/games/{FORTNITE}"):
        body = await get(settings, url, 404)
        assert body["detail"]
