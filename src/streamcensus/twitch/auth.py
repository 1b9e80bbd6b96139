"""Tokens: the cached app token, the caller's user (moderator) token, and how to renew them.

The app token comes from the client-credentials grant (`POST {auth_url}/token`); it is
cached until shortly before it expires and replaced once when Helix answers 401. A user
token cannot be renewed without a refresh token, so its 401 is final unless the caller
supplies a refresher (against the simulator: its Twitch-CLI-mock `/auth/authorize`).
Token values never appear in `repr`, logs or error messages (P5).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpx

from streamcensus.clock import Clock
from streamcensus.twitch.errors import MalformedResponse, MissingUserToken
from streamcensus.twitch.models import json_body
from streamcensus.twitch.pacing import Pacer
from streamcensus.twitch.stats import ClientStats

TokenKind = Literal["app", "user"]
CHATTERS_SCOPE = "moderator:read:chatters"  # Get Chatters
MODERATED_CHANNELS_SCOPE = "user:read:moderated_channels"  # Get Moderated Channels
EXPIRY_LEEWAY_SECONDS = 60.0


class UserTokenSource(Protocol):
    """Where one user's access token comes from (a stored, refreshable token, or a bare one)."""

    @property
    def user_id(self) -> str: ...

    async def access_token(self) -> str:
        """The token to send now (refreshed first when it is about to expire)."""
        ...

    async def renew(self, stale: str) -> bool:
        """Replace `stale` after a 401; False when it cannot be replaced."""
        ...


@dataclass(frozen=True)
class UserLane:
    """One user token and its own rate-limit bucket (Twitch counts per client and user)."""

    source: UserTokenSource
    pacer: Pacer

    @property
    def user_id(self) -> str:
        return self.source.user_id


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and when it expires (epoch seconds on the client's clock, or None)."""

    value: str = field(repr=False)
    expires_at: float | None = None

    def expired(self, now: float, leeway: float = EXPIRY_LEEWAY_SECONDS) -> bool:
        return self.expires_at is not None and now >= self.expires_at - leeway


def client_credentials_form(client_id: str, client_secret: str) -> dict[str, str]:
    """The form body of the client-credentials grant (secrets travel in the body, not the URL)."""
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "client_credentials",
    }


def mock_auth_base(auth_url: str) -> str:
    """The Twitch-CLI-mock base: the auth URL without its trailing `/oauth2`."""
    base = auth_url.rstrip("/")
    return base.removesuffix("/oauth2")


def mock_user_token_params(
    client_id: str, client_secret: str, user_id: str, scopes: Sequence[str]
) -> dict[str, str]:
    """Query of the Twitch-CLI-mock `POST /auth/authorize` user-token grant."""
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "user_token",
        "user_id": user_id,
        "scope": " ".join(scopes),
    }


def parse_token_response(response: httpx.Response, now: float) -> AccessToken:
    """An `AccessToken` from a token-grant body (`access_token`, optional `expires_in`)."""
    body = json_body(response)
    endpoint = response.url.path
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise MalformedResponse("token body has no access_token", endpoint=endpoint)
    if not body["access_token"]:
        raise MalformedResponse("token body has an empty access_token", endpoint=endpoint)
    expires = body.get("expires_in")
    expires_at = now + float(expires) if isinstance(expires, int | float) and expires > 0 else None
    return AccessToken(body["access_token"], expires_at)


class TokenKeeper:
    """Holds the current app and user tokens and renews them, once per stale token."""

    def __init__(
        self,
        clock: Clock,
        stats: ClientStats,
        fetch_app_token: Callable[[], Awaitable[AccessToken]],
        user_token: str | None = None,
        user_token_refresher: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        self._clock = clock
        self._stats = stats
        self._fetch_app = fetch_app_token
        self._app: AccessToken | None = None
        self._user: str | None = user_token or None
        self._refresh_user = user_token_refresher
        self._lock = asyncio.Lock()

    @property
    def has_user_token(self) -> bool:
        return self._user is not None or self._refresh_user is not None

    def set_user_token(
        self, token: str, refresher: Callable[[], Awaitable[str]] | None = None
    ) -> None:
        """Use `token` for user-token calls from now on (and `refresher` to renew it)."""
        self._user = token
        if refresher is not None:
            self._refresh_user = refresher

    async def get(self, kind: TokenKind) -> str:
        """The token to send now, obtained first if there is none yet (or it expired)."""
        if kind == "app":
            current = self._app
            if current is not None and not current.expired(self._clock.time()):
                return current.value
            async with self._lock:
                current = self._app
                if current is None or current.expired(self._clock.time()):
                    if current is not None:
                        self._stats.token_refreshes += 1
                    current = await self._fetch_app()
                    self._app = current
                return current.value
        if self._user is not None:
            return self._user
        if self._refresh_user is None:
            raise MissingUserToken(
                "this call needs a user token with moderator:read:chatters: "
                "set TWITCH_MODERATOR_TOKEN"
            )
        async with self._lock:
            if self._user is None:
                self._user = await self._refresh_user()
            return self._user

    async def renew(self, kind: TokenKind, stale: str) -> bool:
        """Replace `stale` after a 401; False when it cannot be renewed (a bare user token)."""
        if kind == "user" and self._refresh_user is None:
            return False
        async with self._lock:
            if kind == "app":
                if self._app is None or self._app.value == stale:
                    self._app = await self._fetch_app()
                    self._stats.token_refreshes += 1
            elif self._user == stale or self._user is None:
                assert self._refresh_user is not None
                self._user = await self._refresh_user()
                self._stats.token_refreshes += 1
        return True
