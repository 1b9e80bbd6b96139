"""The simulated Twitch over real HTTP on 127.0.0.1, against the hand-made FakeWorld.

Every route, Twitch's bodies and status codes, paging that neither drops nor repeats an
item while the clock stands still, the 401/403 paths, the Twitch CLI mock auth shapes,
the clock and ground-truth routes. A few checks also run in process (ASGI transport).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from streamcensus.clock import SimClock
from streamcensus.simulator.api import create_app
from streamcensus.simulator.protocol import StreamRow, World
from streamcensus.simulator.server import SimulatorHandle

from .fake_world import CHANNELS, START, TICK, FakeWorld, chatter_ids

StartSimulator = Callable[..., SimulatorHandle]
CID = "test-client"
SCOPE = "moderator:read:chatters"
LIVE_AT_START = ["1", "2", "3", "4", "5", "6", "7"]  # by viewers; night_owl is off on even ticks


class Api:
    """A small Helix caller over one httpx client."""

    def __init__(self, sim: SimulatorHandle, client: httpx.Client) -> None:
        self.sim = sim
        self.http = client

    def app_token(self, client_id: str = CID) -> str:
        r = self.http.post(
            f"{self.sim.auth_url}/token",
            params={
                "client_id": client_id,
                "client_secret": "x",
                "grant_type": "client_credentials",
            },
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def user_grant(self, user_id: str, scope: str = SCOPE, client_id: str = CID) -> dict[str, Any]:
        r = self.http.post(
            f"{self.sim.base_url}/auth/authorize",
            params={
                "client_id": client_id,
                "client_secret": "x",
                "grant_type": "user_token",
                "user_id": user_id,
                "scope": scope,
            },
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def get(
        self, path: str, token: str | None, client_id: str | None = CID, **params: Any
    ) -> httpx.Response:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if client_id is not None:
            headers["Client-Id"] = client_id
        return self.http.get(f"{self.sim.helix_url}{path}", params=params, headers=headers)

    def clock(self, **body: Any) -> httpx.Response:
        return self.http.post(f"{self.sim.base_url}/_sim/clock", json=body)


@pytest.fixture
def api(running_simulator: StartSimulator) -> Iterator[Api]:
    sim = running_simulator()
    with httpx.Client(timeout=10) as client:
        yield Api(sim, client)


def ids(response: httpx.Response, key: str = "user_id") -> list[str]:
    return [item[key] for item in response.json()["data"]]


# --- OAuth -----------------------------------------------------------------------------------


def test_client_credentials_grant_and_validate(api: Api) -> None:
    r = api.http.post(
        f"{api.sim.auth_url}/token",
        data={"client_id": CID, "client_secret": "x", "grant_type": "client_credentials"},
    )
    assert r.status_code == 200
    grant = r.json()
    assert set(grant) == {"access_token", "expires_in", "token_type"}
    assert grant["expires_in"] == 4 * 3600
    assert grant["token_type"] == "bearer"
    assert len(grant["access_token"]) == 30
    v = api.http.get(
        f"{api.sim.auth_url}/validate", headers={"Authorization": f"OAuth {grant['access_token']}"}
    )
    assert v.json() == {"client_id": CID, "scopes": [], "expires_in": 14400}


def test_user_token_validates_with_login_and_user_id(api: Api) -> None:
    grant = api.user_grant("500", scope=f"{SCOPE} user:read:chat")
    assert set(grant) == {"access_token", "refresh_token", "expires_in", "scope", "token_type"}
    assert grant["scope"] == [SCOPE, "user:read:chat"]
    v = api.http.get(
        f"{api.sim.auth_url}/validate", headers={"Authorization": f"OAuth {grant['access_token']}"}
    )
    assert v.json() == {
        "client_id": CID,
        "login": "streamcensus_operator",
        "user_id": "500",
        "scopes": [SCOPE, "user:read:chat"],
        "expires_in": 14400,
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing authorization token"),
        ("OAuth nope", "invalid access token"),
        ("Basic abc", "invalid access token"),
    ],
)
def test_validate_refuses_bad_tokens(api: Api, header: str | None, message: str) -> None:
    headers = {} if header is None else {"Authorization": header}
    r = api.http.get(f"{api.sim.auth_url}/validate", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"status": 401, "message": message}


def test_twitch_cli_mock_auth_shapes(api: Api) -> None:
    r = api.http.post(
        f"{api.sim.base_url}/auth/token",
        params={"client_id": CID, "client_secret": "x", "grant_type": "client_credentials"},
    )
    assert r.status_code == 200
    grant = r.json()
    assert grant == {
        "access_token": grant["access_token"],
        "refresh_token": "",
        "expires_in": 14400,
        "scope": [],
        "token_type": "bearer",
    }
    assert api.get("/streams", grant["access_token"]).status_code == 200
    missing = api.http.post(
        f"{api.sim.base_url}/auth/authorize",
        params={"client_id": CID, "client_secret": "x", "user_id": "500"},
    )
    assert missing.status_code == 400
    assert missing.json() == {"status": 400, "message": "missing required parameter"}
    unknown = api.http.post(
        f"{api.sim.base_url}/auth/authorize",
        params={
            "client_id": CID,
            "client_secret": "x",
            "grant_type": "user_token",
            "user_id": "999999",
        },
    )
    assert unknown.status_code == 400
    assert unknown.json() == {"status": 400, "message": "User ID invalid"}


def test_refresh_and_revoke(api: Api) -> None:
    grant = api.user_grant("500")
    r = api.http.post(
        f"{api.sim.auth_url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
            "client_id": CID,
            "client_secret": "x",
        },
    )
    assert r.status_code == 200
    fresh = r.json()
    assert fresh["access_token"] != grant["access_token"]
    assert fresh["scope"] == [SCOPE]
    assert api.get("/users", grant["access_token"]).status_code == 401
    assert ids(api.get("/users", fresh["access_token"]), "id") == ["500"]
    reused = api.http.post(
        f"{api.sim.auth_url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
            "client_id": CID,
            "client_secret": "x",
        },
    )
    assert reused.json() == {"status": 400, "message": "Invalid refresh token"}
    revoke = api.http.post(
        f"{api.sim.auth_url}/revoke", data={"client_id": CID, "token": fresh["access_token"]}
    )
    assert revoke.status_code == 200
    assert api.get("/users", fresh["access_token"]).status_code == 401


def test_unsupported_grant(api: Api) -> None:
    r = api.http.post(f"{api.sim.auth_url}/token", params={"client_id": CID, "grant_type": "magic"})
    assert r.status_code == 400
    assert r.json() == {"status": 400, "message": "unsupported grant type"}


def test_required_client_credentials(running_simulator: StartSimulator) -> None:
    sim = running_simulator(require_client_id="good", require_client_secret="s3cret")
    with httpx.Client(timeout=10) as client:

        def grant(cid: str, secret: str) -> httpx.Response:
            return client.post(
                f"{sim.auth_url}/token",
                params={
                    "client_id": cid,
                    "client_secret": secret,
                    "grant_type": "client_credentials",
                },
            )

        assert grant("bad", "s3cret").json() == {"status": 400, "message": "invalid client"}
        wrong_secret = grant("good", "nope")
        assert wrong_secret.status_code == 403
        assert wrong_secret.json() == {"status": 403, "message": "invalid client secret"}
        assert grant("good", "s3cret").status_code == 200


# --- Helix gateway: 401s ---------------------------------------------------------------------


def test_helix_401s(api: Api) -> None:
    token = api.app_token()
    cases = [
        (api.get("/streams", None), "OAuth token is missing"),
        (api.get("/streams", "not-a-token"), "Invalid OAuth token"),
        (api.get("/streams", token, client_id=None), "Client-Id header required"),
        (
            api.get("/streams", token, client_id="someone-else"),
            "Client ID and OAuth token do not match",
        ),
        (
            api.http.get(
                f"{api.sim.helix_url}/streams",
                headers={"Authorization": f"OAuth {token}", "Client-Id": CID},
            ),
            "Invalid OAuth token",
        ),
    ]
    for response, message in cases:
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthorized", "status": 401, "message": message}
        assert "Ratelimit-Limit" not in response.headers


def test_token_expires_on_the_simulator_clock(running_simulator: StartSimulator) -> None:
    sim = running_simulator(token_ttl=100)
    with httpx.Client(timeout=10) as client:
        api = Api(sim, client)
        token = api.app_token()
        assert api.get("/streams", token).status_code == 200
        api.clock(advance=99)
        assert api.get("/streams", token).status_code == 200
        api.clock(advance=1)
        expired = api.get("/streams", token)
        assert expired.status_code == 401
        assert expired.json()["message"] == "Invalid OAuth token"
        v = client.get(f"{sim.auth_url}/validate", headers={"Authorization": f"OAuth {token}"})
        assert v.status_code == 401


# --- Get Streams -----------------------------------------------------------------------------


def test_streams_default_page_sorted_by_viewers(api: Api) -> None:
    r = api.get("/streams", api.app_token())
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert ids(r) == LIVE_AT_START
    assert [s["viewer_count"] for s in body["data"]] == [9000, 7000, 6000, 5000, 4000, 3000, 2000]
    assert body["pagination"] == {}
    assert body["data"][0] == {
        "id": "40000000001",
        "user_id": "1",
        "user_login": "alpha_fr",
        "user_name": "Alpha_FR",
        "game_id": "21779",
        "game_name": "League of Legends",
        "type": "live",
        "title": "Live with Alpha_FR ✨",
        "viewer_count": 9000,
        "started_at": "2026-01-01T11:00:00Z",
        "language": "fr",
        "thumbnail_url": "https://static-cdn.jtvnw.net/previews-ttv/live_user_alpha_fr-{width}x{height}.jpg",
        "tag_ids": [],
        "tags": ["FR", "Chill"],
        "is_mature": False,
    }


def test_streams_filters(api: Api) -> None:
    token = api.app_token()
    assert ids(api.get("/streams", token, language="fr")) == ["1", "2", "4", "6", "7"]
    assert ids(api.get("/streams", token, language=["FR", "de"])) == ["1", "2", "4", "5", "6", "7"]
    assert ids(api.get("/streams", token, game_id="509658")) == ["2", "3", "6"]
    assert ids(api.get("/streams", token, user_login=["Charlie_EN", "nobody"], user_id="5")) == [
        "3",
        "5",
    ]
    assert ids(api.get("/streams", token, user_login="offline_chan")) == []
    assert ids(api.get("/streams", token, language="fr", game_id="32982", type="live")) == [
        "4",
        "7",
    ]


def test_streams_paging_neither_drops_nor_repeats(api: Api) -> None:
    token = api.app_token()
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"first": 2} | ({"after": cursor} if cursor else {})
        r = api.get("/streams", token, **params)
        seen += ids(r)
        cursor = r.json()["pagination"].get("cursor")
        if cursor is None:
            assert len(r.json()["data"]) == 1
            break
        api.clock(advance=10)  # time flows, but stays inside the tick
    assert seen == LIVE_AT_START
    assert api.sim.clock.time() == START + 30
    back = api.get(
        "/streams",
        token,
        first=3,
        after=api.get("/streams", token, first=3).json()["pagination"]["cursor"],
    )
    assert ids(back) == ["4", "5", "6"]
    before = api.get("/streams", token, first=2, before=back.json()["pagination"]["cursor"])
    assert ids(before) == ["5", "6"]


def test_streams_follow_the_tick(api: Api) -> None:
    token = api.app_token()
    api.clock(advance=TICK)
    assert ids(api.get("/streams", token)) == [*LIVE_AT_START, "8"]


@pytest.mark.parametrize(
    "params",
    [
        {"first": 0},
        {"first": 101},
        {"first": "ten"},
        {"type": "vodcast"},
        {"after": "%%%"},
        {"after": "eyJrIjoiYyJ9"},
        {"after": "eyJrIjoicyIsIm8iOiJ4In0"},
        {"before": "eyJrIjoicyIsIm8iOi0xfQ"},
        {"user_id": [str(i) for i in range(101)]},
    ],
)
def test_streams_bad_parameters(api: Api, params: dict[str, Any]) -> None:
    r = api.get("/streams", api.app_token(), **params)
    assert r.status_code == 400
    assert r.json()["error"] == "Bad Request"
    assert r.json()["status"] == 400
    assert r.headers["Ratelimit-Remaining"] == "799"


# --- Get Users -------------------------------------------------------------------------------


def test_users(api: Api) -> None:
    token = api.app_token()
    r = api.get("/users", token, id=["1", "424242"], login="Viewer_1100")
    assert ids(r, "id") == ["1", "1100"]
    viewer = r.json()["data"][1]
    assert viewer["login"] == "viewer_1100"
    assert viewer["display_name"] == "Zoé_1100"
    assert viewer["created_at"] == "2019-02-12T19:33:20Z"
    assert set(viewer) == {
        "id",
        "login",
        "display_name",
        "type",
        "broadcaster_type",
        "description",
        "profile_image_url",
        "offline_image_url",
        "view_count",
        "created_at",
    }
    none = api.get("/users", token)
    assert none.status_code == 400
    assert none.json()["message"] == "Must provide an ID, Login or OAuth Token"
    assert api.get("/users", token, id=[str(i) for i in range(101)]).status_code == 400
    me = api.get("/users", api.user_grant("501")["access_token"])
    assert ids(me, "login") == ["helper_mod"]


# --- Get Chatters ----------------------------------------------------------------------------


def test_chatters_paging_neither_drops_nor_repeats(api: Api) -> None:
    token = api.user_grant("500")["access_token"]
    seen: list[int] = []
    cursor = None
    sizes = []
    for _ in range(10):
        params = {"broadcaster_id": "1", "moderator_id": "500", "first": 1000}
        r = api.get("/chat/chatters", token, **(params | ({"after": cursor} if cursor else {})))
        assert r.status_code == 200
        body = r.json()
        assert body["total"] == 2500
        sizes.append(len(body["data"]))
        seen += [int(u) for u in ids(r)]
        cursor = body["pagination"].get("cursor")
        if cursor is None:
            break
    assert sizes == [1000, 1000, 500]
    assert seen == chatter_ids(CHANNELS[0]).tolist()
    assert len(set(seen)) == 2500


def test_chatters_items_and_default_page(api: Api) -> None:
    token = api.user_grant("500")["access_token"]
    r = api.get("/chat/chatters", token, broadcaster_id="1", moderator_id="500")
    body = r.json()
    assert len(body["data"]) == 100
    assert body["data"][0] == {
        "user_id": "1001",
        "user_login": "viewer_1001",
        "user_name": "Viewer_1001",
    }
    other = api.get("/chat/chatters", token, broadcaster_id="2", moderator_id="500").json()
    names = {c["user_id"]: c["user_name"] for c in other["data"]}
    assert names["1100"] == "Zoé_1100"
    assert set(body) == {"data", "total", "pagination"}


def test_chatters_permitted_readers(api: Api) -> None:
    helper = api.user_grant("501")["access_token"]
    assert (
        api.get("/chat/chatters", helper, broadcaster_id="1", moderator_id="501").json()["total"]
        == 2500
    )
    own = api.user_grant("2")["access_token"]
    r = api.get("/chat/chatters", own, broadcaster_id="2", moderator_id="2")
    assert r.json()["total"] == 40
    assert api.get("/chat/chatters", own, broadcaster_id="6", moderator_id="2").status_code == 403


def test_chatters_offline_channel_is_empty(api: Api) -> None:
    token = api.user_grant("500")["access_token"]
    for broadcaster in ("9", "8"):  # never live; live on odd ticks only
        r = api.get("/chat/chatters", token, broadcaster_id=broadcaster, moderator_id="500")
        assert r.status_code == 200
        assert r.json() == {"data": [], "total": 0, "pagination": {}}
    api.clock(advance=TICK)
    assert (
        api.get("/chat/chatters", token, broadcaster_id="8", moderator_id="500").json()["total"]
        == 5
    )


def test_chatters_errors(api: Api) -> None:
    operator = api.user_grant("500")["access_token"]
    helper = api.user_grant("501")["access_token"]
    unscoped = api.user_grant("500", scope="user:read:chat")["access_token"]
    app = api.app_token()

    def status(token: str, **params: Any) -> tuple[int, str]:
        r = api.get("/chat/chatters", token, **params)
        return r.status_code, r.json()["message"]

    full = {"broadcaster_id": "1", "moderator_id": "500"}
    assert status(operator, moderator_id="500") == (
        400,
        "The broadcaster_id query parameter is required.",
    )
    assert status(operator, broadcaster_id="1") == (
        400,
        "The moderator_id query parameter is required.",
    )
    assert status(operator, **full, first=1001)[0] == 400
    assert status(operator, **full, first=0)[0] == 400
    assert status(operator, broadcaster_id="424242", moderator_id="500")[0] == 400
    assert status(app, **full) == (
        401,
        "The Authorization header is required and must contain a user access token.",
    )
    assert status(unscoped, **full) == (401, "Missing scope: moderator:read:chatters")
    assert status(helper, **full) == (
        401,
        "The ID in the moderator_id query parameter must match the user ID in the access token.",
    )
    not_mod = (
        "403",
        "The user in the moderator_id query parameter is not one of the broadcaster's moderators.",
    )
    assert status(operator, broadcaster_id="7", moderator_id="500") == (403, not_mod[1])
    assert status(helper, broadcaster_id="2", moderator_id="501") == (403, not_mod[1])
    r = api.get("/chat/chatters", operator, broadcaster_id="7", moderator_id="500")
    assert r.json()["error"] == "Forbidden"
    assert "Ratelimit-Remaining" in r.headers


# --- /_sim -----------------------------------------------------------------------------------


def test_clock_routes(api: Api) -> None:
    state = api.http.get(f"{api.sim.base_url}/_sim/clock").json()
    assert state == {"epoch": START, "speed": 0.0, "now": "2026-01-01T12:00:00+00:00"}
    assert api.clock(set="2026-02-01T18:30:00Z").json()["epoch"] == 1_769_970_600.0
    assert api.clock(set=START, advance=90).json()["epoch"] == START + 90
    assert api.clock(advance=10).json()["epoch"] == START + 100
    assert api.clock(speed=0).json()["speed"] == 0.0
    assert api.sim.clock.time() == START + 100


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"set": "yesterday"}, "set: not an ISO-8601 time: 'yesterday'"),
        ({"advance": -1}, "advance: must be a finite number >= 0, got -1"),
        ({"advance": True}, "advance: expected a number, got True"),
        ({"speed": "fast"}, "speed: expected a number, got 'fast'"),
        ({"rewind": 3}, "unknown fields ['rewind']: use set, advance, speed"),
        ([1, 2], "the body must be a JSON object"),
    ],
)
def test_clock_route_validation(api: Api, body: Any, message: str) -> None:
    r = api.http.post(f"{api.sim.base_url}/_sim/clock", json=body)
    assert r.status_code == 400
    assert r.json() == {"error": "Bad Request", "status": 400, "message": message}
    assert api.sim.clock.time() == START


def test_truth_routes(api: Api) -> None:
    base = f"{api.sim.base_url}/_sim"
    now = api.http.get(f"{base}/truth/streams").json()
    assert now["total"] == 7
    assert [s["user_id"] for s in now["data"]] == LIVE_AT_START
    odd = api.http.get(f"{base}/truth/streams", params={"at": "2026-01-01T12:01:00Z"}).json()
    assert [s["user_id"] for s in odd["data"]] == [*LIVE_AT_START, "8"]
    chat = api.http.get(f"{base}/truth/chatters/2").json()
    assert chat["live"] is True
    assert chat["total"] == 40
    assert [int(c["user_id"]) for c in chat["data"]] == chatter_ids(CHANNELS[1]).tolist()
    assert chat["data"][0]["user_login"] == f"viewer_{chat['data'][0]['user_id']}"
    off = api.http.get(f"{base}/truth/chatters/9", params={"at": str(START)}).json()
    assert (off["live"], off["total"], off["data"]) == (False, 0, [])
    assert api.http.get(f"{base}/truth/streams", params={"at": "soon"}).status_code == 400
    info = api.http.get(f"{base}/info").json()
    chat = info.pop("chat")  # the chat server's addresses (tests/simulator/test_chat_server.py)
    assert chat["irc"].startswith("127.0.0.1:") and chat["websocket"].startswith("ws://127.0.0.1:")
    assert info == {
        "scale": "fake",
        "seed": 7,
        "tick_seconds": 60,
        "operator": {"id": "500", "login": "streamcensus_operator"},
        "rate_limit": {"points": 800, "window_seconds": 60.0},
        "token_ttl_seconds": 14400.0,
    }


def test_unknown_route_has_twitch_error_body(api: Api) -> None:
    r = api.get("/nothing-here", api.app_token())
    assert r.status_code == 404
    assert r.json() == {"error": "Not Found", "status": 404, "message": "Not Found"}


# --- in process (ASGI) -----------------------------------------------------------------------


async def test_in_process_snapshot_is_computed_once_per_tick() -> None:
    world = FakeWorld()
    clock = SimClock(START, speed=0)
    app = create_app(world, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        grant = (
            await client.post(
                "/oauth2/token",
                params={"client_id": CID, "client_secret": "x", "grant_type": "client_credentials"},
            )
        ).json()
        headers = {"Authorization": f"Bearer {grant['access_token']}", "Client-Id": CID}
        for first in (1, 2, 3, 100):
            r = await client.get("/helix/streams", params={"first": first}, headers=headers)
            assert len(r.json()["data"]) == min(first, 7)
        assert world.calls["live_streams"] == 1
        clock.advance(TICK)
        r = await client.get("/helix/streams", headers=headers)
        assert len(r.json()["data"]) == 8
        assert world.calls["live_streams"] == 2
        assert r.headers["Ratelimit-Remaining"] == "799"  # a minute refilled the bucket
    assert np.array_equal(chatter_ids(CHANNELS[0])[:3], [1001, 1003, 1005])


# --- the population world at small scale -------------------------------------------------------

EVENING = 1_795_809_600.0  # 2026-11-27T20:00:00Z


@pytest.fixture
def small_api(running_simulator: StartSimulator, small_world: World) -> Iterator[Api]:
    sim = running_simulator(small_world, start=EVENING)
    with httpx.Client(timeout=30) as client:
        yield Api(sim, client)


def walk(api: Api, path: str, token: str, first: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged Helix listing, following cursors (bounded)."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        page = api.get(path, token, first=first, **(params | ({"after": cursor} if cursor else {})))
        assert page.status_code == 200, page.text
        items += page.json()["data"]
        cursor = page.json()["pagination"].get("cursor")
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


def test_population_streams_match_the_ground_truth(small_api: Api) -> None:
    token = small_api.app_token()
    truth = small_api.http.get(f"{small_api.sim.base_url}/_sim/truth/streams").json()["data"]
    assert len(truth) > 50
    listed = walk(small_api, "/streams", token, 37)
    assert listed == truth
    counts = [s["viewer_count"] for s in listed]
    assert counts == sorted(counts, reverse=True)
    french = walk(small_api, "/streams", token, 100, language="fr")
    assert french == [s for s in truth if s["language"] == "fr"]
    assert len({s["language"] for s in truth}) > 1
    assert ids(small_api.get("/streams", token, user_login=truth[3]["user_login"].upper())) == [
        truth[3]["user_id"]
    ]


def test_population_chatters_match_the_ground_truth(small_api: Api, small_world: World) -> None:
    operator = small_world.operator()
    token = small_api.user_grant(operator.id)["access_token"]
    truth_streams = small_api.http.get(f"{small_api.sim.base_url}/_sim/truth/streams").json()
    for stream in truth_streams["data"][:3]:
        channel = stream["user_id"]
        truth = small_api.http.get(f"{small_api.sim.base_url}/_sim/truth/chatters/{channel}").json()
        listed = walk(
            small_api, "/chat/chatters", token, 50, broadcaster_id=channel, moderator_id=operator.id
        )
        assert [(c["user_id"], c["user_login"]) for c in listed] == [
            (c["user_id"], c["user_login"]) for c in truth["data"]
        ]
        assert len(listed) == truth["total"] > 50


def test_population_consent_paths(small_api: Api, small_world: World) -> None:
    top = small_api.http.get(f"{small_api.sim.base_url}/_sim/truth/streams").json()["data"][0]
    channel = top["user_id"]
    chat = small_api.http.get(f"{small_api.sim.base_url}/_sim/truth/chatters/{channel}").json()
    viewer = next(
        c["user_id"]
        for c in chat["data"]
        if c["user_id"] != channel and not small_world.can_read_chatters(c["user_id"], channel)
    )
    as_viewer = small_api.user_grant(viewer)["access_token"]
    denied = small_api.get("/chat/chatters", as_viewer, broadcaster_id=channel, moderator_id=viewer)
    assert denied.status_code == 403
    as_broadcaster = small_api.user_grant(channel)["access_token"]
    own = small_api.get(
        "/chat/chatters", as_broadcaster, broadcaster_id=channel, moderator_id=channel
    )
    assert own.json()["total"] == chat["total"]


async def test_in_process_errors_keep_twitch_bodies() -> None:
    class Broken(FakeWorld):
        def live_streams(self, t: float) -> list[StreamRow]:
            raise RuntimeError("model failure")

    app = create_app(Broken(), SimClock(START, speed=0))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        grant = (
            await client.post(
                "/auth/token",
                params={"client_id": CID, "client_secret": "x", "grant_type": "client_credentials"},
            )
        ).json()
        headers = {"Authorization": f"Bearer {grant['access_token']}", "Client-Id": CID}
        broken = await client.get("/helix/streams", headers=headers)
        assert broken.status_code == 500
        assert broken.json() == {
            "error": "Internal Server Error",
            "status": 500,
            "message": "Internal Server Error",
        }
        wrong_method = await client.post("/helix/streams", headers=headers)
        assert wrong_method.status_code == 405
        assert wrong_method.json()["error"] == "Method Not Allowed"
        spaced = await client.get(
            "/_sim/truth/chatters/2", params={"at": "2026-01-01T12:00:00 00:00"}
        )
        assert spaced.json()["total"] == 40


# --- the command -----------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_simulator_command_serves_until_interrupted() -> None:
    command = [
        sys.executable,
        "-m",
        "streamcensus",
        "simulator",
        "--port",
        "0",
        "--speed",
        "0",
        "--start",
        "2026-11-27T20:00:00Z",
        "--rate-limit",
        "5",
        "--seed",
        "3",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first_line = proc.stdout.readline()
        found = re.search(r"on (http://127\.0\.0\.1:\d+):", first_line)
        assert found, first_line
        base = found.group(1)
        info = httpx.get(f"{base}/_sim/info", timeout=10).json()
        assert (info["scale"], info["seed"], info["rate_limit"]["points"]) == ("small", 3, 5)
        assert httpx.get(f"{base}/_sim/clock").json()["now"] == "2026-11-27T20:00:00+00:00"
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode in (0, 130), stderr
    assert "Traceback" not in stderr
