"""The simulator's auth over real HTTP: the device code flow's every answer, refresh rotation,
validation, revocation, disconnection, and the user-token Helix routes' scope rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from simulator.fake_world import CONSENTING, START
from streamcensus.simulator.server import SimulatorHandle

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OPERATOR_SCOPES = "moderator:read:chatters user:read:moderated_channels"


class Sim:
    """A simulator on a standing clock, and Twitch-shaped calls against it."""

    def __init__(self, handle: SimulatorHandle) -> None:
        self.handle = handle
        self.http = httpx.Client(base_url=handle.base_url, timeout=10.0)

    def advance(self, seconds: float) -> None:
        self.handle.clock.advance(seconds)

    def device(self, scopes: str = OPERATOR_SCOPES, client_id: str = "cid") -> dict[str, Any]:
        response = self.http.post("/oauth2/device", data={"client_id": client_id, "scopes": scopes})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def poll(self, device: dict[str, Any], client_id: str = "cid") -> httpx.Response:
        form = {"client_id": client_id, "device_code": device["device_code"]}
        return self.http.post("/oauth2/token", data={**form, "grant_type": DEVICE_GRANT})

    def answer(self, device: dict[str, Any], login: str, action: str = "approve") -> httpx.Response:
        body = {"user_code": device["user_code"], "login": login, "action": action}
        return self.http.post("/_sim/auth/device", json=body)

    def token_for(self, login: str, scopes: str = OPERATOR_SCOPES) -> dict[str, Any]:
        device = self.device(scopes)
        assert self.answer(device, login).status_code == 200
        response = self.poll(device)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def validate(self, access_token: str) -> httpx.Response:
        return self.http.get("/oauth2/validate", headers={"Authorization": f"OAuth {access_token}"})

    def refresh(self, refresh_token: str) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "cid"}
        return self.http.post("/oauth2/token", data=form)

    def helix(self, path: str, access_token: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {access_token}", "Client-Id": "cid"}
        return self.http.get(f"/helix{path}", params=params, headers=headers)


@pytest.fixture
def sim(running_simulator: Callable[..., SimulatorHandle]) -> Sim:
    return Sim(running_simulator())


def message(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, str(response.json()["message"])


def test_device_code_answers_like_twitch(sim: Sim) -> None:
    device = sim.device()
    assert device["expires_in"] == 1800 and device["interval"] == 5
    assert len(device["user_code"]) == 8 and device["user_code"].isupper()
    assert device["verification_uri"].endswith(f"device-code={device['user_code']}")
    assert message(sim.poll(device)) == (400, "authorization_pending")
    assert message(sim.poll(device)) == (400, "slow_down")  # no time passed since the last poll
    sim.advance(5)
    # each slow_down adds five seconds to the interval (RFC 8628): 10 s now, so 5 s is too soon
    assert message(sim.poll(device)) == (400, "slow_down")
    sim.advance(15)  # the interval is 15 s now
    assert message(sim.poll(device)) == (400, "authorization_pending")
    assert sim.answer(device, "streamcensus_operator").json()["login"] == "streamcensus_operator"
    sim.advance(15)
    granted = sim.poll(device)
    assert granted.status_code == 200
    body = granted.json()
    assert body["expires_in"] == 4 * 3600 and body["token_type"] == "bearer"
    assert body["scope"] == OPERATOR_SCOPES.split()
    assert body["refresh_token"] and body["access_token"]
    sim.advance(10)
    # a device code yields one token
    assert message(sim.poll(device)) == (400, "invalid device code")


def test_denied_expired_unknown_and_foreign_codes(sim: Sim) -> None:
    denied = sim.device()
    assert sim.answer(denied, "", action="deny").json()["state"] == "deny"
    assert message(sim.poll(denied)) == (400, "access_denied")
    late = sim.device()
    sim.advance(1801)
    assert message(sim.poll(late)) == (400, "expired_token")
    assert message(sim.answer(late, "streamcensus_operator")) == (409, "the user code has expired")
    assert message(sim.poll({"device_code": "nope"})) == (400, "invalid device code")
    other = sim.device(client_id="another")
    assert message(sim.poll(other)) == (400, "invalid device code")  # not this client's
    assert message(sim.answer({"user_code": "ZZZZZZZZ"}, "streamcensus_operator")) == (
        404,
        "unknown user code",
    )
    assert sim.http.post("/oauth2/device", data={"scopes": "x"}).json() == {
        "status": 400,
        "message": "missing client_id",
    }


def test_only_consenting_broadcasters_approve(sim: Sim) -> None:
    device = sim.device("moderator:read:chatters")
    refused = sim.answer(device, "alpha_fr")  # a channel whose broadcaster does not consent
    assert refused.status_code == 409
    assert "does not consent" in refused.json()["message"]
    assert sim.answer(device, "bravo_fr").status_code == 200  # consents
    token = sim.poll(device).json()
    info = sim.validate(token["access_token"]).json()
    assert (info["login"], info["user_id"]) == ("bravo_fr", "2")
    truth = sim.http.get("/_sim/truth/permissions").json()
    assert [c["id"] for c in truth["consenting"]] == list(CONSENTING)
    assert truth["withdrawn"] == []


def test_refresh_rotates_and_a_used_refresh_token_is_refused(sim: Sim) -> None:
    first = sim.token_for("streamcensus_operator")
    second = sim.refresh(first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert message(sim.refresh(first["refresh_token"])) == (400, "Invalid refresh token")
    assert sim.validate(first["access_token"]).status_code == 401  # the old pair is gone
    assert sim.validate(rotated["access_token"]).status_code == 200
    assert sim.refresh(rotated["refresh_token"]).status_code == 200


def test_validate_expiry_and_revocation_on_the_simulated_clock(sim: Sim) -> None:
    token = sim.token_for("streamcensus_operator")
    sim.advance(3600)
    info = sim.validate(token["access_token"]).json()
    assert info == {
        "client_id": "cid",
        "login": "streamcensus_operator",
        "user_id": "500",
        "scopes": OPERATOR_SCOPES.split(),
        "expires_in": 3 * 3600,
    }
    sim.advance(3 * 3600)
    assert message(sim.validate(token["access_token"])) == (401, "invalid access token")
    assert sim.helix("/streams", token["access_token"]).status_code == 401
    fresh = sim.refresh(token["refresh_token"]).json()  # an expired token still refreshes
    assert sim.validate(fresh["access_token"]).status_code == 200
    revoke = {"client_id": "cid", "token": fresh["access_token"]}
    assert sim.http.post("/oauth2/revoke", data=revoke).status_code == 200
    assert sim.validate(fresh["access_token"]).status_code == 401
    assert message(sim.refresh(fresh["refresh_token"])) == (400, "Invalid refresh token")
    assert message(sim.http.post("/oauth2/revoke", data=revoke)) == (400, "Invalid token")


def test_disconnect_revokes_everything_and_withdraws_consent(sim: Sim) -> None:
    a = sim.token_for("bravo_fr", "moderator:read:chatters")
    b = sim.token_for("bravo_fr", "moderator:read:chatters")
    gone = sim.http.post("/_sim/auth/disconnect", json={"login": "bravo_fr"}).json()
    assert gone == {"user_id": "2", "login": "bravo_fr", "revoked": 2}
    for token in (a, b):
        assert sim.validate(token["access_token"]).status_code == 401
        assert sim.refresh(token["refresh_token"]).status_code == 400
    truth = sim.http.get("/_sim/truth/permissions").json()
    assert [c["id"] for c in truth["consenting"]] == ["4"]
    assert truth["withdrawn"] == [{"id": "2", "login": "bravo_fr"}]
    device = sim.device("moderator:read:chatters")
    assert sim.answer(device, "bravo_fr").status_code == 409  # consent withdrawn
    back = sim.http.post("/_sim/auth/consent", json={"login": "bravo_fr", "consents": True})
    assert back.json() == {"user_id": "2", "consents": True}
    assert sim.answer(device, "bravo_fr").status_code == 200
    assert sim.http.post("/_sim/auth/consent", json={"login": "viewer_1000"}).status_code == 400


def test_followers_total_with_any_user_token_list_only_when_permitted(sim: Sim) -> None:
    app = sim.http.post(
        "/oauth2/token",
        data={"client_id": "cid", "client_secret": "s", "grant_type": "client_credentials"},
    ).json()["access_token"]
    viewer = sim.token_for("viewer_1000", "")
    operator = sim.token_for("streamcensus_operator", "moderator:read:followers")
    assert sim.helix("/channels/followers", app, broadcaster_id="2").status_code == 401
    plain = sim.helix("/channels/followers", viewer["access_token"], broadcaster_id="2").json()
    assert plain == {"total": 2000, "data": [], "pagination": {}}
    sim.advance(600)  # ten minutes: ten more followers in the fake world
    listed = sim.helix(
        "/channels/followers", operator["access_token"], broadcaster_id="2", first=3
    ).json()
    assert listed["total"] == 2010 and len(listed["data"]) == 3
    assert listed["pagination"]["cursor"]
    assert set(listed["data"][0]) == {"user_id", "user_login", "user_name", "followed_at"}
    closed = sim.helix("/channels/followers", operator["access_token"], broadcaster_id="7").json()
    assert closed["data"] == [] and closed["total"] == 7010  # not a moderator of closed_chan
    assert message(sim.helix("/channels/followers", viewer["access_token"])) == (
        400,
        "The broadcaster_id query parameter is required.",
    )
    bad = sim.helix("/channels/followers", viewer["access_token"], broadcaster_id="424242")
    assert bad.status_code == 400


def test_moderated_channels_need_the_scope_and_the_tokens_user(sim: Sim) -> None:
    operator = sim.token_for("streamcensus_operator")
    page = sim.helix("/moderation/channels", operator["access_token"], user_id="500", first=5)
    body = page.json()
    assert [c["broadcaster_id"] for c in body["data"]] == ["1", "2", "3", "4", "5"]
    rest = sim.helix(
        "/moderation/channels",
        operator["access_token"],
        user_id="500",
        after=body["pagination"]["cursor"],
    ).json()
    assert [c["broadcaster_id"] for c in rest["data"]] == ["6", "8", "9"]
    assert rest["pagination"] == {}
    assert page.headers["Ratelimit-Limit"] == "800"
    other = sim.helix("/moderation/channels", operator["access_token"], user_id="501")
    assert other.status_code == 401
    no_scope = sim.token_for("helper_mod", "moderator:read:chatters")
    assert message(sim.helix("/moderation/channels", no_scope["access_token"], user_id="501")) == (
        401,
        "Missing scope: user:read:moderated_channels",
    )


def test_activation_page_and_pending_codes(sim: Sim) -> None:
    device = sim.device()
    page = sim.http.get("/activate", params={"device-code": device["user_code"]})
    assert page.status_code == 200 and device["user_code"] in page.text
    pending = sim.http.get("/_sim/auth/device").json()["data"]
    assert [p["user_code"] for p in pending] == [device["user_code"]]
    assert "/_sim/auth/device" in page.text  # how to answer
    # a form (which any web page may post cross-site) is refused: JSON only
    form = {"user_code": device["user_code"], "login": "streamcensus_operator"}
    assert sim.http.post("/_sim/auth/device", data=form).status_code == 415
    assert sim.http.post("/_sim/auth/disconnect", data={"login": "bravo_fr"}).status_code == 415
    assert sim.http.get("/_sim/auth/device").json()["data"] != []
    assert sim.http.post("/_sim/auth/device", json=form).status_code == 200
    assert sim.http.get("/_sim/auth/device").json()["data"] == []
    odd = sim.http.post("/_sim/auth/device", json={**form, "user_code": 12})
    assert message(odd) == (400, "user_code must be a string")


def test_user_tokens_have_buckets_of_their_own(sim: Sim) -> None:
    a = sim.token_for("streamcensus_operator")
    b = sim.token_for("bravo_fr", "moderator:read:chatters")
    first = sim.helix("/streams", a["access_token"])
    again = sim.helix("/streams", a["access_token"])
    other = sim.helix("/streams", b["access_token"])
    assert (
        int(again.headers["Ratelimit-Remaining"]) == int(first.headers["Ratelimit-Remaining"]) - 1
    )
    assert other.headers["Ratelimit-Remaining"] == first.headers["Ratelimit-Remaining"]
    assert START > 0


def test_a_refresh_token_unused_for_30_days_is_refused(sim: Sim) -> None:
    token = sim.token_for("streamcensus_operator")
    sim.advance(29 * 86400)
    fresh = sim.refresh(token["refresh_token"])
    assert fresh.status_code == 200
    sim.advance(30 * 86400 + 60)
    assert message(sim.refresh(fresh.json()["refresh_token"])) == (400, "Invalid refresh token")
