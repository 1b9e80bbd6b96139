"""The client's user-token calls over real HTTP against the simulator: the device code flow
(every answer), refresh rotation, validation, revocation, followers, moderated channels."""

from __future__ import annotations

import email.utils
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from simulator.fake_world import START
from streamcensus.clock import SimClock
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.tokens.login import ClockSkew, check_clock_skew
from streamcensus.twitch import (
    AuthorizationDenied,
    DeviceCode,
    DeviceCodeExpired,
    DeviceFlowEnded,
    HelixClient,
    HelixConfig,
    RefreshTokenRejected,
    Unauthorized,
    UserGrant,
)

SCOPES = ("moderator:read:chatters", "user:read:moderated_channels")


class StaticToken:
    """A bare user token (no refresh), as a `UserTokenSource`."""

    def __init__(self, user_id: str, value: str) -> None:
        self._user_id = user_id
        self.value = value

    @property
    def user_id(self) -> str:
        return self._user_id

    async def access_token(self) -> str:
        return self.value

    async def renew(self, stale: str) -> bool:
        return False


class StutterClock(SimClock):
    """The simulator's standing clock, except that the `stutter`-th sleep is 1 s short...
    of a whole interval: the poll after it comes too soon."""

    def __init__(self, shared: SimClock, stutter: int) -> None:
        super().__init__(shared.time(), speed=0)
        self.shared = shared
        self.sleeps = 0
        self.stutter = stutter

    def time(self) -> float:
        return self.shared.time()

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.shared.advance(1.0 if self.sleeps == self.stutter else seconds)


@pytest.fixture
async def twitch(
    running_simulator: Callable[..., SimulatorHandle],
) -> AsyncIterator[tuple[HelixClient, SimulatorHandle]]:
    handle = running_simulator()
    config = HelixConfig(handle.helix_url, handle.auth_url, "cid", "secret", backoff_base=0.01)
    async with HelixClient(config, clock=handle.clock) as client:
        yield client, handle


def approve(
    handle: SimulatorHandle, device: DeviceCode, login: str, action: str = "approve"
) -> None:
    body = {"user_code": device.user_code, "login": login, "action": action}
    response = httpx.post(f"{handle.base_url}/_sim/auth/device", json=body)
    assert response.status_code == 200, response.text


async def grant_for(client: HelixClient, handle: SimulatorHandle, login: str) -> UserGrant:
    device = await client.oauth.start_device_flow(SCOPES)
    approve(handle, device, login)
    return await client.oauth.wait_for_device_grant(device, SCOPES)


async def test_device_flow_polls_through_pending_and_slow_down(
    twitch: tuple[HelixClient, SimulatorHandle],
) -> None:
    client, handle = twitch
    device = await client.oauth.start_device_flow(SCOPES)
    assert (device.expires_in, device.interval) == (1800, 5)
    assert "device_code" not in repr(device)
    shared = handle.clock
    stutter = StutterClock(shared, stutter=2)
    client.oauth._clock = stutter  # the second wait is cut short: Twitch answers slow_down
    answers: list[tuple[str, int]] = []

    def seen(answer: str, interval: int) -> None:
        answers.append((answer, interval))
        if answer == "slow_down":
            approve(handle, device, "streamcensus_operator")

    began = shared.time()
    grant = await client.oauth.wait_for_device_grant(device, SCOPES, on_poll=seen)
    assert answers == [("authorization_pending", 5), ("slow_down", 10)]
    assert shared.time() - began == 5 + 1 + 10  # waits on the simulated clock only
    assert grant.scopes == SCOPES and grant.expires_in == 4 * 3600
    assert grant.refresh_token and "access_token" not in repr(grant)
    info = await client.oauth.validate(grant.access_token)
    assert (info.login, info.user_id, info.client_id) == ("streamcensus_operator", "500", "cid")


async def test_device_flow_denied_and_expired(
    twitch: tuple[HelixClient, SimulatorHandle],
) -> None:
    client, handle = twitch
    denied = await client.oauth.start_device_flow(SCOPES)
    approve(handle, denied, "", action="deny")
    with pytest.raises(AuthorizationDenied, match="declined"):
        await client.oauth.wait_for_device_grant(denied, SCOPES)
    late = await client.oauth.start_device_flow(SCOPES)
    with pytest.raises(DeviceCodeExpired, match="expired before it was approved"):
        await client.oauth.wait_for_device_grant(late, SCOPES)  # nobody answers: 1800 s pass
    assert handle.clock.time() >= START + 1800


async def test_device_flow_with_an_unknown_client(
    running_simulator: Callable[..., SimulatorHandle],
) -> None:
    handle = running_simulator(require_client_id="good")
    config = HelixConfig(handle.helix_url, handle.auth_url, "bad", "secret", max_attempts=1)
    async with HelixClient(config, clock=handle.clock) as client:
        with pytest.raises(DeviceFlowEnded, match=r"invalid client.*TWITCH_CLIENT_ID"):
            await client.oauth.start_device_flow(SCOPES)


async def test_refresh_rotation_and_reuse(twitch: tuple[HelixClient, SimulatorHandle]) -> None:
    client, handle = twitch
    first = await grant_for(client, handle, "streamcensus_operator")
    assert first.refresh_token is not None
    second = await client.oauth.refresh(first.refresh_token)
    assert second.refresh_token not in (None, first.refresh_token)
    with pytest.raises(RefreshTokenRejected, match="already used"):
        await client.oauth.refresh(first.refresh_token)
    assert client.stats.token_refreshes == 1
    assert await client.oauth.revoke(second.access_token) is True
    with pytest.raises(Unauthorized):
        await client.oauth.validate(second.access_token)
    assert await client.oauth.revoke(second.access_token) is False  # already gone


async def test_followers_total_and_moderated_channels(
    twitch: tuple[HelixClient, SimulatorHandle],
) -> None:
    client, handle = twitch
    grant = await grant_for(client, handle, "streamcensus_operator")
    lane = client.lane(StaticToken("500", grant.access_token))
    channels = await client.get_moderated_channels(lane)
    assert [c.broadcaster_id for c in channels] == ["1", "2", "3", "4", "5", "6", "8", "9"]
    assert channels[0].broadcaster_login == "alpha_fr"
    minutes = int((handle.clock.time() - START) // 60)
    assert await client.get_followers_total("4", lane) == 4000 + minutes
    other = client.lane(StaticToken("500", grant.access_token))
    assert other.pacer is not lane.pacer  # a bucket per lane


def test_clock_skew_is_one_line() -> None:
    class Oauth:
        server_date: float | None = None

    clock = SimClock(1_800_000_000.0, speed=0)
    oauth: Any = Oauth()
    check_clock_skew(oauth, clock)  # no Date header seen yet: nothing to compare
    oauth.server_date = clock.time() - 60
    check_clock_skew(oauth, clock)  # a minute is within the tolerance
    oauth.server_date = clock.time() - 3 * 3600
    with pytest.raises(ClockSkew, match="180 min ahead of the auth server's"):
        check_clock_skew(oauth, clock)


async def test_a_skewed_auth_host_is_detected_from_its_date_header() -> None:
    server_now = 1_700_000_000

    def server(request: httpx.Request) -> httpx.Response:
        body = {"client_id": "c", "login": "op", "user_id": "1", "scopes": [], "expires_in": 60}
        date = email.utils.formatdate(server_now, usegmt=True)
        return httpx.Response(200, json=body, headers={"Date": date})

    config = HelixConfig("https://h.example/helix", "https://a.example/oauth2", "c", "s")
    clock = SimClock(server_now + 2 * 3600, speed=0)  # this machine is two hours ahead
    async with HelixClient(config, clock=clock, transport=httpx.MockTransport(server)) as client:
        await client.oauth.validate("t")
        assert client.oauth.server_date == server_now
        with pytest.raises(ClockSkew, match="120 min ahead"):
            check_clock_skew(client.oauth, clock)
        clock.set(server_now + 30)
        check_clock_skew(client.oauth, clock)
