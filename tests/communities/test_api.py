"""`/api/communities`, a channel's community history and the map's colours, over the
hand-made three-day lake (audience.py)."""

from __future__ import annotations

from apiclient import client, get
from communities.audience import DAYS, X, Y
from streamcensus.config import Settings


async def test_communities_of_a_day(scenes: Settings) -> None:
    body = await get(scenes, f"/api/communities?day={DAYS[2]}&window=30&signal=chat_list")
    assert (body["day"], body["window_days"], body["signal"]) == (str(DAYS[2]), 30, "chat_list")
    assert body["channels"] == 11 and body["signals"] == ["chat_list"]
    found = {
        c["community_id"]: (c["label"], c["channels"], c["games"], c["since"])
        for c in body["communities"]
    }
    assert found == {
        1: ("Minecraft", 4, ["Minecraft"], str(DAYS[0])),
        2: ("League of Legends", 4, ["League of Legends"], str(DAYS[0])),
        3: ("Chess", 3, ["Chess"], str(DAYS[2])),
    }
    first = body["communities"][0]
    assert {m["channel_login"] for m in first["members"]} == {f"ch{c}" for c in X}
    # members most inside their community first: 3001's published bridge puts it last
    assert first["members"][-1]["channel_login"] == "ch3001"
    assert first["members"][0]["inside_share"] == 1.0 > first["members"][-1]["inside_share"]
    assert 0 < body["modularity"] < 1


async def test_limit_lists_fewer_members(scenes: Settings) -> None:
    body = await get(scenes, f"/api/communities?day={DAYS[0]}&signal=chat_list&limit=2")
    assert [len(c["members"]) for c in body["communities"]] == [2, 2]
    assert [c["channels"] for c in body["communities"]] == [4, 4]


async def test_a_signal_without_communities_is_empty(scenes: Settings) -> None:
    body = await get(scenes, f"/api/communities?day={DAYS[0]}&signal=chat_activity")
    assert body["communities"] == [] and body["modularity"] is None
    assert body["signals"] == ["chat_list"]


async def test_a_channels_community_over_the_weeks(scenes: Settings) -> None:
    body = await get(scenes, f"/api/communities/ch3012?day={DAYS[2]}&signal=chat_list")
    assert body["channel_login"] == "ch3012"
    assert [(d["day"], d["community_id"], d["label"]) for d in body["days"]] == [
        (str(day), 2, "League of Legends") for day in DAYS
    ]


async def test_bad_input_is_a_4xx_with_a_message(scenes: Settings) -> None:
    for url, status in [
        ("/api/communities?window=3", 400),
        ("/api/communities?window=x", 400),
        ("/api/communities?signal=everyone", 400),
        ("/api/communities?limit=0", 400),
        ("/api/communities?day=2026-13-01", 400),
        ("/api/communities?day=2020-01-01", 404),
        ("/api/communities/no%20such", 400),
        ("/api/communities/nobody_here", 404),
        ("/api/communities/ch3001?window=2", 400),
        ("/api/communities/ch3001?day=yesterday", 400),
    ]:
        async with client(scenes) as c:
            response = await c.get(url)
        assert response.status_code == status, (url, response.text)
        assert response.json()["detail"], url


async def test_the_map_colours_channels_by_community(scenes: Settings) -> None:
    body = await get(scenes, f"/api/map?day={DAYS[1]}&window=7&signal=chat_list")
    by_login = {
        n["channel_login"]: (n["community_id"], n["community_label"]) for n in body["nodes"]
    }
    assert {by_login[f"ch{c}"] for c in X} == {(1, "Minecraft")}
    assert {by_login[f"ch{c}"] for c in Y} == {(2, "League of Legends")}


async def test_openapi_documents_the_routes(scenes: Settings) -> None:
    body = await get(scenes, "/api/openapi.json")
    assert {"/api/communities", "/api/communities/{channel}"} <= set(body["paths"])
    params = {p["name"] for p in body["paths"]["/api/communities"]["get"]["parameters"]}
    assert params == {"day", "window", "signal", "limit"}
