"""User tokens on the auth host: the device code flow, refresh, validation and revocation.

The device code grant is the flow Twitch made for command-line and headless apps
(RFC 8628): `POST {auth}/device` with the client id and scopes gives a device code, a
user code and a verification URI; the person opens the URI, enters the code and
approves; meanwhile the app polls `POST {auth}/token` with
`grant_type=urn:ietf:params:oauth:grant-type:device_code` every `interval` seconds.
Twitch answers 400 with `message` `authorization_pending` until then; `slow_down` asks
for five more seconds between polls (RFC 8628 3.5); `access_denied` and `expired_token`
end the flow, and so does `invalid device code`, which Twitch answers for a code it no
longer knows. Refresh tokens rotate: each refresh answers a new one and the old one is
refused from then on. Every request goes through the client's retry loop (`Caller`):
5xx, timeouts, resets and garbage are retried, then reported in one line.
"""

from __future__ import annotations

import contextlib
import email.utils
from collections.abc import Awaitable, Callable, Sequence

import httpx

from streamcensus.clock import Clock
from streamcensus.twitch.caller import Caller
from streamcensus.twitch.config import HelixConfig
from streamcensus.twitch.errors import (
    AuthorizationDenied,
    BadRequest,
    DeviceCodeExpired,
    DeviceFlowEnded,
    Forbidden,
    NotFound,
    RefreshTokenRejected,
    Unauthorized,
)
from streamcensus.twitch.models import (
    DeviceCode,
    TokenInfo,
    UserGrant,
    device_code_from_json,
    json_body,
    token_info_from_json,
    user_grant_from_json,
)

DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5  # RFC 8628 3.5: seconds added to the interval after `slow_down`
_PENDING = "authorization_pending"
_SLOW_DOWN = "slow_down"

PollHook = Callable[[str, int], Awaitable[None] | None]
"""Told each poll's answer (`authorization_pending`, `slow_down`) and the interval in force."""


class OAuthClient:
    """The auth host's user-token endpoints, through a shared `Caller`."""

    def __init__(self, config: HelixConfig, caller: Caller, clock: Clock) -> None:
        self.config = config
        self._caller = caller
        self._clock = clock
        self.server_date: float | None = None  # the last `Date` header of the auth host

    def _url(self, path: str) -> str:
        return f"{self.config.auth_url}/{path}"

    def _note_date(self, response: httpx.Response) -> None:
        value = response.headers.get("date")
        if value:
            with contextlib.suppress(TypeError, ValueError):
                self.server_date = email.utils.parsedate_to_datetime(value).timestamp()

    def _client_form(self) -> dict[str, str]:
        form = {"client_id": self.config.client_id}
        if self.config.client_secret:
            form["client_secret"] = self.config.client_secret
        return form

    # -- device code flow --------------------------------------------------------------

    async def start_device_flow(self, scopes: Sequence[str]) -> DeviceCode:
        """Ask for a device code and a user code for these scopes."""
        form = {"client_id": self.config.client_id, "scopes": " ".join(scopes)}

        def parse(response: httpx.Response) -> DeviceCode:
            self._note_date(response)
            return device_code_from_json(json_body(response), response.url.path)

        try:
            return await self._caller.call("POST", self._url("device"), parse, data=form)
        except (BadRequest, Unauthorized, Forbidden, NotFound) as exc:
            raise DeviceFlowEnded(
                f"Twitch refused to start the device code flow ({exc.detail or exc.status}): "
                "check TWITCH_CLIENT_ID",
                status=exc.status,
            ) from None

    async def poll_device_flow(self, device: DeviceCode, scopes: Sequence[str]) -> UserGrant | str:
        """One poll of the token endpoint: the grant, or `authorization_pending` / `slow_down`.

        Raises `AuthorizationDenied` or `DeviceCodeExpired` when the flow is over.
        """
        form = {
            **self._client_form(),
            "scopes": " ".join(scopes),
            "device_code": device.device_code,
            "grant_type": DEVICE_GRANT_TYPE,
        }

        def parse(response: httpx.Response) -> UserGrant:
            self._note_date(response)
            return user_grant_from_json(json_body(response), response.url.path)

        try:
            return await self._caller.call("POST", self._url("token"), parse, data=form)
        except (BadRequest, Unauthorized, Forbidden) as exc:
            answer = exc.detail.strip()
            if answer in (_PENDING, _SLOW_DOWN):
                return answer
            if answer == "access_denied":
                raise AuthorizationDenied(
                    "the authorization was declined on Twitch: nothing was stored", status=400
                ) from None
            if answer in ("expired_token", "invalid device code"):
                raise DeviceCodeExpired(
                    "the code expired before it was approved: run the login again", status=400
                ) from None
            raise DeviceFlowEnded(
                f"Twitch refused the device code ({answer or exc.status}): "
                "check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET",
                status=exc.status,
            ) from None

    async def wait_for_device_grant(
        self,
        device: DeviceCode,
        scopes: Sequence[str],
        *,
        on_poll: PollHook | None = None,
    ) -> UserGrant:
        """Poll every `interval` seconds (on the injected clock) until the person answers.

        Bounded by the code's lifetime: past it, `DeviceCodeExpired` without asking again.
        """
        interval = device.interval
        deadline = self._clock.time() + device.expires_in
        # a bound that holds even on a clock that does not move: no poll loop is endless
        for _ in range(device.expires_in // device.interval + 1):
            await self._clock.sleep(interval)
            if self._clock.time() > deadline:
                raise DeviceCodeExpired(
                    "the code expired before it was approved: run the login again"
                )
            answer = await self.poll_device_flow(device, scopes)
            if isinstance(answer, UserGrant):
                return answer
            if answer == _SLOW_DOWN:
                interval += SLOW_DOWN_STEP
            if on_poll is not None:
                waited = on_poll(answer, interval)
                if waited is not None:
                    await waited
        raise DeviceCodeExpired("the code was not approved in time: run the login again")

    # -- refresh, validate, revoke -----------------------------------------------------

    async def refresh(self, refresh_token: str) -> UserGrant:
        """A new access token and a new refresh token; `RefreshTokenRejected` when refused."""
        form = {
            **self._client_form(),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }

        def parse(response: httpx.Response) -> UserGrant:
            self._note_date(response)
            return user_grant_from_json(json_body(response), response.url.path)

        try:
            grant = await self._caller.call("POST", self._url("token"), parse, data=form)
        except (BadRequest, Unauthorized, Forbidden) as exc:
            raise RefreshTokenRejected(
                f"the refresh token was refused ({exc.detail or exc.status}): "
                "it was already used, or the authorization was revoked",
                status=exc.status,
                detail=exc.detail,
            ) from None
        self._caller.stats.token_refreshes += 1
        return grant

    async def validate(self, access_token: str) -> TokenInfo:
        """`GET {auth}/validate`: whose token, which client, scopes, seconds left.

        Raises `Unauthorized` when the token is expired or revoked.
        """

        def parse(response: httpx.Response) -> TokenInfo:
            self._note_date(response)
            return token_info_from_json(json_body(response), response.url.path)

        return await self._caller.call(
            "GET", self._url("validate"), parse, authorization=f"OAuth {access_token}"
        )

    async def revoke(self, access_token: str) -> bool:
        """Revoke a token; False when the auth host no longer knows it (already invalid)."""
        form = {"client_id": self.config.client_id, "token": access_token}

        def parse(response: httpx.Response) -> bool:
            self._note_date(response)
            return True

        try:
            return await self._caller.call("POST", self._url("revoke"), parse, data=form)
        except BadRequest:
            return False
