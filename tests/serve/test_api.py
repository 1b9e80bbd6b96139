"""The JSON API over the hand-made census (serve/census.py): exact, hand-computed figures."""

from __future__ import annotations

from typing import Any

from privacy.expect import health_count
from serve.census import FRIDAY, THURSDAY
from serve.conftest import ClientFactory
from streamcensus.config import Settings

THU = THURSDAY.isoformat()
FRI = FRIDAY.isoformat()


async def get(client_for: ClientFactory, settings: Settings, url: str) -> Any:
    async with client_for(settings) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.json()


async def raw_get(client_for: ClientFactory, settings: Settings, url: str) -> Any:
    async with client_for(settings) as client:
        return await client.get(url)


async def test_days_lists_the_loaded_days_and_the_latest(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, "/api/days")
    assert body == {
        "days": [THU, FRI],
        "partial_days": [],
        "first": THU,
        "latest": FRI,
        "k": 10,
        "interval_minutes": 5,
    }


async def test_overview_curve_and_totals_of_thursday(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, f"/api/overview?day={THU}")
    curve = body["curve"]
    assert len(curve["ts"]) == 48
    assert curve["ts"][0] == "2026-11-26T20:00:00Z"
    assert curve["ts"][-1] == "2026-11-26T23:55:00Z"
    # alice 100 + 10 i, eve 5 until 20:10, bob 50 from 20:30 to 21:25, nobody 22:00-22:55
    assert curve["viewers"][:7] == [105, 115, 125, 130, 140, 150, 210]
    assert curve["viewers"][17:25] == [320, 280, 290, 300, 310, 320, 330, 0]
    assert curve["viewers"][36:] == [30] * 12
    assert curve["live_channels"][:7] == [2, 2, 2, 1, 1, 1, 2]
    # people in chat: alice's 20 people (the bot is not one), eve's one, bob's 15 (10 shared):
    # 21, 21, 21, 20, 20, 20, then 25 until 21:25, then 20; published as each hour's average
    # per snapshot, on every snapshot of the hour. Thursday has chat lists only (no chat
    # activity was collected)
    [listed] = curve["chatters"]
    assert (listed["signal"], listed["label"]) == ("chat_list", "people in the chat list")
    hour_20, hour_21 = round((3 * 21 + 3 * 20 + 6 * 25) / 12), round((6 * 25 + 6 * 20) / 12)
    assert (hour_20, hour_21) == (23, 22)
    assert listed["values"][:24] == [hour_20] * 12 + [hour_21] * 12
    assert listed["values"][24:] == [None] * 24  # nobody, then carol's unreadable chat
    assert curve["viewers_per_live_channel"][:4] == [52.5, 57.5, 62.5, 130.0]
    assert curve["viewers_per_live_channel"][24] is None
    assert curve["status"].count("partial") == 1
    assert curve["status"][12] == "partial"
    assert body["totals"] == {
        "snapshots": 48,
        "snapshots_expected": 288,
        "peak_viewers": 330,
        "peak_viewers_at": "2026-11-26T21:55:00Z",
        "avg_viewers": 127.81,  # 6,135 viewers over 48 snapshots
        "viewer_hours": 511.25,  # 6,135 × 5 / 60
        "peak_live_channels": 2,
        "channels_live": 4,
        # total over total: 6,135 viewers over 51 channel-snapshots (not a mean of ratios)
        "viewers_per_live_channel": 120.29,
        "peak_chatters": [{"signal": "chat_list", "label": "people in the chat list", "value": 23}],
        "day_complete": True,
    }


async def test_overview_top_channels_and_games(census: Settings, client_for: ClientFactory) -> None:
    body = await get(client_for, census, f"/api/overview?day={THU}")
    assert body["top_channels"] == [
        {
            "channel_login": "alice",
            "channel_name": "Alice",
            "main_game": "Fortnite",
            "airtime_hours": 2.0,
            "peak_viewers": 330,
            "avg_viewers": 215.0,
            "viewer_hours": 430.0,
            "unique_chatters": 20,  # people 1..20: the bot is not one
            "chatters_per_viewer": 0.093,  # 24 × 20 / 5,160
            "signal": "chat_list",
        },
        {
            "channel_login": "bob",
            "channel_name": "Bob",
            "main_game": "Minecraft",
            "airtime_hours": 1.0,
            "peak_viewers": 50,
            "avg_viewers": 50.0,
            "viewer_hours": 50.0,
            "unique_chatters": 15,
            "chatters_per_viewer": 0.3,
            "signal": "chat_list",
        },
        {
            "channel_login": "carol",
            "channel_name": "Carol",
            "main_game": "Art",
            "airtime_hours": 1.0,
            "peak_viewers": 30,
            "avg_viewers": 30.0,
            "viewer_hours": 30.0,
            "unique_chatters": None,
            "chatters_per_viewer": None,
            "signal": None,  # chat list forbidden, no chat activity collected on Thursday
        },
        {
            "channel_login": "eve",
            "channel_name": "Eve",
            "main_game": "Art",
            "airtime_hours": 0.25,
            "peak_viewers": 5,
            "avg_viewers": 5.0,
            "viewer_hours": 1.25,
            "unique_chatters": None,  # one person: under k
            "chatters_per_viewer": None,
            "signal": "chat_list",
        },
    ]
    games = [
        (g["game_name"], g["viewer_hours"], g["share"], g["peak_viewers"])
        for g in body["top_games"]
    ]
    assert games == [
        ("Fortnite", 309.1667, 0.6047, 330),  # alice from 20:50: 3,710 viewer-snapshots
        ("Just Chatting", 120.8333, 0.2363, 190),  # alice until 20:45: 1,450
        ("Minecraft", 50.0, 0.0978, 50),
        ("Art", 31.25, 0.0611, 30),  # carol 360 + eve 15
    ]


async def test_overview_defaults_to_the_latest_day_and_honours_limit(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, "/api/overview?limit=1")
    assert body["day"] == FRI
    assert body["totals"]["peak_viewers"] == 380
    assert body["totals"]["peak_viewers_at"] == "2026-11-27T20:00:00Z"
    assert body["totals"]["viewer_hours"] == 410.0
    assert body["totals"]["channels_live"] == 3
    # 20h: alice's 12 people (the bot is not one) and dave's 12 in the chat lists until
    # alice's token is revoked at 20:30, then dave's 12: 18 on average; alice's 12 and
    # dave's 12 posted all hour
    assert body["totals"]["peak_chatters"] == [
        {"signal": "chat_list", "label": "people in the chat list", "value": 18},
        {"signal": "chat_activity", "label": "people who posted", "value": 24},
    ]
    assert [c["channel_login"] for c in body["top_channels"]] == ["alice"]
    assert [(g["game_name"], g["share"]) for g in body["top_games"]] == [("Just Chatting", 0.7317)]


async def test_schedules_list_broadcasts_overlapping_the_day(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, f"/api/schedules?day={THU}")
    assert body["channels_live"] == 4
    assert [c["channel_login"] for c in body["channels"]] == ["alice", "bob", "carol", "eve"]
    alice = body["channels"][0]["broadcasts"]
    assert alice == [
        {
            "stream_id": "1001-202611262000",
            "started_at": "2026-11-26T20:00:00Z",
            "ended_at": "2026-11-26T21:55:00Z",
            "duration_minutes": 115,
            "peak_viewers": 330,
            "avg_viewers": 215.0,
            "viewer_hours": 430.0,
            "main_game": "Fortnite",
            "title": "alice live",
            "games": [
                {"game_name": "Just Chatting", "minutes": 50},
                {"game_name": "Fortnite", "minutes": 70},
            ],
            "complete": True,
            "coverage": 1.0,
        }
    ]
    bob = body["channels"][1]["broadcasts"][0]
    assert (bob["started_at"], bob["duration_minutes"]) == ("2026-11-26T20:28:00Z", 57)
    carol = body["channels"][2]["broadcasts"][0]
    assert (carol["started_at"], carol["ended_at"]) == (
        "2026-11-26T22:58:00Z",
        "2026-11-27T00:55:00Z",
    )
    assert carol["viewer_hours"] == 60.0  # the whole broadcast, across midnight


async def test_a_broadcast_across_midnight_is_on_both_days(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, f"/api/schedules?day={FRI}&limit=2")
    assert [c["channel_login"] for c in body["channels"]] == ["alice", "dave_tv"]
    body = await get(client_for, census, f"/api/schedules?day={FRI}")
    carol = next(c for c in body["channels"] if c["channel_login"] == "carol")
    assert [b["stream_id"] for b in carol["broadcasts"]] == ["1003-202611262258"]


async def test_search_matches_a_prefix_of_login_or_name_case_insensitively(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, "/api/channels?q=DA")
    assert body["channels"] == [
        {
            "channel_login": "dave_tv",
            "channel_name": "Dave_Tv",
            "last_day": FRI,
            "viewer_hours": 80.0,
        }
    ]
    body = await get(client_for, census, "/api/channels?q=dave_")
    assert [c["channel_login"] for c in body["channels"]] == ["dave_tv"]
    body = await get(client_for, census, "/api/channels?q=%25")
    assert body["channels"] == []  # no LIKE wildcard
    body = await get(client_for, census, "/api/channels?q=zz")
    assert body["channels"] == []


async def test_channel_page_data_of_alice_on_friday(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, "/api/channels/ALICE")
    assert body["channel"] == {
        "channel_id": "1001",
        "channel_login": "alice",
        "channel_name": "Alice",
        "first_day": THU,
        "last_day": FRI,
    }
    assert (body["day"], body["period_from"], body["period_to"]) == (FRI, THU, FRI)
    assert [b["stream_id"] for b in body["broadcasts"]] == [
        "1001-202611262000",
        "1001-202611272000",
    ]
    assert body["curve"]["viewers"] == [300] * 12
    # her chat list until her token was revoked at 20:30; who posted, all evening
    assert body["curve"]["chatters"] == [
        {
            "signal": "chat_list",
            "label": "people in the chat list",
            "values": [12] * 6 + [None] * 6,  # 12 people, the bot left out
        },
        {"signal": "chat_activity", "label": "people who posted", "values": [12] * 12},
    ]
    assert body["curve"]["game"] == ["Just Chatting"] * 12
    assert body["games"] == [
        {"game_name": "Just Chatting", "minutes": 110, "broadcasts": 2},
        {"game_name": "Fortnite", "minutes": 70, "broadcasts": 1},
    ]
    assert body["days"] == [
        {
            "day": THU,
            "airtime_hours": 2.0,
            "peak_viewers": 330,
            "avg_viewers": 215.0,
            "viewer_hours": 430.0,
            "main_game": "Fortnite",
            "unique_chatters": 20,  # people, bots excluded
            "returning_chatters": None,
            "chatters_per_viewer": 0.093,
            "bot_share": 0.0476,  # the known bot among 21 accounts
            "signal": "chat_list",
            "has_chat_list": True,
            "has_chat_activity": False,
            "complete": False,  # 48 snapshots of the day's 288 were taken
            "chat_snapshots_missed": 0,
        },
        {
            "day": FRI,
            "airtime_hours": 1.0,
            "peak_viewers": 300,
            "avg_viewers": 300.0,
            "viewer_hours": 300.0,
            "main_game": "Just Chatting",
            "unique_chatters": 12,
            "returning_chatters": 12,  # people 1..12 were there on Thursday
            "chatters_per_viewer": 0.04,  # 12 people per snapshot read / 300 viewers
            "bot_share": 0.0769,
            "signal": "chat_list",  # read until 20:30: the chat list where it has one
            "has_chat_list": True,
            "has_chat_activity": True,
            "complete": False,
            "chat_snapshots_missed": 0,
        },
    ]
    assert body["neighbours_window_days"] == 7
    assert body["neighbours_signal"] == "chat_list"
    assert body["followers"] == {
        "ts": ["2026-11-26T21:00:00Z", "2026-11-27T20:00:00Z"],
        "followers": [4900, 5000],
        "days": [
            {"day": THU, "followers": 4900, "gained_day": 0, "gained_7d": 0},
            {"day": FRI, "followers": 5000, "gained_day": 100, "gained_7d": 100},
        ],
    }
    assert body["neighbours"] == [
        {
            "channel_login": "bob",
            "shared_chatters": 10,
            "share_of_this": 0.5,
            "share_of_other": 0.6667,
            "jaccard": 0.4,
        }
    ]


async def test_a_channel_on_a_day_it_was_not_live(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, f"/api/channels/eve?day={FRI}&weeks=1")
    assert body["curve"] == {"ts": [], "viewers": [], "chatters": [], "game": []}
    assert [d["day"] for d in body["days"]] == [THU]
    assert body["days"][0]["unique_chatters"] is None
    assert body["neighbours"] == []
    assert body["period_from"] == THU


async def test_map_joins_channels_sharing_at_least_k_people(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, f"/api/map?day={THU}&window=1&signal=chat_list")
    assert (body["signal"], body["signals"]) == ("chat_list", ["chat_list"])
    assert body["pairs_total"] == 1
    assert [(n["channel_login"], n["chatters"], n["main_game"]) for n in body["nodes"]] == [
        ("alice", 20, "Fortnite"),
        ("bob", 15, "Minecraft"),
    ]
    assert body["edges"] == [{"source": 0, "target": 1, "shared_chatters": 10, "jaccard": 0.4}]
    xs = sorted(n["x"] for n in body["nodes"])
    assert xs[0] == -1.0 and xs[1] == 1.0  # laid out in [-1, 1]
    friday = await get(client_for, census, f"/api/map?day={FRI}&window=1&signal=chat_list")
    assert (friday["pairs_total"], friday["nodes"], friday["edges"]) == (0, [], [])
    week = await get(client_for, census, "/api/map?signal=chat_list")
    assert (week["day"], week["window_days"], week["pairs_total"]) == (FRI, 7, 1)
    assert week["nodes"][0]["main_game"] == "Just Chatting"  # alice's latest day
    # by default the map counts people who posted, the whole community: on Friday carol's
    # posters 1..10 also posted in alice's chat (1..12); dave's share nobody
    posted = await get(client_for, census, f"/api/map?day={FRI}&window=1")
    assert (posted["signal"], posted["signal_label"]) == ("chat_activity", "people who posted")
    assert posted["signals"] == ["chat_activity"]
    assert [(n["channel_login"], n["chatters"]) for n in posted["nodes"]] == [
        ("alice", 12),
        ("carol", 10),
    ]
    assert posted["edges"] == [
        {"source": 0, "target": 1, "shared_chatters": 10, "jaccard": round(10 / 12, 4)}
    ]
    assert (await get(client_for, census, f"/api/map?day={THU}&window=1"))["nodes"] == []


async def test_habits_heatmap_and_distributions(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, "/api/habits?signal=chat_list")
    assert (body["signal"], body["signals"]) == ("chat_list", ["chat_list", "chat_activity"])
    heat = body["heatmap"]
    assert heat["dates"] == [None, None, None, THU, FRI, None, None]
    assert heat["people"][3][20:22] == [26, 25]  # Thursday 20h, 21h
    assert heat["share"][3][20:22] == [1.0, 0.9615]
    assert heat["people"][4][20] == 24  # Friday: alice's 12 and dave's 12
    assert sum(v is not None for row in heat["people"] for v in row) == 3
    posted = await get(client_for, census, "/api/habits")
    assert posted["signal"] == "chat_activity"
    # Friday 00h: carol's 10 posters; 20h: alice's 12 and dave's 12; Thursday: no activity
    assert posted["heatmap"]["people"][4][0] == 10
    assert posted["heatmap"]["people"][4][20] == 24
    assert sum(v is not None for row in posted["heatmap"]["people"] for v in row) == 2
    thursday = await get(client_for, census, f"/api/habits?day={THU}&signal=chat_list")
    shown = {
        d["metric"]: [(b["label"], b["value"], b["share"]) for b in d["buckets"]]
        for d in thursday["distributions"]
    }
    assert shown == {
        # every bucket is noisy, the empty ones too, and buckets are merged with their
        # neighbours until each holds k: the empty ones above the last full bucket join it
        "sessions_per_viewer": [("1", 16, 0.6154), ("2+", 10, 0.3846)],
        "channels_per_viewer": [("1", 16, 0.6154), ("2+", 10, 0.3846)],
        # no session under 6 minutes (a bucket under k): it joins the buckets above it up
        # to an hour, and the longer sessions stay a bucket of their own
        "session_minutes": [("0–60", 16, 0.4444), ("61+", 20, 0.5556)],
        "days_active_per_week": [("1–7", 26, 1.0)],
    }
    week = {d["metric"]: d for d in body["distributions"]}["days_active_per_week"]
    assert [(b["label"], b["value"]) for b in week["buckets"]] == [("1", 26), ("2–7", 12)]


async def test_exposure_in_figures_and_plain_words(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, f"/api/exposure?day={THU}&signal=chat_list")
    assert (body["signal"], body["signal_label"]) == ("chat_list", "people in the chat list")
    assert (body["population"], body["days_covered"]) == (26, 1)
    # one person can move a sampled unicity count by up to the whole sample (1,000): its
    # noise's 95% bound (~300 at ε = 10) drowns a sample of 26, so it is not published
    assert body["unicity"] == []
    assert body["census"] == [
        {
            "measure": "channel_set",
            "label": "their exact set of channels",
            "unique_share": 0.038462,
        },
        {
            "measure": "top3_channels",
            "label": "their three most-watched channels",
            "unique_share": 0.038462,
        },
    ]
    assert body["sentences"][:4] == [
        "26 people chatted on 2026-11-26, bots excluded. A tracker that saw every chat list "
        "would know, for each of them, which channels they were in and at which hours.",
        "4% of people are the only ones with their exact set of channels.",
        "4% of people are the only ones with their three most-watched channels.",
        "This is why streamcensus publishes only aggregates of at least k people and deletes "
        "pseudonymous presence after the retention period: the raw chat lists would make "
        "many people easy to pick out.",
    ]
    assert "4% of people are the only ones with their exact set of channels." in body["sentences"]
    week = await get(client_for, census, f"/api/exposure?day={THU}&window=7&signal=chat_list")
    assert [c["measure"] for c in week["census"]] == [
        "channel_set",
        "top3_channels",
        "hour_pattern",
    ]
    assert week["sentences"][0].startswith(
        "26 people chatted in the 7 days ending on 2026-11-26 (data for 1 of those days)"
    )


async def test_health_per_day_and_totals(census: Settings, client_for: ClientFactory) -> None:
    body = await get(client_for, census, "/api/health")
    assert (body["day"], body["period_from"]) == (FRI, "2026-10-29")
    thursday, friday = body["days"]
    lake_bytes = sum(
        p.stat().st_size
        for p in (census.lake_dir / "raw").rglob("*")
        if p.is_file() and f"date={THU}" in p.as_posix()
    )
    assert thursday | {"raw_bytes": 0, "curated_bytes": 0} == thursday | {
        "day": THU,
        "snapshots_expected": 288,
        "snapshots": 48,
        "snapshots_complete": 47,
        "snapshots_partial": 1,
        "snapshots_missing": 240,
        "requests": 99,  # one streams request plus one per live channel, per snapshot
        "retries": 2,
        "api_errors": 2,
        "http_429": 1,
        "rate_limit_waits": 0,
        "rate_limit_wait_seconds": 0.0,
        "rate_limit_use": 0.0005,  # 99 / 48 of 4,000 points per 5 minutes
        "missing_items": 0,
        # rows of the chat lists (24 × 21 + 12 × 15 + 3 × 1): a sum over people, noisy
        "presence_observations": health_count(census, "presence_observations", THU, exact=687),
        "quarantined_files": 0,
        "presence_retired": False,
        "raw_bytes": 0,
        "curated_bytes": 0,
    }
    assert thursday["raw_bytes"] == lake_bytes
    assert thursday["curated_bytes"] > 0
    assert thursday["raw_bytes_per_observation"] == round(thursday["raw_bytes_per_observation"], 3)
    # alice's chat list read until 20:30 (6 × 13), dave's all evening (12 × 12)
    friday_rows = health_count(census, "presence_observations", FRI, exact=222)
    assert friday["presence_observations"] == friday_rows
    assert body["totals"]["snapshots_complete"] == 47 + 24
    assert body["totals"]["presence_observations"] == thursday["presence_observations"] + (
        friday_rows
    )
    assert thursday["chat_windows"] == 0 and thursday["chat_list_readers"] == 0
    assert {k: friday[k] for k in friday if k.startswith(("chat_", "activity_"))} == {
        "chat_list_readers": 2,
        "chat_list_tokens_tripped": 1,
        "chat_list_channels_affected": 1,
        "activity_observations": health_count(
            census, "activity_observations", FRI, exact=12 * 10 + 12 * 24
        ),
        "chat_windows": 12 + 24,
        "chat_windows_partial": 1,
        "chat_windows_not_joined": 0,
        "chat_partial_share": round(1 / 36, 4),
        "chat_channels_not_joined": 0,
    }
    assert body["tokens"] == [
        {
            "day": FRI,
            "reader_login": "alice",
            "ground": "consent",
            "state": "unusable",
            "tripped": True,
            "reason": "revoked by its user",
            "tripped_at": "2026-11-27T20:30:00Z",
            "channels_affected": 1,
        },
        {
            "day": FRI,
            "reader_login": "operator",
            "ground": "moderation",
            "state": "ok",
            "tripped": False,
            "reason": "",
            "tripped_at": None,
            "channels_affected": 0,
        },
    ]
    assert body["totals"]["raw_bytes"] == thursday["raw_bytes"] + friday["raw_bytes"]
    one = await get(client_for, census, f"/api/health?day={THU}&days=1")
    assert [d["day"] for d in one["days"]] == [THU]


async def test_payloads_stay_small(census: Settings, client_for: ClientFactory) -> None:
    async with client_for(census) as client:
        for url in ("/api/overview", "/api/schedules", "/api/map", "/api/channels/alice"):
            response = await client.get(url, headers={"Accept-Encoding": "identity"})
            assert len(response.content) < 20_000, url


async def test_chat_lists_read_and_on_what_ground(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, "/api/chat-lists")
    assert (body["day"], body["by_consent"], body["by_moderation"]) == (FRI, 1, 1)
    assert body["channels"] == [
        {
            "channel_login": "alice",
            "channel_name": "Alice",
            "ground": "consent",
            "snapshots": 6,
            "first_read": "2026-11-27T20:00:00Z",
            "last_read": "2026-11-27T20:25:00Z",
        },
        {
            "channel_login": "dave_tv",
            "channel_name": "Dave_Tv",
            "ground": "moderation",
            "snapshots": 12,
            "first_read": "2026-11-27T20:00:00Z",
            "last_read": "2026-11-27T20:55:00Z",
        },
    ]
    thursday = await get(client_for, census, f"/api/chat-lists?day={THU}")
    # the manifests of Thursday name no ground: nothing is claimed
    assert (thursday["by_consent"], thursday["by_moderation"], thursday["channels"]) == (0, 0, [])


async def test_followers_ranking_by_day_and_week(
    census: Settings, client_for: ClientFactory
) -> None:
    body = await get(client_for, census, "/api/followers")
    assert (body["day"], body["window_days"]) == (FRI, 1)
    assert [
        (c["channel_login"], c["followers"], c["gained"], c["gained_since"])
        for c in body["channels"]
    ] == [
        ("alice", 5000, 100, "2026-11-26T21:00:00Z"),
        ("dave_tv", 800, 0, "2026-11-27T20:00:00Z"),  # ties: the larger total first
        ("carol", 300, 0, "2026-11-27T00:00:00Z"),
    ]
    week = await get(client_for, census, "/api/followers?window=7&limit=1")
    assert [(c["channel_login"], c["gained"]) for c in week["channels"]] == [("alice", 100)]
    for bad in ("window=3", "limit=0", "day=2026-13-01"):
        response = await raw_get(client_for, census, f"/api/followers?{bad}")
        assert 400 <= response.status_code < 500
