"""A general-purpose Helix client (pyTwitchAPI) works against the simulator unchanged.

It is given only the simulator's base URLs; it fetches its own app token, validates a user
token, pages through streams and chatters with its own cursor handling, and refreshes a
token on 401 by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from twitchAPI.helper import first
from twitchAPI.twitch import Twitch
from twitchAPI.type import AuthScope

from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle

from .fake_world import CHANNELS, chatter_ids

StartSimulator = Callable[..., SimulatorHandle]
CLIENT_ID = "pytwitchapi-client"
SECRET = "pytwitchapi-secret"


def user_grant(sim: SimulatorHandle, user_id: str) -> dict[str, Any]:
    """A user token from the Twitch CLI mock-API route, as a tool would fetch it."""
    r = httpx.post(
        f"{sim.base_url}/auth/authorize",
        params={
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "grant_type": "user_token",
            "user_id": user_id,
            "scope": AuthScope.MODERATOR_READ_CHATTERS.value,
        },
    )
    r.raise_for_status()
    grant: dict[str, Any] = r.json()
    return grant


async def connect(sim: SimulatorHandle) -> Twitch:
    return await Twitch(
        CLIENT_ID,
        SECRET,
        base_url=sim.helix_url + "/",
        auth_base_url=sim.auth_url + "/",
    )


async def test_lists_streams_users_and_chatters(running_simulator: StartSimulator) -> None:
    sim = running_simulator(require_client_id=CLIENT_ID, require_client_secret=SECRET)
    twitch = await connect(sim)
    try:
        streams = [s async for s in twitch.get_streams(language=["fr"], first=2)]
        assert [s.user_login for s in streams] == [
            "alpha_fr",
            "bravo_fr",
            "delta_fr",
            "foxtrot_fr",
            "closed_chan",
        ]
        top = streams[0]
        assert top.viewer_count == 9000
        assert top.started_at.isoformat() == "2026-01-01T11:00:00+00:00"
        assert top.tags == ["FR", "Chill"]

        users = [u async for u in twitch.get_users(logins=["charlie_en", "viewer_1002"])]
        assert [(u.id, u.display_name) for u in users] == [
            ("3", "Charlie_EN"),
            ("1002", "Viewer_1002"),
        ]

        grant = user_grant(sim, "500")
        await twitch.set_user_authentication(
            grant["access_token"], [AuthScope.MODERATOR_READ_CHATTERS], grant["refresh_token"]
        )
        chatters = await twitch.get_chatters("1", "500", first=1000)
        assert chatters.total == 2500
        seen = [int(c.user_id) async for c in chatters]
        assert seen == chatter_ids(CHANNELS[0]).tolist()

        # The operator does not moderate closed_chan: pyTwitchAPI raises nothing on a 403
        # and hands back an object without data.
        denied = await twitch.get_chatters("7", "500")
        assert getattr(denied, "data", None) is None
        assert getattr(denied, "total", None) is None
    finally:
        await twitch.close()


async def test_refreshes_an_expired_user_token_by_itself(
    running_simulator: StartSimulator,
) -> None:
    sim = running_simulator(token_ttl=600)
    twitch = await connect(sim)
    try:
        grant = user_grant(sim, "500")
        await twitch.set_user_authentication(
            grant["access_token"], [AuthScope.MODERATOR_READ_CHATTERS], grant["refresh_token"]
        )
        sim.clock.advance(601)  # both tokens expire on the simulator clock
        chatters = await twitch.get_chatters("2", "500")
        assert chatters.total == 40
        assert twitch.get_user_auth_token() != grant["access_token"]
    finally:
        await twitch.close()


async def test_lists_a_population_world(
    running_simulator: StartSimulator, small_world: World
) -> None:
    evening = 1_795_809_600.0  # 2026-11-27T20:00:00Z
    sim = running_simulator(small_world, start=evening)
    truth = httpx.get(f"{sim.base_url}/_sim/truth/streams").json()["data"]
    twitch = await connect(sim)
    try:
        streams = [s async for s in twitch.get_streams(language=["fr"], first=100)]
        assert [s.user_id for s in streams] == [
            s["user_id"] for s in truth if s["language"] == "fr"
        ]
        assert len(streams) > 10
        operator = small_world.operator()
        grant = user_grant(sim, operator.id)
        await twitch.set_user_authentication(
            grant["access_token"], [AuthScope.MODERATOR_READ_CHATTERS], grant["refresh_token"]
        )
        top = await first(twitch.get_streams(language=["fr"], first=1))
        assert top is not None
        listed = await twitch.get_chatters(top.user_id, operator.id, first=1000)
        seen = [c.user_login async for c in listed]
        expected = httpx.get(f"{sim.base_url}/_sim/truth/chatters/{top.user_id}").json()
        assert seen == [c["user_login"] for c in expected["data"]]
        assert listed.total == expected["total"] > 0
    finally:
        await twitch.close()
