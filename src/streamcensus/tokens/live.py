"""A user token kept usable for as long as its authorization lasts.

`LiveToken` is what a reader of chat lists or follower totals asks for a token. It
refreshes the token a few minutes before it expires and again after a 401 (refresh
tokens rotate: the new pair replaces the file atomically before the new token is used),
validates it at start and then every hour on the injected clock (Twitch asks apps to
validate hourly), and checks that it was issued to the configured client id and holds
the scopes the work needs. When a token can no longer be used (revoked, consent
withdrawn, refresh refused, another client's, missing a scope) its breaker trips: from
then on it answers `TokenUnusable` at once, without a request, and `broken` says why.
A transient failure of the auth host (down, garbage) trips nothing: validation is tried
again at the next snapshot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence

from pydantic import SecretStr

from streamcensus.clock import Clock
from streamcensus.tokens.store import Role, TokenRecord, TokenStore
from streamcensus.twitch import (
    HelixError,
    OAuthClient,
    RefreshTokenRejected,
    TokenInfo,
    TokenUnusable,
    Unauthorized,
    UserGrant,
)

log = logging.getLogger("streamcensus.tokens")

REFRESH_LEEWAY = 300.0  # seconds before expiry at which a token is refreshed
LEEWAY_SHARE = 0.25  # ... or this share of its lifetime, when that is shorter
VALIDATE_EVERY = 3600.0  # Twitch: validate user tokens at start and every hour
# validated up to this much early, so that a snapshot every 5 minutes never stretches the
# hour to 65 minutes (Twitch asks for at least one validation an hour)
VALIDATE_SLACK = 60.0


def record_from_grant(
    grant: UserGrant,
    info: TokenInfo,
    *,
    role: Role,
    auth_url: str,
    now: dt.datetime,
) -> TokenRecord:
    """A new record from a token grant and what `/validate` said about it."""
    if info.user_id is None or info.login is None:
        raise TokenUnusable("the auth server validated the token as an app token, not a user's")
    lifetime = info.expires_in if info.expires_in else grant.expires_in
    return TokenRecord(
        user_id=info.user_id,
        login=info.login,
        role=role,
        client_id=info.client_id,
        auth_url=auth_url,
        scopes=tuple(info.scopes) or grant.scopes,
        access_token=SecretStr(grant.access_token),
        refresh_token=SecretStr(grant.refresh_token) if grant.refresh_token else None,
        expires_at=now + dt.timedelta(seconds=lifetime) if lifetime else None,
        obtained_at=now,
        validated_at=now,
    )


def foreign_client(stored: str, configured: str) -> str:
    """The breaker's reason for a token stored for another application."""
    return (
        f"stored for client id {stored}, not the configured {configured}: "
        "run `streamcensus auth login` with this application"
    )


@dataclasses.dataclass
class TokenCounters:
    """What a token cost since start: refreshes and validations (for the manifest)."""

    refreshes: int = 0
    validations: int = 0


class LiveToken:
    """One user token: refreshed, validated hourly, with a breaker.

    `store` is where a rotated refresh token is written (None for a token managed by the
    person, such as `TWITCH_MODERATOR_TOKEN`, which has no refresh token either).
    """

    def __init__(
        self,
        record: TokenRecord,
        oauth: OAuthClient,
        clock: Clock,
        *,
        store: TokenStore | None,
        client_id: str,
        required_scopes: Sequence[str],
        refresh_leeway: float = REFRESH_LEEWAY,
        validate_every: float = VALIDATE_EVERY,
        label: str = "",
    ) -> None:
        self.record = record
        self._oauth = oauth
        self._clock = clock
        self._store = store
        self._client_id = client_id
        self.required_scopes = tuple(required_scopes)
        self._leeway = refresh_leeway
        self._every = validate_every
        self.label = label or f"{record.role} token of {record.login}"
        self.broken: str | None = None
        self.counters = TokenCounters()
        self._lock = asyncio.Lock()
        self._validated_at: float | None = None
        lifetime = record.expires_in(record.obtained_at)
        self._lifetime = lifetime if lifetime and lifetime > 0 else None

    # -- UserTokenSource ---------------------------------------------------------------

    @property
    def user_id(self) -> str:
        return self.record.user_id

    @property
    def login(self) -> str:
        return self.record.login

    @property
    def role(self) -> Role:
        return self.record.role

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.record.scopes

    async def access_token(self) -> str:
        """The token to send now; refreshed first when it expires within the leeway."""
        self._raise_if_broken()
        expires = self.record.expires_in(self._clock.now())
        if expires is not None and expires <= self._refresh_at() and self.record.refreshable:
            stale = self.record.access_token.get_secret_value()
            async with self._lock:
                if self.record.access_token.get_secret_value() == stale:
                    await self._refresh_locked()
        self._raise_if_broken()
        return self.record.access_token.get_secret_value()

    async def renew(self, stale: str) -> bool:
        """After a 401: refresh once (unless another task already did); trip when refused."""
        if self.broken is not None:
            return False
        if not self.record.refreshable:
            self.trip(
                "the token was refused (401) and has no refresh token: "
                "set a new TWITCH_MODERATOR_TOKEN or run `streamcensus auth login`"
            )
            return False
        async with self._lock:
            if self.record.access_token.get_secret_value() != stale:
                return self.broken is None
            await self._refresh_locked()
        return self.broken is None

    # -- lifecycle ---------------------------------------------------------------------

    def _refresh_at(self) -> float:
        """Seconds before expiry to refresh: the leeway, or a quarter of a short lifetime."""
        if self._lifetime is None:
            return self._leeway
        return min(self._leeway, LEEWAY_SHARE * self._lifetime)

    def trip(self, reason: str) -> None:
        """Open the breaker: no more requests with this token."""
        if self.broken is None:
            self.broken = reason
            log.warning("%s is unusable: %s", self.label, reason)

    def _raise_if_broken(self) -> None:
        if self.broken is not None:
            raise TokenUnusable(self.broken)

    async def _refresh_locked(self) -> None:
        refresh = self.record.refresh_token
        assert refresh is not None
        try:
            grant = await self._oauth.refresh(refresh.get_secret_value())
        except RefreshTokenRejected as exc:
            self.trip(
                f"the refresh token was refused ({exc.detail or exc.status}): the authorization "
                "is gone (revoked or consent withdrawn) or the refresh token was used elsewhere"
            )
            return
        now = self._clock.now()
        lifetime = grant.expires_in
        if lifetime:
            self._lifetime = float(lifetime)
        self.record = self.record.model_copy(
            update={
                "access_token": SecretStr(grant.access_token),
                "refresh_token": (
                    SecretStr(grant.refresh_token) if grant.refresh_token else refresh
                ),
                "expires_at": now + dt.timedelta(seconds=lifetime) if lifetime else None,
                "scopes": grant.scopes or self.record.scopes,
            }
        )
        self.counters.refreshes += 1
        if self._store is not None:
            self._store.put(self.record)  # atomic: the rotated refresh token is never lost
        log.info("%s refreshed", self.label)

    def validation_due(self) -> bool:
        if self._validated_at is None:
            return True
        slack = min(VALIDATE_SLACK, self._every / 10)
        return self._clock.time() - self._validated_at >= self._every - slack

    async def validate(self, *, force: bool = False) -> bool:
        """Validate when due (or `force`): True when the token is usable afterwards.

        A 401 is answered by one refresh and a second validation; a token of another
        client id, of another user or without a needed scope trips the breaker.
        """
        if self.broken is not None:
            return False
        if not force and not self.validation_due():
            return True
        began = self._clock.time()
        try:
            info = await self._validate_once()
        except Unauthorized:
            if not await self.renew(self.record.access_token.get_secret_value()):
                if self.broken is None:
                    self.trip("the token is no longer valid (401 on /validate)")
                return False
            try:
                info = await self._validate_once()
            except Unauthorized:
                self.trip("the token is no longer valid (401 on /validate after a refresh)")
                return False
        except HelixError as exc:  # auth host down or garbled: not the token's fault
            log.warning("%s: could not validate (%s); trying again later", self.label, exc)
            return True
        self._check(info)
        if self.broken is not None:
            return False
        now = self._clock.now()
        update: dict[str, object] = {"validated_at": now, "scopes": tuple(info.scopes)}
        if info.expires_in:
            update["expires_at"] = now + dt.timedelta(seconds=info.expires_in)
        self.record = self.record.model_copy(update=update)
        self._validated_at = began
        if self._store is not None:
            self._store.put(self.record)
        return True

    async def _validate_once(self) -> TokenInfo:
        self.counters.validations += 1
        return await self._oauth.validate(self.record.access_token.get_secret_value())

    def _check(self, info: TokenInfo) -> None:
        if info.client_id != self._client_id:
            self.trip(
                f"the token was issued to client id {info.client_id}, not the configured "
                f"{self._client_id}: run `streamcensus auth login` with this application"
            )
        elif info.user_id != self.record.user_id:
            self.trip(f"the token belongs to user {info.user_id}, not {self.record.user_id}")
        else:
            missing = [s for s in self.required_scopes if s not in info.scopes]
            if missing:
                self.trip(
                    f"the token lacks the scope {', '.join(missing)}: "
                    "run `streamcensus auth login` again to grant it"
                )

    def expires_at(self) -> dt.datetime | None:
        return self.record.expires_at

    def describe(self) -> str:
        """One line for logs and `auth status` (never the token)."""
        when = self.record.expires_at
        shown = when.isoformat() if when else "unknown"
        state = f"BROKEN: {self.broken}" if self.broken else "ok"
        return f"{self.label} (user {self.user_id}), expires {shown}: {state}"
