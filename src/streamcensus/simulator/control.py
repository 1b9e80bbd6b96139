"""The simulator's own routes under `/_sim`: drive the clock, read the ground truth.

They sit outside `/helix` and need no token: a test or a benchmark driver uses them to
set or advance simulated time (`POST /_sim/clock`) and to compare what a collector saw
with what was true (`/_sim/truth/streams`, `/_sim/truth/chatters/{id}`). The simulator
listens on 127.0.0.1 by default, so these routes stay on the machine.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from http import HTTPStatus

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from streamcensus.clock import SimClock
from streamcensus.simulator.protocol import World
from streamcensus.timeutil import from_epoch, isoformat_z, parse_utc

StreamsAt = Callable[[float], list[str]]
"""Every live stream at a time, as rendered Get Streams items (JSON objects)."""


class BadRequest(Exception):
    """A 400 answer with a message that names the problem."""


def bad_request(message: str) -> Response:
    """Twitch's error body, status 400."""
    body = {"error": HTTPStatus.BAD_REQUEST.phrase, "status": 400, "message": message}
    return JSONResponse(body, status_code=400)


def parse_moment(value: object, name: str) -> float:
    """Epoch seconds from an ISO-8601 time or a number (or numeric text)."""
    if isinstance(value, bool):
        raise BadRequest(f"{name}: expected an ISO time or epoch seconds, got {value!r}")
    if isinstance(value, int | float):
        moment = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if "T" in text and " " in text:
            text = text.replace(" ", "+")  # an unencoded `+00:00` offset arrives as a space
        try:
            moment = float(text)
        except ValueError:
            try:
                moment = parse_utc(text).timestamp()
            except ValueError:
                raise BadRequest(f"{name}: not an ISO-8601 time: {value!r}") from None
    else:
        raise BadRequest(f"{name}: expected an ISO time or epoch seconds, got {value!r}")
    if not math.isfinite(moment):
        raise BadRequest(f"{name}: must be finite")
    return moment


def parse_seconds(value: object, name: str) -> float:
    """A finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{name}: expected a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise BadRequest(f"{name}: must be a finite number >= 0, got {value!r}")
    return float(value)


def chat_info(app: FastAPI) -> dict[str, object]:
    """`{"chat": {"irc": "host:port", "websocket": "ws://host:port/"}}` once chat is served."""
    chat = getattr(app.state, "chat", None)
    return {"chat": chat.info()} if chat is not None else {}


def add_control_routes(app: FastAPI, world: World, clock: SimClock, streams_at: StreamsAt) -> None:
    """`/_sim/clock`, `/_sim/info` and `/_sim/truth/...` on `app`."""

    def at(request: Request) -> float:
        raw = request.query_params.get("at")
        return clock.time() if raw is None or raw == "" else parse_moment(raw, "at")

    @app.get("/_sim/clock", include_in_schema=False)
    async def get_clock() -> Response:
        return JSONResponse(clock.state().to_json())

    @app.post("/_sim/clock", include_in_schema=False)
    async def post_clock(request: Request) -> Response:
        """Apply `set` (ISO time or epoch), then `advance` (seconds), with `speed` (x)."""
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return bad_request("the body must be a JSON object")
        if not isinstance(body, dict):
            return bad_request("the body must be a JSON object")
        unknown = sorted(set(body) - {"set", "advance", "speed"})
        if unknown:
            return bad_request(f"unknown fields {unknown}: use set, advance, speed")
        try:
            moment = parse_moment(body["set"], "set") if "set" in body else None
            advance = parse_seconds(body["advance"], "advance") if "advance" in body else None
            speed = parse_seconds(body["speed"], "speed") if "speed" in body else None
        except BadRequest as exc:
            return bad_request(str(exc))
        if moment is not None:
            clock.set(moment, speed=speed)
        elif speed is not None:
            clock.set_speed(speed)
        if advance:
            clock.advance(advance)
        return JSONResponse(clock.state().to_json())

    @app.get("/_sim/info", include_in_schema=False)
    async def info() -> Response:
        operator = world.operator()
        return JSONResponse(
            {
                "scale": world.scale,
                "seed": world.seed,
                "tick_seconds": world.tick_seconds,
                "operator": {"id": operator.id, "login": operator.login},
                "rate_limit": {
                    "points": app.state.rate_limiter.points,
                    "window_seconds": app.state.rate_limiter.window,
                },
                "token_ttl_seconds": app.state.tokens.ttl,
                **chat_info(app),
            }
        )

    @app.get("/_sim/truth/streams", include_in_schema=False)
    async def truth_streams(request: Request) -> Response:
        """Every live stream at `at` (default: now), all languages, no paging."""
        try:
            t = at(request)
        except BadRequest as exc:
            return bad_request(str(exc))
        items = streams_at(t)
        body = (
            '{"at":'
            + json.dumps(isoformat_z(from_epoch(t)))
            + ',"tick":'
            + str(math.floor(t / world.tick_seconds))
            + ',"total":'
            + str(len(items))
            + ',"data":['
            + ",".join(items)
            + "]}"
        )
        return Response(body, media_type="application/json")

    @app.get("/_sim/truth/chatters/{broadcaster_id}", include_in_schema=False)
    async def truth_chatters(request: Request, broadcaster_id: str) -> Response:
        """Every chatter (id and login) of a channel at `at`; an empty list when offline."""
        try:
            t = at(request)
        except BadRequest as exc:
            return bad_request(str(exc))
        listed = world.chatters(broadcaster_id, t)
        ids = listed.account_ids if listed is not None else np.zeros(0, dtype=np.int64)
        logins = world.logins(ids) if ids.shape[0] else []
        return JSONResponse(
            {
                "at": isoformat_z(from_epoch(t)),
                "broadcaster_id": broadcaster_id,
                "live": listed is not None,
                "total": int(ids.shape[0]),
                "data": [
                    {"user_id": str(i), "user_login": login}
                    for i, login in zip(ids.tolist(), logins, strict=True)
                ],
            }
        )
