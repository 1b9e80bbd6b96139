"""Helix routes that need a user access token besides Get Chatters: followers and moderation.

Get Channel Followers (`GET /helix/channels/followers`) follows Twitch's reference: any
user access token gets the channel's `total`; the list of followers comes only with the
`moderator:read:followers` scope and a token whose user is the broadcaster or one of its
moderators, otherwise `data` is empty. An app token is refused (401). The simulator keeps
follower totals, not who follows whom: a permitted list is made of stand-in accounts
(`follower_<n>`, ids outside the population), newest first, and the `user_id` filter
finds nobody. streamcensus itself never asks for that scope: it reads totals only.

Get Moderated Channels (`GET /helix/moderation/channels`) needs the
`user:read:moderated_channels` scope and `user_id` equal to the token's user; it lists the
channels that user moderates, so a moderator token learns which chat lists it may read.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Protocol

from fastapi import Request

from streamcensus.simulator.auth import FOLLOWERS_SCOPE, MODERATED_CHANNELS_SCOPE, Token
from streamcensus.simulator.helix_params import (
    HelixError,
    decode_cursor,
    encode_cursor,
    int_param,
)
from streamcensus.simulator.protocol import World
from streamcensus.timeutil import from_epoch, isoformat_z

USER_TOKEN_REQUIRED = "The Authorization header is required and must contain a user access token."
_FOLLOWER_ID_BASE = 90_000_000_000  # stand-in follower ids, outside the population's ids

Handler = Callable[[Request, Token, float], Awaitable[str]]


class Register(Protocol):
    """The app's decorator that puts a handler behind authentication and the rate limit."""

    def __call__(self, path: str) -> Callable[[Handler], Handler]: ...


def add_user_token_routes(helix: Register, world: World) -> None:
    """Register Get Channel Followers and Get Moderated Channels with `helix`."""

    @helix("/helix/channels/followers")
    async def get_followers(request: Request, token: Token, now: float) -> str:
        broadcaster_id = request.query_params.get("broadcaster_id", "")
        if not broadcaster_id:
            raise HelixError(400, "The broadcaster_id query parameter is required.")
        first = int_param(request, "first", 20, 1, 100)
        if not token.is_user:
            raise HelixError(401, USER_TOKEN_REQUIRED)
        total = world.followers_total(broadcaster_id, now)
        if total is None:
            raise HelixError(400, "The ID in the broadcaster_id query parameter is not valid.")
        permitted = (
            FOLLOWERS_SCOPE in token.scopes
            and token.user_id is not None
            and world.can_read_chatters(token.user_id, broadcaster_id)
        )
        items: list[dict[str, str]] = []
        cursor: str | None = None
        if permitted and not request.query_params.get("user_id"):
            after = request.query_params.get("after")
            start = decode_cursor(after, "f", "o") if after else 0
            end = min(total, start + first)
            items = [_follower(broadcaster_id, total - 1 - k, k, now) for k in range(start, end)]
            if end < total:
                cursor = encode_cursor({"k": "f", "o": end})
        return json.dumps(
            {
                "total": total,
                "data": items,
                "pagination": {} if cursor is None else {"cursor": cursor},
            },
            separators=(",", ":"),
        )

    @helix("/helix/moderation/channels")
    async def get_moderated_channels(request: Request, token: Token, now: float) -> str:
        user_id = request.query_params.get("user_id", "")
        if not user_id:
            raise HelixError(400, "The user_id query parameter is required.")
        first = int_param(request, "first", 20, 1, 100)
        if not token.is_user:
            raise HelixError(401, USER_TOKEN_REQUIRED)
        if MODERATED_CHANNELS_SCOPE not in token.scopes:
            raise HelixError(401, f"Missing scope: {MODERATED_CHANNELS_SCOPE}")
        if token.user_id != user_id:
            raise HelixError(
                401, "The ID in user_id must match the user ID found in the request's OAuth token."
            )
        channels = world.moderated_channels(user_id)
        after = request.query_params.get("after")
        start = decode_cursor(after, "m", "o") if after else 0
        page = channels[start : start + first]
        more = start + first < len(channels)
        body = {
            "data": [
                {
                    "broadcaster_id": row.id,
                    "broadcaster_login": row.login,
                    "broadcaster_name": row.display_name,
                }
                for row in page
            ],
            "pagination": {"cursor": encode_cursor({"k": "m", "o": start + first})} if more else {},
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _follower(broadcaster_id: str, number: int, newest: int, now: float) -> dict[str, str]:
    """The stand-in for a channel's `number`-th follower (0 = the first ever), the
    `newest`-th most recent one (0 = followed a minute ago)."""
    follower = _FOLLOWER_ID_BASE + (int(broadcaster_id) % 100_000) * 10_000_000 + number
    return {
        "user_id": str(follower),
        "user_login": f"follower_{follower}",
        "user_name": f"follower_{follower}",
        "followed_at": isoformat_z(from_epoch(now - 60.0 * (1 + newest))),
    }
