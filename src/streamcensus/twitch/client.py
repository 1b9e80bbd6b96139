"""The Helix client: typed, paced, retrying calls to Twitch (or any Helix-compatible server).

One `HelixClient` per process shares one `httpx.AsyncClient`. The endpoints here build
queries and read pages; every request goes through `Caller.call` (`caller.py`), the
single retry loop, and draws on the app or user token bucket's `Pacer`.
"""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from types import TracebackType
from typing import Any, TypeVar

import httpx

from streamcensus.clock import Clock, WallClock
from streamcensus.twitch.auth import (
    CHATTERS_SCOPE,
    AccessToken,
    TokenKeeper,
    TokenKind,
    UserLane,
    UserTokenSource,
    client_credentials_form,
    mock_auth_base,
    mock_user_token_params,
    parse_token_response,
)
from streamcensus.twitch.caller import Caller, Params
from streamcensus.twitch.config import HelixConfig
from streamcensus.twitch.errors import BadRequest, CredentialsRejected, Forbidden, Unauthorized
from streamcensus.twitch.http import http_client
from streamcensus.twitch.models import (
    Chatters,
    ModeratedChannel,
    Stream,
    TokenInfo,
    User,
    followers_total_from_json,
    json_body,
    moderated_channel_from_json,
    page_parser,
    parse_chatter_page,
    stream_from_json,
    token_info_from_json,
    user_from_json,
)
from streamcensus.twitch.oauth import OAuthClient
from streamcensus.twitch.pacing import Pacer
from streamcensus.twitch.stats import ClientStats

T = TypeVar("T")

MAX_IDS_PER_REQUEST = 100  # Helix: at most 100 user_id / user_login / id values per call
MAX_STREAMS_PAGE = 100  # Helix: `first` <= 100 for streams
MAX_CHATTERS_PAGE = 1000  # Helix: `first` <= 1000 for chatters
MAX_MODERATED_PAGE = 100  # Helix: `first` <= 100 for moderated channels
MAX_PAGES = 100_000  # a bound on any pagination loop


def _chunks(values: Sequence[str], size: int = MAX_IDS_PER_REQUEST) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


class HelixClient:
    """Async Helix client with token handling, pacing, retries and counters.

    Give it either an `httpx.AsyncClient` to share (`http`, left open on `aclose`) or a
    transport (`transport`, e.g. `httpx.MockTransport` in tests) for the client it creates.
    """

    def __init__(
        self,
        config: HelixConfig,
        *,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        user_token_refresher: Callable[[], Awaitable[str]] | None = None,
        stats: ClientStats | None = None,
    ) -> None:
        if http is not None and transport is not None:
            raise ValueError("give either an http client or a transport, not both")
        self.config = config
        self.stats = stats if stats is not None else ClientStats()
        self._clock: Clock = clock if clock is not None else WallClock()
        self._owns_http = http is None
        if http is None:
            http = http_client(config.concurrency, config.timeout, transport)
        self._http = http
        margin = config.pacing_margin
        self.app_pacer = Pacer(self._clock, self.stats, name="app", margin=margin)
        self.user_pacer = Pacer(self._clock, self.stats, name="user", margin=margin)
        self._tokens = TokenKeeper(
            self._clock,
            self.stats,
            self._fetch_app_token,
            user_token=config.user_token,
            user_token_refresher=user_token_refresher,
        )
        self._caller = Caller(
            config,
            http,
            self._clock,
            rng if rng is not None else random.Random(),
            self.stats,
            self._tokens,
            self.app_pacer,
            self.user_pacer,
        )
        self.oauth = OAuthClient(config, self._caller, self._clock)

    async def __aenter__(self) -> HelixClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    @property
    def has_user_token(self) -> bool:
        """True when chatters can be requested (a user token or a way to obtain one)."""
        return self._tokens.has_user_token

    def set_user_token(
        self, token: str, refresher: Callable[[], Awaitable[str]] | None = None
    ) -> None:
        """Use `token` for chatters from now on (and `refresher` to renew it after a 401)."""
        self._tokens.set_user_token(token, refresher)

    def lane(self, source: UserTokenSource) -> UserLane:
        """A user token with a rate-limit bucket of its own (Twitch: per client and user)."""
        pacer = Pacer(
            self._clock,
            self.stats,
            name=f"user:{source.user_id}",
            margin=self.config.pacing_margin,
        )
        return UserLane(source, pacer)

    # ------------------------------------------------------------------ streams, users

    async def iter_streams(
        self,
        *,
        language: str | None = None,
        first: int = MAX_STREAMS_PAGE,
        user_logins: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        limit: int | None = None,
        stream_type: str | None = None,
    ) -> AsyncGenerator[Stream, None]:
        """Live streams in Helix order (viewers, descending), following `after` cursors.

        `user_logins` / `user_ids` are sent 100 per request. A channel is yielded once even
        if it appears on two pages; iteration stops after `limit` streams.
        """
        if limit is not None and limit <= 0:
            return
        base: Params = [("first", str(max(1, min(first, MAX_STREAMS_PAGE))))]
        if language:
            base.append(("language", language))
        if stream_type:
            base.append(("type", stream_type))
        queries: list[Params] = []
        for name, values in (("user_id", user_ids), ("user_login", user_logins)):
            if values is not None:
                queries.extend([(name, v) for v in chunk] for chunk in _chunks(values))
        if user_ids is None and user_logins is None:
            queries.append([])
        seen: set[str] = set()
        url = f"{self.config.helix_url}/streams"
        for query in queries:
            pages = self._pages(url, base + query, "app", stream_from_json)
            async with aclosing(pages):
                async for streams, _total in pages:
                    for stream in streams:
                        if stream.user_id in seen:
                            continue
                        seen.add(stream.user_id)
                        yield stream
                        if limit is not None and len(seen) >= limit:
                            return

    async def get_streams(
        self,
        *,
        language: str | None = None,
        first: int = MAX_STREAMS_PAGE,
        user_logins: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        limit: int | None = None,
        stream_type: str | None = None,
    ) -> list[Stream]:
        """`iter_streams` collected into a list."""
        streams = self.iter_streams(
            language=language,
            first=first,
            user_logins=user_logins,
            user_ids=user_ids,
            limit=limit,
            stream_type=stream_type,
        )
        async with aclosing(streams):
            return [stream async for stream in streams]

    async def get_users(self, *, ids: Sequence[str] = (), logins: Sequence[str] = ()) -> list[User]:
        """Accounts by id and/or login, 100 values per request; unknown ones are skipped."""
        url = f"{self.config.helix_url}/users"
        users: list[User] = []
        for name, values in (("id", ids), ("login", logins)):
            for chunk in _chunks(values):
                params: Params = [(name, value) for value in chunk]
                page_users, _cursor, _total = await self._caller.call(
                    "GET", url, page_parser(user_from_json), params=params, kind="app"
                )
                users.extend(page_users)
        return users

    # ------------------------------------------------------------------ chatters

    async def get_chatters(
        self,
        broadcaster_id: str,
        moderator_id: str,
        first: int = MAX_CHATTERS_PAGE,
        *,
        lane: UserLane | None = None,
    ) -> Chatters:
        """Everyone in a channel's chat list, all pages, with the user token (or `lane`'s).

        Raises `Forbidden` when the token's user may not read this channel (not retried).
        """
        url = f"{self.config.helix_url}/chat/chatters"
        base: Params = [
            ("broadcaster_id", broadcaster_id),
            ("moderator_id", moderator_id),
            ("first", str(max(1, min(first, MAX_CHATTERS_PAGE)))),
        ]
        user_ids: list[str] = []
        user_logins: list[str] = []
        seen: set[str] = set()
        cursors: set[str] = set()
        total: int | None = None
        pages = 0
        after: str | None = None
        while pages < MAX_PAGES:
            params = base if after is None else [*base, ("after", after)]
            ids, logins, after, page_total = await self._caller.call(
                "GET", url, parse_chatter_page, params=params, kind="user", lane=lane
            )
            pages += 1
            if page_total is not None:
                total = page_total
            for user_id, login in zip(ids, logins, strict=True):
                if user_id not in seen:  # lists shift between pages while people come and go
                    seen.add(user_id)
                    user_ids.append(user_id)
                    user_logins.append(login)
            if not ids or after is None or after in cursors:
                break
            cursors.add(after)
        return Chatters(
            broadcaster_id=broadcaster_id,
            user_ids=user_ids,
            user_logins=user_logins,
            total=total if total is not None else len(user_ids),
            pages=pages,
        )

    # ------------------------------------------------------------------ user-token reads

    async def get_moderated_channels(self, lane: UserLane) -> list[ModeratedChannel]:
        """Every channel the lane's user moderates (needs `user:read:moderated_channels`)."""
        url = f"{self.config.helix_url}/moderation/channels"
        params: Params = [("user_id", lane.user_id), ("first", str(MAX_MODERATED_PAGE))]
        parse = page_parser(moderated_channel_from_json)
        channels: list[ModeratedChannel] = []
        cursors: set[str] = set()
        after: str | None = None
        for _ in range(MAX_PAGES):
            query = params if after is None else [*params, ("after", after)]
            page, after, _total = await self._caller.call(
                "GET", url, parse, params=query, lane=lane
            )
            channels.extend(page)
            if not page or after is None or after in cursors:
                break
            cursors.add(after)
        return channels

    async def get_followers_total(self, broadcaster_id: str, lane: UserLane) -> int:
        """A channel's follower total (Get Channel Followers answers it for any user token).

        Asks for one item and keeps only `total`: streamcensus never requests the scope
        that lists followers, and drops any listed one unread (P1).
        """
        url = f"{self.config.helix_url}/channels/followers"
        params: Params = [("broadcaster_id", broadcaster_id), ("first", "1")]
        return await self._caller.call(
            "GET", url, followers_total_from_json, params=params, lane=lane
        )

    # ------------------------------------------------------------------ tokens

    async def app_token(self) -> str:
        """The current app access token (obtained on first use)."""
        return await self._tokens.get("app")

    async def validate_token(self, token: str | None = None) -> TokenInfo:
        """`GET {auth_url}/validate` for `token` (default: the user token)."""
        value = token if token is not None else await self._tokens.get("user")
        url = f"{self.config.auth_url}/validate"

        def parse(response: httpx.Response) -> TokenInfo:
            return token_info_from_json(json_body(response), response.url.path)

        return await self._caller.call("GET", url, parse, authorization=f"OAuth {value}")

    async def obtain_mock_user_token(
        self,
        user_id: str,
        scopes: Sequence[str] = (CHATTERS_SCOPE,),
        *,
        install: bool = True,
    ) -> str:
        """A user token from a Twitch-CLI-mock `POST {base}/auth/authorize` (the simulator).

        With `install`, the token is used for chatters from now on, and a 401 on it
        obtains a fresh one the same way.
        """
        url = f"{mock_auth_base(self.config.auth_url)}/auth/authorize"
        params = mock_user_token_params(
            self.config.client_id, self.config.client_secret, user_id, scopes
        )

        def parse(response: httpx.Response) -> AccessToken:
            return parse_token_response(response, self._clock.time())

        token = await self._caller.call("POST", url, parse, params=list(params.items()))
        if install:

            async def refresh() -> str:
                return await self.obtain_mock_user_token(user_id, scopes, install=False)

            self._tokens.set_user_token(token.value, refresh)
        return token.value

    async def _fetch_app_token(self) -> AccessToken:
        """Client-credentials grant at `{auth_url}/token`."""
        url = f"{self.config.auth_url}/token"
        form = client_credentials_form(self.config.client_id, self.config.client_secret)

        def parse(response: httpx.Response) -> AccessToken:
            return parse_token_response(response, self._clock.time())

        try:
            return await self._caller.call("POST", url, parse, data=form)
        except (BadRequest, Unauthorized, Forbidden) as exc:
            raise CredentialsRejected(
                f"Twitch refused the client credentials ({exc.status}): "
                "check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET",
                status=exc.status,
                endpoint=exc.endpoint,
            ) from None

    # ------------------------------------------------------------------ core

    async def _pages(
        self, url: str, params: Params, kind: TokenKind, build: Callable[[Any], T]
    ) -> AsyncGenerator[tuple[list[T], int | None], None]:
        """Pages of records, following `pagination.cursor` until it is absent or repeats."""
        parse = page_parser(build)
        after: str | None = None
        cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            query = params if after is None else [*params, ("after", after)]
            items, after, total = await self._caller.call(
                "GET", url, parse, params=query, kind=kind
            )
            yield items, total
            if not items or after is None or after in cursors:
                return
            cursors.add(after)
