"""The simulated Twitch over HTTP: Helix routes, plus OAuth (`auth`) and `/_sim` (`control`).

Every Helix route is served under `/mock` too, with `/units`, the shapes of Twitch's CLI
mock server (`mock_routes.py`).

`create_app` turns a `World` (what is true at simulated time t) and a `SimClock` into a
FastAPI app that answers like Twitch: the same paths, parameters, bodies, error bodies,
status codes and `Ratelimit-*` headers. Hot routes render JSON by hand from cached
fragments (no response models), so an `fr` snapshot's worth of requests is served fast.

Choices where Twitch is silent or the model differs, documented here once:
- Cursors are opaque base64 of a JSON `{"k": kind, "t": tick, "o": offset}` (streams) or
  `{"k": "c", "t": tick, "a": last_account_id}` (chatters). Within one tick of the world,
  paging neither drops nor repeats an item. Across ticks, streams page by offset in the new
  ranking (an item may repeat or be missed, as Twitch warns), chatters resume after the
  last account id (no repeats; a newcomer with a smaller id may be missed). Cursors are
  positions: `before=c` on Get Streams gives the `first` streams ranked just above `c`.
- Get Chatters on a channel that is not live answers 200 with an empty list and total 0:
  Twitch answers for offline chat rooms too, and in this model nobody sits in an offline chat.
- Get Chatters errors follow Twitch's reference: 401 when the token is not a user token,
  lacks `moderator:read:chatters`, or its user is not `moderator_id`; 403 when that user
  may not moderate the channel.
- Who may read a chat list is the world's ground truth (`World.can_read_chatters`: the
  broadcaster or a moderator). A consenting broadcaster is read with their own token,
  obtained by the device code flow (`oauth.py`); Get Channel Followers and Get Moderated
  Channels are in `helix_user.py`.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _q
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from streamcensus.clock import SimClock
from streamcensus.simulator.auth import (
    CHATTERS_SCOPE,
    USER_TOKEN_TTL,
    ConsentBook,
    DeviceCodes,
    Token,
    TokenStore,
)
from streamcensus.simulator.control import add_control_routes
from streamcensus.simulator.helix_params import (
    JSON_TYPE,
    MAX_FILTER_VALUES,
    PICTURES,
    HelixError,
    decode_cursor,
    encode_cursor,
    error_response,
    int_param,
    list_param,
)
from streamcensus.simulator.helix_user import add_user_token_routes
from streamcensus.simulator.mock_routes import (
    add_helix_route,
    add_units_routes,
    mock_client_credentials,
)
from streamcensus.simulator.oauth import auth_control_router, oauth_router
from streamcensus.simulator.protocol import StreamRow, UserRow, World
from streamcensus.simulator.ratelimit import RateLimitDecision, RateLimiter
from streamcensus.timeutil import from_epoch, isoformat_z

# --- rendering -------------------------------------------------------------------------------


def thumbnail_url(login: str) -> str:
    return f"https://static-cdn.jtvnw.net/previews-ttv/live_user_{login}-{{width}}x{{height}}.jpg"


def stream_json(row: StreamRow) -> str:
    """One Get Streams item, in Twitch's field order."""
    return json.dumps(
        {
            "id": row.id,
            "user_id": row.user_id,
            "user_login": row.user_login,
            "user_name": row.user_name,
            "game_id": row.game_id,
            "game_name": row.game_name,
            "type": "live",
            "title": row.title,
            "viewer_count": row.viewer_count,
            "started_at": isoformat_z(from_epoch(row.started_at)),
            "language": row.language,
            "thumbnail_url": thumbnail_url(row.user_login),
            "tag_ids": [],
            "tags": list(row.tags),
            "is_mature": row.is_mature,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def user_json(row: UserRow) -> dict[str, Any]:
    """One Get Users item."""
    return {
        "id": row.id,
        "login": row.login,
        "display_name": row.display_name,
        "type": "",
        "broadcaster_type": row.broadcaster_type,
        "description": row.description,
        "profile_image_url": f"{PICTURES}/{row.login}-profile_image-300x300.png",
        "offline_image_url": "",
        "view_count": 0,
        "created_at": isoformat_z(from_epoch(row.created_at)),
    }


def page_body(items: list[str], cursor: str | None, extra: str = "") -> str:
    pagination = "{}" if cursor is None else '{"cursor":' + _q(cursor) + "}"
    return '{"data":[' + ",".join(items) + "]" + extra + ',"pagination":' + pagination + "}"


@dataclass
class StreamSnapshot:
    """Every live stream of one tick, pre-rendered, with lookup indexes."""

    tick: int
    rows: list[StreamRow]
    rendered: list[str]
    languages: list[str]
    game_ids: list[str]
    index_by_user_id: dict[str, int]
    index_by_login: dict[str, int]


class StreamCache:
    """Snapshots of the last few ticks and filtered index lists, so paging is cheap."""

    def __init__(self, world: World, ticks: int = 2, filters: int = 64) -> None:
        self.world = world
        self._snapshots: OrderedDict[int, StreamSnapshot] = OrderedDict()
        self._filtered: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self._ticks = ticks
        self._filters = filters
        self._lock = threading.Lock()

    def tick_of(self, t: float) -> int:
        return math.floor(t / self.world.tick_seconds)

    def snapshot(self, t: float) -> StreamSnapshot:
        tick = self.tick_of(t)
        with self._lock:
            found = self._snapshots.get(tick)
            if found is not None:
                self._snapshots.move_to_end(tick)
                return found
        rows = self.world.live_streams(t)
        snap = StreamSnapshot(
            tick=tick,
            rows=rows,
            rendered=[stream_json(r) for r in rows],
            languages=[r.language.lower() for r in rows],
            game_ids=[r.game_id for r in rows],
            index_by_user_id={r.user_id: i for i, r in enumerate(rows)},
            index_by_login={r.user_login.lower(): i for i, r in enumerate(rows)},
        )
        with self._lock:
            self._snapshots[tick] = snap
            while len(self._snapshots) > self._ticks:
                self._snapshots.popitem(last=False)
        return snap

    def select(
        self,
        snap: StreamSnapshot,
        languages: frozenset[str],
        game_ids: frozenset[str],
        user_ids: frozenset[str],
        logins: frozenset[str],
    ) -> list[int]:
        """Indexes (in ranking order) of the streams that pass every filter given."""
        if not (languages or game_ids or user_ids or logins):
            return list(range(len(snap.rows)))
        key = (snap.tick, languages, game_ids, user_ids, logins)
        with self._lock:
            found = self._filtered.get(key)
        if found is not None:
            return found
        if user_ids or logins:
            wanted = {snap.index_by_user_id[u] for u in user_ids if u in snap.index_by_user_id}
            wanted |= {snap.index_by_login[n] for n in logins if n in snap.index_by_login}
            candidates: list[int] = sorted(wanted)
        else:
            candidates = list(range(len(snap.rows)))
        if languages:
            candidates = [i for i in candidates if snap.languages[i] in languages]
        if game_ids:
            candidates = [i for i in candidates if snap.game_ids[i] in game_ids]
        with self._lock:
            self._filtered[key] = candidates
            while len(self._filtered) > self._filters:
                self._filtered.popitem(last=False)
        return candidates


Handler = Callable[[Request, Token, float], Awaitable[str]]


def create_app(
    world: World,
    clock: SimClock,
    *,
    rate_limit_points: int = 800,
    rate_limit_window: float = 60.0,
    require_client_id: str | None = None,
    require_client_secret: str | None = None,
    token_ttl: float = USER_TOKEN_TTL,
) -> FastAPI:
    """A Helix-compatible app over `world`, keeping time (tokens, rate limit) on `clock`."""
    store = TokenStore(
        clock,
        ttl=token_ttl,
        require_client_id=require_client_id,
        require_client_secret=require_client_secret,
    )
    devices = DeviceCodes(clock)
    consent = ConsentBook()
    limiter = RateLimiter(rate_limit_points, rate_limit_window)
    streams = StreamCache(world)
    app = FastAPI(
        title="streamcensus simulated Twitch",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.world = world
    app.state.clock = clock
    app.state.tokens = store
    app.state.devices = devices
    app.state.consent = consent
    app.state.rate_limiter = limiter

    def find_user(user_id: str) -> tuple[str, str] | None:
        found = world.users_by_id([user_id]) if user_id else []
        return (found[0].id, found[0].login) if found else None

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(500, "Internal Server Error")

    def authenticate(request: Request) -> Token:
        """The gateway checks of every Helix call: token, then client id (401s)."""
        header = request.headers.get("authorization")
        if not header:
            raise HelixError(401, "OAuth token is missing")
        scheme, _, value = header.partition(" ")
        token = store.lookup(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise HelixError(401, "Invalid OAuth token")
        client_id = request.headers.get("client-id")
        if not client_id:
            raise HelixError(401, "Client-Id header required")
        if client_id != token.client_id:
            raise HelixError(401, "Client ID and OAuth token do not match")
        return token

    def helix(path: str) -> Callable[[Handler], Handler]:
        """Register a Helix GET route behind authentication and the rate limit."""

        def register(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                try:
                    token = authenticate(request)
                except HelixError as exc:
                    return error_response(exc.status, exc.message)
                now = clock.time()
                decision: RateLimitDecision = limiter.take(token.rate_limit_key(), now)
                headers = decision.headers()
                if not decision.allowed:
                    return error_response(429, "Too Many Requests", headers)
                try:
                    body = await handler(request, token, now)
                except HelixError as exc:
                    return error_response(exc.status, exc.message, headers)
                return Response(body, headers=headers, media_type=JSON_TYPE)

            add_helix_route(app, path, endpoint)  # at /helix/... and the mock server's /mock/...
            return handler

        return register

    @helix("/helix/streams")
    async def get_streams(request: Request, token: Token, now: float) -> str:
        first = int_param(request, "first", 20, 1, 100)
        kind = request.query_params.get("type", "all") or "all"
        if kind not in ("all", "live"):
            raise HelixError(400, 'The parameter "type" was malformed: use "all" or "live"')
        user_ids = list_param(request, "user_id")
        logins = [v.lower() for v in list_param(request, "user_login")]
        if len(user_ids) + len(logins) > MAX_FILTER_VALUES:
            raise HelixError(400, "The request may specify at most 100 user_id and user_login")
        languages = [v.lower() for v in list_param(request, "language")]
        game_ids = list_param(request, "game_id")
        if len(languages) > MAX_FILTER_VALUES or len(game_ids) > MAX_FILTER_VALUES:
            raise HelixError(400, "The request may specify at most 100 language and game_id")
        after = request.query_params.get("after")
        before = request.query_params.get("before")
        if after and before:
            raise HelixError(400, "The request may specify after or before, not both")
        snap = streams.snapshot(now)
        chosen = streams.select(
            snap, frozenset(languages), frozenset(game_ids), frozenset(user_ids), frozenset(logins)
        )
        if before:
            end = min(decode_cursor(before, "s", "o"), len(chosen))
            start = max(0, end - first)
            cursor = encode_cursor({"k": "s", "t": snap.tick, "o": start}) if start > 0 else None
        else:
            start = decode_cursor(after, "s", "o") if after else 0
            end = min(start + first, len(chosen))
            more = end < len(chosen)
            cursor = encode_cursor({"k": "s", "t": snap.tick, "o": end}) if more else None
        items = [snap.rendered[i] for i in chosen[start:end]] if start < end else []
        return page_body(items, cursor)

    @helix("/helix/users")
    async def get_users(request: Request, token: Token, now: float) -> str:
        ids = list_param(request, "id")
        logins = list_param(request, "login")
        if len(ids) + len(logins) > MAX_FILTER_VALUES:
            raise HelixError(400, "The request may specify at most 100 id and login")
        if not ids and not logins:
            if token.user_id is None:
                raise HelixError(400, "Must provide an ID, Login or OAuth Token")
            ids = [token.user_id]
        rows = world.users_by_id(ids) if ids else []
        seen = {r.id for r in rows}
        if logins:
            rows += [r for r in world.users_by_login(logins) if r.id not in seen]
        return json.dumps({"data": [user_json(r) for r in rows]}, ensure_ascii=False)

    @helix("/helix/chat/chatters")
    async def get_chatters(request: Request, token: Token, now: float) -> str:
        broadcaster_id = request.query_params.get("broadcaster_id", "")
        moderator_id = request.query_params.get("moderator_id", "")
        if not broadcaster_id:
            raise HelixError(400, "The broadcaster_id query parameter is required.")
        if not moderator_id:
            raise HelixError(400, "The moderator_id query parameter is required.")
        first = int_param(request, "first", 100, 1, 1000)
        if not token.is_user:
            raise HelixError(
                401, "The Authorization header is required and must contain a user access token."
            )
        if CHATTERS_SCOPE not in token.scopes:
            raise HelixError(401, f"Missing scope: {CHATTERS_SCOPE}")
        if token.user_id != moderator_id:
            raise HelixError(
                401,
                "The ID in the moderator_id query parameter must match the user ID "
                "in the access token.",
            )
        if not world.can_read_chatters(moderator_id, broadcaster_id):
            if not world.users_by_id([broadcaster_id]):
                raise HelixError(400, "The ID in the broadcaster_id query parameter is not valid.")
            raise HelixError(
                403,
                "The user in the moderator_id query parameter is not one of the "
                "broadcaster's moderators.",
            )
        after = request.query_params.get("after")
        last_id = decode_cursor(after, "c", "a") if after else -1
        listed = world.chatters(broadcaster_id, now)
        if listed is None:
            return page_body([], None, ',"total":0')
        ids = listed.account_ids
        start = int(np.searchsorted(ids, last_id, side="right")) if after else 0
        page = ids[start : start + first]
        total = int(ids.shape[0])
        cursor = None
        if start + first < total:
            tick = math.floor(now / world.tick_seconds)
            cursor = encode_cursor({"k": "c", "t": tick, "a": int(page[-1])})
        return page_body(chatter_items(world, page), cursor, f',"total":{total}')

    add_user_token_routes(helix, world)
    app.include_router(oauth_router(store, devices, find_user, prefix="/oauth2"))
    app.include_router(oauth_router(store, devices, find_user, prefix="/auth"))
    app.include_router(auth_control_router(store, devices, world, consent))
    add_control_routes(app, world, clock, lambda t: streams.snapshot(t).rendered)
    mock_id, mock_secret = mock_client_credentials(world.seed)
    add_units_routes(
        app,
        client_id=require_client_id or mock_id,
        client_secret="" if require_client_secret is not None else mock_secret,
        live_streams=lambda: streams.snapshot(clock.time()).rendered,
        users_by_id=world.users_by_id,
        user_json=user_json,
    )
    return app


def chatter_items(world: World, page: np.ndarray[Any, np.dtype[np.int64]]) -> list[str]:
    """Get Chatters items for a page of account ids, rendered by one format per item."""
    if page.shape[0] == 0:
        return []
    logins = map(_q, world.logins(page))
    names = map(_q, world.display_names(page))
    return [_CHATTER % item for item in zip(page.tolist(), logins, names, strict=True)]


_CHATTER = '{"user_id":"%d","user_login":%s,"user_name":%s}'
