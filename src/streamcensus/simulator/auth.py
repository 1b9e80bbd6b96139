"""The simulator's OAuth state: issued tokens (app, user, refresh) and device codes.

Tokens expire on the simulator's clock, like every other time in the simulator: a user
token issued at simulated 10:00 with Twitch's 4-hour lifetime is refused at simulated
14:00, however fast the clock runs. Refresh tokens rotate: a refresh answers a new access
token and a new refresh token and forgets the old pair, so a refresh token works once,
and one left unused for 30 days is refused (Twitch's rules for public clients; the
simulator applies them to every client, which never grants more than Twitch). A user
who disconnects the application loses every token it holds. By default any client id
and secret are accepted; `require_client_id` and `require_client_secret` restrict the
token endpoints to one application. The HTTP routes are in `oauth.py`.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from streamcensus.clock import Clock

CHATTERS_SCOPE = "moderator:read:chatters"
MODERATED_CHANNELS_SCOPE = "user:read:moderated_channels"
FOLLOWERS_SCOPE = "moderator:read:followers"
USER_TOKEN_TTL = 4 * 3600.0  # Twitch's user access tokens live about four hours
REFRESH_TOKEN_IDLE = 30 * 86400.0  # Twitch: a public client's refresh token unused 30 days dies
DEVICE_CODE_TTL = 1800.0  # Twitch: a device code expires after 30 minutes
DEVICE_INTERVAL = 5  # Twitch: poll the token endpoint every 5 seconds
SLOW_DOWN_STEP = 5  # RFC 8628 3.5: after `slow_down`, wait 5 seconds more between polls
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
_USER_CODE_ALPHABET = string.ascii_uppercase

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
        ttl: float = USER_TOKEN_TTL,
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
            if self.clock.time() - (old.expires_at - self.ttl) > REFRESH_TOKEN_IDLE:
                self._by_access.pop(old.access_token, None)
                return None  # unused for 30 days
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

    def disconnect(self, user_id: str, client_id: str | None = None) -> int:
        """The user disconnects the application on Twitch: every token of theirs (for that
        client, or every client) stops working, refresh tokens included. Returns how many."""
        with self._lock:
            gone = [
                t
                for t in self._by_access.values()
                if t.user_id == user_id and (client_id is None or t.client_id == client_id)
            ]
            gone += [
                t
                for t in self._by_refresh.values()
                if t.user_id == user_id and (client_id is None or t.client_id == client_id)
            ]
            for token in gone:
                self._by_access.pop(token.access_token, None)
                if token.refresh_token:
                    self._by_refresh.pop(token.refresh_token, None)
            return len({t.access_token for t in gone})

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


# --- device code grant -----------------------------------------------------------------------

DeviceState = Literal["pending", "approved", "denied"]
PollAnswer = Literal[
    "authorization_pending", "slow_down", "expired_token", "access_denied", "invalid device code"
]


@dataclass(slots=True)
class DeviceGrant:
    """One device-code request: what it asks for, and what the user decided."""

    device_code: str = field(repr=False)
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    interval: int
    last_poll: float | None = None
    state: DeviceState = "pending"
    user_id: str | None = None
    login: str | None = None
    redeemed: bool = False


class DeviceCodes:
    """Device codes of the device code grant flow (RFC 8628, as Twitch serves it); thread-safe.

    The poll answers are Twitch's `message` values: `authorization_pending` until the user
    decides, `slow_down` when polled faster than the interval (which then grows by five
    seconds), `access_denied` once the user declined, `expired_token` after 30 minutes,
    and `invalid device code` for a code this server never issued to that client or
    already exchanged for a token.
    """

    def __init__(
        self, clock: Clock, *, ttl: float = DEVICE_CODE_TTL, interval: int = DEVICE_INTERVAL
    ) -> None:
        self.clock = clock
        self.ttl = float(ttl)
        self.interval = int(interval)
        self._by_device: dict[str, DeviceGrant] = {}
        self._by_user_code: dict[str, DeviceGrant] = {}
        self._lock = threading.Lock()

    def start(self, client_id: str, scopes: tuple[str, ...]) -> DeviceGrant:
        """A new pending device code for this client and scopes."""
        with self._lock:
            self._purge_locked()
            user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
            while user_code in self._by_user_code:
                user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
            grant = DeviceGrant(
                device_code=_new_secret() + _new_secret()[:10],
                user_code=user_code,
                client_id=client_id,
                scopes=scopes,
                expires_at=self.clock.time() + self.ttl,
                interval=self.interval,
            )
            self._by_device[grant.device_code] = grant
            self._by_user_code[user_code] = grant
            return grant

    def decide(self, user_code: str, approve: bool, user: tuple[str, str] | None) -> str | None:
        """Record the user's answer to a user code; an error message when it cannot be."""
        with self._lock:
            grant = self._by_user_code.get(user_code.strip().upper())
            if grant is None:
                return "unknown user code"
            if grant.expires_at <= self.clock.time():
                return "the user code has expired"
            if grant.state != "pending" or grant.redeemed:
                return f"the user code was already {grant.state}"
            if approve:
                assert user is not None
                grant.state = "approved"
                grant.user_id, grant.login = user
            else:
                grant.state = "denied"
            return None

    def poll(self, device_code: str, client_id: str) -> PollAnswer | DeviceGrant:
        """The token endpoint's view of a device code: an error message, or the approved grant
        (marked exchanged: a device code yields one token)."""
        now = self.clock.time()
        with self._lock:
            grant = self._by_device.get(device_code)
            if grant is None or grant.client_id != client_id or grant.redeemed:
                return "invalid device code"
            if grant.expires_at <= now:
                return "expired_token"
            if grant.last_poll is not None and now - grant.last_poll < grant.interval:
                grant.last_poll = now
                grant.interval += SLOW_DOWN_STEP
                return "slow_down"
            grant.last_poll = now
            if grant.state == "denied":
                return "access_denied"
            if grant.state == "pending":
                return "authorization_pending"
            grant.redeemed = True
            return grant

    def pending(self) -> list[DeviceGrant]:
        """Device codes still waiting for a decision (for the simulator's inspection route)."""
        now = self.clock.time()
        with self._lock:
            return [
                g for g in self._by_device.values() if g.state == "pending" and g.expires_at > now
            ]

    def _purge_locked(self) -> None:
        """Forget codes long past expiry, so a long run keeps a bounded store."""
        horizon = self.clock.time() - self.ttl
        for grant in [g for g in self._by_device.values() if g.expires_at < horizon]:
            self._by_device.pop(grant.device_code, None)
            self._by_user_code.pop(grant.user_code, None)


class ConsentBook:
    """Consent changes made while the simulator runs (a broadcaster who disconnects the
    application withdraws; the `/_sim/auth/consent` route sets either way), over the
    population's drawn consent."""

    def __init__(self) -> None:
        self._overrides: dict[str, bool] = {}
        self._lock = threading.Lock()

    def set(self, user_id: str, consents: bool) -> None:
        with self._lock:
            self._overrides[user_id] = consents

    def get(self, user_id: str, drawn: bool | None) -> bool | None:
        """The consent in force: the override, else the drawn one (None: not a channel)."""
        if drawn is None:
            return None
        with self._lock:
            return self._overrides.get(user_id, drawn)

    def overrides(self) -> dict[str, bool]:
        with self._lock:
            return dict(self._overrides)
