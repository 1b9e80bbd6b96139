"""The simulator's OAuth side: a token store (app, user and refresh tokens) and its routes.

Tokens expire on the simulator's clock, like every other time in the simulator: a token
issued at simulated 10:00 with a 4-hour lifetime is refused at simulated 14:00, however
fast the clock runs. By default any client id and secret are accepted; `require_client_id`
and `require_client_secret` restrict the token endpoints to one application.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from streamcensus.clock import Clock

CHATTERS_SCOPE = "moderator:read:chatters"
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits

UserLookup = Callable[[str], "tuple[str, str] | None"]
"""Finds an account by user id: `(user_id, login)`, or None when there is none."""


def _new_secret() -> str:
    """A 30-character token in Twitch's alphabet (lowercase letters and digits)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(30))


@dataclass(frozen=True, slots=True)
class Token:
    """One issued access token. `user_id` is None for an app token."""

    access_token: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    user_id: str | None = None
    login: str | None = None
    refresh_token: str | None = None

    @property
    def is_user(self) -> bool:
        return self.user_id is not None

    def expires_in(self, now: float) -> int:
        """Whole seconds left before expiry (0 once expired)."""
        return max(0, int(self.expires_at - now))

    def rate_limit_key(self) -> str:
        """Twitch keeps one bucket per client id for app tokens, per client and user otherwise."""
        if self.user_id is None:
            return f"app:{self.client_id}"
        return f"user:{self.client_id}:{self.user_id}"

    def grant_json(self, now: float) -> dict[str, object]:
        """The token endpoint's answer for this token."""
        body: dict[str, object] = {
            "access_token": self.access_token,
            "expires_in": self.expires_in(now),
            "token_type": "bearer",
        }
        if self.is_user:
            body["refresh_token"] = self.refresh_token or ""
            body["scope"] = list(self.scopes)
        return body

    def validate_json(self, now: float) -> dict[str, object]:
        """`GET /oauth2/validate`: login and user_id only for user tokens (as Twitch)."""
        body: dict[str, object] = {"client_id": self.client_id}
        if self.is_user:
            body["login"] = self.login
            body["user_id"] = self.user_id
        body["scopes"] = list(self.scopes)
        body["expires_in"] = self.expires_in(now)
        return body


class ClientRejected(Exception):
    """The token endpoint refuses the client: carries the HTTP status and Twitch's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TokenStore:
    """Issues, looks up, refreshes and revokes tokens; thread-safe."""

    def __init__(
        self,
        clock: Clock,
        *,
        ttl: float = 4 * 3600,
        require_client_id: str | None = None,
        require_client_secret: str | None = None,
    ) -> None:
        if not ttl > 0:
            raise ValueError(f"token lifetime must be positive, got {ttl}")
        self.clock = clock
        self.ttl = float(ttl)
        self.require_client_id = require_client_id
        self.require_client_secret = require_client_secret
        self._by_access: dict[str, Token] = {}
        self._by_refresh: dict[str, Token] = {}
        self._lock = threading.Lock()
        self._issued_since_purge = 0

    def check_client(self, client_id: str, client_secret: str | None) -> None:
        """Raise `ClientRejected` unless this client may obtain tokens."""
        if not client_id:
            raise ClientRejected(400, "missing client id")
        if self.require_client_id is not None and client_id != self.require_client_id:
            raise ClientRejected(400, "invalid client")
        if self.require_client_secret is not None and client_secret != self.require_client_secret:
            raise ClientRejected(403, "invalid client secret")
        if client_secret is not None and not client_secret:
            raise ClientRejected(400, "missing client secret")

    def issue_app(self, client_id: str, scopes: tuple[str, ...] = ()) -> Token:
        """A client-credentials (app) token."""
        token = Token(_new_secret(), client_id, scopes, self.clock.time() + self.ttl)
        self._store(token)
        return token

    def issue_user(
        self, client_id: str, user_id: str, login: str, scopes: tuple[str, ...]
    ) -> Token:
        """A user token with a refresh token, as the authorization-code flow returns."""
        token = Token(
            _new_secret(),
            client_id,
            scopes,
            self.clock.time() + self.ttl,
            user_id=user_id,
            login=login,
            refresh_token=_new_secret() + _new_secret()[:20],
        )
        self._store(token)
        return token

    def refresh(self, refresh_token: str, client_id: str) -> Token | None:
        """A new user token for a refresh token of this client; None when unknown."""
        with self._lock:
            old = self._by_refresh.get(refresh_token)
            if old is None or old.client_id != client_id:
                return None
            del self._by_refresh[refresh_token]
            self._by_access.pop(old.access_token, None)
        assert old.user_id is not None and old.login is not None
        return self.issue_user(client_id, old.user_id, old.login, old.scopes)

    def lookup(self, access_token: str) -> Token | None:
        """The token, or None when unknown or expired on the simulator clock."""
        with self._lock:
            token = self._by_access.get(access_token)
        if token is None or token.expires_at <= self.clock.time():
            return None
        return token

    def revoke(self, access_token: str, client_id: str) -> bool:
        """Forget a token of this client; False when there is none."""
        with self._lock:
            token = self._by_access.get(access_token)
            if token is None or token.client_id != client_id:
                return False
            del self._by_access[access_token]
            if token.refresh_token:
                self._by_refresh.pop(token.refresh_token, None)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_access)

    def _store(self, token: Token) -> None:
        with self._lock:
            self._by_access[token.access_token] = token
            if token.refresh_token:
                self._by_refresh[token.refresh_token] = token
            self._issued_since_purge += 1
            if self._issued_since_purge >= 1000:
                self._purge_locked()

    def _purge_locked(self) -> None:
        """Drop long-expired access tokens so a long run keeps a bounded store."""
        self._issued_since_purge = 0
        horizon = self.clock.time() - self.ttl
        for key in [k for k, t in self._by_access.items() if t.expires_at < horizon]:
            del self._by_access[key]


# --- OAuth routes ----------------------------------------------------------------------------
# Two families share these handlers: Twitch's own (`/oauth2/token`, `/oauth2/validate`,
# `/oauth2/revoke`) and the Twitch CLI mock API's (`/auth/token`, `/auth/authorize` with
# `grant_type=user_token`), so tools written for either work unchanged.


def _oauth_error(status: int, message: str) -> Response:
    """The id.twitch.tv error body: `{"status": 400, "message": "..."}`."""
    return JSONResponse({"status": status, "message": message}, status_code=status)


async def _request_params(request: Request) -> dict[str, str]:
    """Parameters from the query string and a form or JSON body (body wins)."""
    params = dict(request.query_params)
    body = await request.body()
    if body:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                params.update({str(k): str(v) for k, v in decoded.items()})
        else:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _scopes(text: str | None) -> tuple[str, ...]:
    """A space-separated scope list (`+` arrives as a space once decoded)."""
    return tuple(dict.fromkeys(s for s in (text or "").split() if s))


def oauth_router(store: TokenStore, find_user: UserLookup, *, prefix: str) -> APIRouter:
    """The token, authorize, validate and revoke routes under `prefix` (`/oauth2` or `/auth`)."""
    router = APIRouter(prefix=prefix)
    mock_shape = prefix == "/auth"

    def grant(token: Token) -> JSONResponse:
        body = token.grant_json(store.clock.time())
        if mock_shape:
            body = {
                "access_token": token.access_token,
                "refresh_token": token.refresh_token or "",
                "expires_in": body["expires_in"],
                "scope": list(token.scopes),
                "token_type": "bearer",
            }
        return JSONResponse(body)

    def user_token(params: dict[str, str]) -> Response:
        try:
            store.check_client(params.get("client_id", ""), params.get("client_secret"))
        except ClientRejected as exc:
            return _oauth_error(exc.status, exc.message)
        user = find_user(params.get("user_id", ""))
        if user is None:
            return _oauth_error(400, "User ID invalid")
        scopes = _scopes(params.get("scope"))
        return grant(store.issue_user(params["client_id"], user[0], user[1], scopes))

    @router.post("/token")
    async def token(request: Request) -> Response:
        params = await _request_params(request)
        grant_type = params.get("grant_type", "")
        client_id = params.get("client_id", "")
        if grant_type == "client_credentials":
            try:
                store.check_client(client_id, params.get("client_secret", ""))
            except ClientRejected as exc:
                return _oauth_error(exc.status, exc.message)
            return grant(store.issue_app(client_id, _scopes(params.get("scope"))))
        if grant_type == "refresh_token":
            try:
                store.check_client(client_id, params.get("client_secret"))
            except ClientRejected as exc:
                return _oauth_error(exc.status, exc.message)
            refreshed = store.refresh(params.get("refresh_token", ""), client_id)
            if refreshed is None:
                return _oauth_error(400, "Invalid refresh token")
            return JSONResponse(
                {
                    "access_token": refreshed.access_token,
                    "refresh_token": refreshed.refresh_token,
                    "expires_in": refreshed.expires_in(store.clock.time()),
                    "scope": list(refreshed.scopes),
                    "token_type": "bearer",
                }
            )
        if grant_type == "user_token":
            return user_token(params)
        if not grant_type:
            return _oauth_error(400, "missing grant_type")
        return _oauth_error(400, "unsupported grant type")

    @router.post("/authorize")
    async def authorize(request: Request) -> Response:
        params = await _request_params(request)
        if params.get("grant_type") != "user_token" or not params.get("user_id"):
            return _oauth_error(400, "missing required parameter")
        return user_token(params)

    @router.get("/validate")
    async def validate(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if not header:
            return _oauth_error(401, "missing authorization token")
        if scheme.lower() not in ("oauth", "bearer") or not value.strip():
            return _oauth_error(401, "invalid access token")
        found = store.lookup(value.strip())
        if found is None:
            return _oauth_error(401, "invalid access token")
        return JSONResponse(found.validate_json(store.clock.time()))

    @router.post("/revoke")
    async def revoke(request: Request) -> Response:
        params = await _request_params(request)
        if not params.get("client_id"):
            return _oauth_error(400, "missing client id")
        if not store.revoke(params.get("token", ""), params["client_id"]):
            return _oauth_error(400, "Invalid token")
        return Response(status_code=200)

    return router
