"""A live user token over real HTTP against the simulator, on a clock the test controls:
refresh before expiry and after a 401 (rotation stored atomically), hourly validation,
and the breaker (revoked, another client's, a missing scope, no refresh token)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from streamcensus.simulator.server import SimulatorHandle
from streamcensus.tokens.live import LiveToken, record_from_grant
from streamcensus.tokens.store import Role, TokenRecord, TokenStore
from streamcensus.twitch import HelixClient, HelixConfig, TokenUnusable

OPERATOR_SCOPES = ("moderator:read:chatters", "user:read:moderated_channels")


@dataclass
class Rig:
    handle: SimulatorHandle
    client: HelixClient
    store: TokenStore
    calls: list[str]  # paths requested, in order

    def count(self, path: str) -> int:
        return sum(c.endswith(path) for c in self.calls)

    async def obtain(self, login: str, scopes: tuple[str, ...], role: Role) -> TokenRecord:
        oauth = self.client.oauth
        device = await oauth.start_device_flow(scopes)
        body = {"user_code": device.user_code, "login": login}
        httpx.post(f"{self.handle.base_url}/_sim/auth/device", json=body).raise_for_status()
        grant = await oauth.wait_for_device_grant(device, scopes)
        info = await oauth.validate(grant.access_token)
        record = record_from_grant(
            grant, info, role=role, auth_url=self.handle.auth_url, now=self.handle.clock.now()
        )
        self.store.put(record)
        return record

    def live(self, record: TokenRecord, **options: object) -> LiveToken:
        values: dict[str, object] = {
            "store": self.store,
            "client_id": "cid",
            "required_scopes": ("moderator:read:chatters",),
            **options,
        }
        return LiveToken(record, self.client.oauth, self.handle.clock, **values)  # type: ignore[arg-type]

    def disconnect(self, login: str) -> None:
        response = httpx.post(f"{self.handle.base_url}/_sim/auth/disconnect", json={"login": login})
        response.raise_for_status()


@pytest.fixture
async def rig(
    running_simulator: Callable[..., SimulatorHandle], tmp_path: Path
) -> AsyncIterator[Rig]:
    handle = running_simulator()
    calls: list[str] = []

    async def hook(request: httpx.Request) -> None:
        calls.append(request.url.path)

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
        config = HelixConfig(handle.helix_url, handle.auth_url, "cid", "secret", backoff_base=0.01)
        client = HelixClient(config, clock=handle.clock, http=http)
        yield Rig(handle, client, TokenStore(tmp_path), calls)


async def test_refreshed_before_expiry_and_the_rotation_is_stored(rig: Rig) -> None:
    record = await rig.obtain("streamcensus_operator", OPERATOR_SCOPES, "operator")
    token = rig.live(record)
    first = await token.access_token()
    assert token.counters.refreshes == 0
    rig.handle.clock.advance(4 * 3600 - 301)  # not yet within five minutes of expiry
    assert await token.access_token() == first
    rig.handle.clock.advance(2)
    second = await token.access_token()
    assert second != first and token.counters.refreshes == 1
    on_disk = rig.store.get(record.user_id)
    assert on_disk is not None and on_disk.refresh_token is not None
    assert on_disk.access_token.get_secret_value() == second
    assert on_disk.refresh_token == token.record.refresh_token != record.refresh_token
    assert record.refresh_token is not None
    used = {
        "grant_type": "refresh_token",
        "client_id": "cid",
        "refresh_token": record.refresh_token.get_secret_value(),
    }
    reused = httpx.post(f"{rig.handle.auth_url}/token", data=used)
    assert reused.json() == {"status": 400, "message": "Invalid refresh token"}


async def test_a_401_is_answered_by_one_refresh(rig: Rig) -> None:
    record = await rig.obtain("streamcensus_operator", OPERATOR_SCOPES, "operator")
    token = rig.live(record, refresh_leeway=-1e9)  # never ahead of time: only on a 401
    lane = rig.client.lane(token)
    rig.handle.clock.advance(4 * 3600 + 60)  # expired
    assert await rig.client.get_followers_total("2", lane) > 2000
    assert token.counters.refreshes == 1 and token.broken is None
    assert rig.calls[-3:] == [
        "/helix/channels/followers",
        "/oauth2/token",
        "/helix/channels/followers",
    ]


async def test_validated_at_start_then_hourly_on_the_clock(rig: Rig) -> None:
    record = await rig.obtain("streamcensus_operator", OPERATOR_SCOPES, "operator")
    token = rig.live(record)
    before = rig.count("/oauth2/validate")
    assert await token.validate()  # never validated by this process: due at once
    assert rig.count("/oauth2/validate") == before + 1
    for _ in range(11):  # 55 minutes in 5-minute steps: not due
        rig.handle.clock.advance(300)
        assert await token.validate()
    assert rig.count("/oauth2/validate") == before + 1
    rig.handle.clock.advance(300)  # the hour
    assert await token.validate()
    assert rig.count("/oauth2/validate") == before + 2
    assert token.counters.validations == 2
    stored = rig.store.get(record.user_id)
    assert stored is not None and stored.validated_at == rig.handle.clock.now()


async def test_revocation_trips_the_breaker_without_more_requests(rig: Rig) -> None:
    record = await rig.obtain("bravo_fr", ("moderator:read:chatters",), "broadcaster")
    token = rig.live(record)
    assert await token.validate(force=True)
    rig.disconnect("bravo_fr")  # consent withdrawn on Twitch: every token of theirs revoked
    assert not await token.validate(force=True)
    assert token.broken is not None and "authorization is gone" in token.broken
    sent = len(rig.calls)
    with pytest.raises(TokenUnusable, match="authorization is gone"):
        await token.access_token()
    assert not await token.validate(force=True)
    assert not await token.renew("anything")
    assert len(rig.calls) == sent


async def test_another_clients_token_and_a_missing_scope_trip(rig: Rig) -> None:
    record = await rig.obtain("streamcensus_operator", OPERATOR_SCOPES, "operator")
    foreign = rig.live(record, client_id="another-app")
    assert not await foreign.validate(force=True)
    assert foreign.broken is not None
    assert foreign.broken.startswith(
        "the token was issued to client id cid, not the configured another-app"
    )
    narrow = await rig.obtain("helper_mod", ("user:read:moderated_channels",), "operator")
    lacking = rig.live(narrow)
    assert not await lacking.validate(force=True)
    assert lacking.broken == (
        "the token lacks the scope moderator:read:chatters: "
        "run `streamcensus auth login` again to grant it"
    )


async def test_a_token_without_refresh_trips_on_401(rig: Rig) -> None:
    record = await rig.obtain("streamcensus_operator", OPERATOR_SCOPES, "operator")
    bare = rig.live(record.model_copy(update={"refresh_token": None}), store=None)
    rig.handle.clock.advance(5 * 3600)
    assert not await bare.validate(force=True)
    assert bare.broken is not None and "TWITCH_MODERATOR_TOKEN" in bare.broken


async def test_an_unreachable_auth_host_trips_nothing(rig: Rig) -> None:
    record = await rig.obtain("streamcensus_operator", OPERATOR_SCOPES, "operator")
    token = rig.live(record)
    plan = {"rules": [{"path": "/oauth2/validate", "fault": "503", "count": 5}]}
    httpx.post(f"{rig.handle.base_url}/_sim/faults", json=plan).raise_for_status()
    assert await token.validate(force=True)  # a failure of the host, not of the token
    assert token.broken is None and token.validation_due()
    assert await token.validate()
    assert not token.validation_due()
