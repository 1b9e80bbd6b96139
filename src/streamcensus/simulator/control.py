"""The simulator's own routes under `/_sim`: drive the clock, read the ground truth.

They sit outside `/helix` and need no token: a test or a benchmark driver uses them to
set or advance simulated time (`POST /_sim/clock`) and to compare what a collector saw
with what was true (`/_sim/truth/streams`, `/_sim/truth/chatters/{id}`). The simulator
listens on 127.0.0.1 by default, so these routes stay on the machine; and since a web page
of any site may still send a request to 127.0.0.1, every POST under `/_sim` takes only
`application/json` (which a page can send cross-site only after a CORS preflight that the
simulator never grants): a form or `text/plain` POST is a 415. Values are bounded so that
no request can put the simulator in a state where its routes fail: the clock stays within
2000-2100 and runs at most `MAX_SPEED` times real time. `/_sim/truth/communities` gives
the population's true audience communities, the answer community detection is scored on.

`json_object`, `check_json_content_type` and `bounded_number` are the validators of every
control route (faults.py uses the content-type check too).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Collection
from http import HTTPStatus

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from streamcensus.clock import ClockState, SimClock
from streamcensus.simulator.protocol import World
from streamcensus.timeutil import from_epoch, isoformat_z, parse_utc

StreamsAt = Callable[[float], list[str]]
"""Every live stream at a time, as rendered Get Streams items (JSON objects)."""

JSON_MEDIA_TYPE = "application/json"
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the simulated clock stays in this range
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
MIN_EPOCH = EARLIEST.timestamp()
MAX_EPOCH = LATEST.timestamp()
MAX_SPEED = 10_000.0  # simulated seconds per real second: a day in under 9 s
CLOCK_FIELDS = ("set", "advance", "speed")


class ControlError(Exception):
    """A control request refused, with its HTTP status and a message naming the problem."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, status: HTTPStatus | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class BadRequest(ControlError):
    """A 400."""


def error_body(status: int, message: str) -> dict[str, object]:
    """Twitch's error body."""
    return {"error": HTTPStatus(status).phrase, "status": status, "message": message}


def error_response(exc: ControlError) -> Response:
    """The answer to a refused control request."""
    return JSONResponse(error_body(exc.status, str(exc)), status_code=exc.status)


def check_json_content_type(content_type: str | None) -> None:
    """Refuse (415) a body that is not declared `application/json`.

    A web page can POST `text/plain`, a form or multipart to any address without asking
    first; `application/json` needs a CORS preflight, which the simulator never answers
    with permission. So a JSON-only route cannot be driven from another site.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        shown = f"{content_type!r}" if content_type else "none"
        raise ControlError(
            f"send the body as JSON with Content-Type: {JSON_MEDIA_TYPE} (got {shown})",
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        )


async def json_object(request: Request, fields: Collection[str]) -> dict[str, object]:
    """The request's JSON object body (an empty body is `{}`), with only `fields` in it."""
    check_json_content_type(request.headers.get("content-type"))
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise BadRequest("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest(f"unknown fields {unknown}: use {', '.join(fields)}")
    return body


def bounded_number(value: object, name: str, low: float, high: float) -> float:
    """A finite number in [low, high] (JSON's NaN, Infinity and huge integers refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{name}: expected a number, got {value!r}"[:300])
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or not low <= number <= high:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        raise BadRequest(
            f"{name}: must be a finite number from {low:.15g} to {high:.15g}, got {shown}"
        )
    return number


def _when(epoch: float) -> str:
    return isoformat_z(from_epoch(epoch))


def parse_moment(value: object, name: str) -> float:
    """Epoch seconds from an ISO-8601 time or a number (or numeric text), 2000 to 2100."""
    if isinstance(value, bool):
        raise BadRequest(f"{name}: expected an ISO time or epoch seconds, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if "T" in text and " " in text:
            text = text.replace(" ", "+")  # an unencoded `+00:00` offset arrives as a space
        try:
            value = float(text)
        except ValueError:
            try:
                value = parse_utc(text).timestamp()
            except (ValueError, OverflowError):
                raise BadRequest(f"{name}: not an ISO-8601 time: {value!r}"[:300]) from None
    elif not isinstance(value, int | float):
        raise BadRequest(f"{name}: expected an ISO time or epoch seconds, got {value!r}"[:300])
    try:
        return bounded_number(value, name, MIN_EPOCH, MAX_EPOCH)
    except BadRequest:
        raise BadRequest(
            f"{name}: the simulated clock runs from {_when(MIN_EPOCH)} to {_when(MAX_EPOCH)}"
        ) from None


def parse_seconds(value: object, name: str) -> float:
    """A finite number of seconds >= 0 (at most the clock's whole range)."""
    try:
        return bounded_number(value, name, 0.0, MAX_EPOCH - MIN_EPOCH)
    except BadRequest:
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise BadRequest(f"{name}: must be a finite number >= 0, got {value!r}") from None
        raise


def parse_speed(value: object) -> float:
    """A speed-up from 0 (the clock stands still) to `MAX_SPEED`."""
    return bounded_number(value, "speed", 0.0, MAX_SPEED)


def clock_body(state: ClockState) -> dict[str, object]:
    """The clock as JSON; a reading past what a date can hold shows `now` as null."""
    try:
        return dict(state.to_json())
    except (OverflowError, ValueError, OSError):
        return {"epoch": state.epoch, "speed": state.speed, "now": None}


def chat_info(app: FastAPI) -> dict[str, object]:
    """`{"chat": {"irc": "host:port", "websocket": "ws://host:port/"}}` once chat is served."""
    chat = getattr(app.state, "chat", None)
    return {"chat": chat.info()} if chat is not None else {}


def add_control_routes(app: FastAPI, world: World, clock: SimClock, streams_at: StreamsAt) -> None:
    """`/_sim/clock`, `/_sim/info` and `/_sim/truth/...` on `app`."""

    def at(request: Request) -> float:
        raw = request.query_params.get("at")
        if raw is not None and raw != "":
            return parse_moment(raw, "at")
        now = clock.time()
        if not MIN_EPOCH <= now <= MAX_EPOCH:
            raise ControlError(
                f"the simulated clock ({now:.0f} epoch seconds) has left {_when(MIN_EPOCH)} to "
                f"{_when(MAX_EPOCH)}: POST /_sim/clock with a time to set, or give ?at=",
                HTTPStatus.CONFLICT,
            )
        return now

    @app.get("/_sim/clock", include_in_schema=False)
    async def get_clock() -> Response:
        return JSONResponse(clock_body(clock.state()))

    @app.post("/_sim/clock", include_in_schema=False)
    async def post_clock(request: Request) -> Response:
        """Apply `set` (ISO time or epoch), then `advance` (seconds), with `speed` (x)."""
        try:
            body = await json_object(request, CLOCK_FIELDS)
            moment = parse_moment(body["set"], "set") if "set" in body else None
            advance = parse_seconds(body["advance"], "advance") if "advance" in body else None
            speed = parse_speed(body["speed"]) if "speed" in body else None
            if advance:
                start = moment if moment is not None else clock.time()
                if start + advance > MAX_EPOCH:
                    raise BadRequest(
                        f"advance: would take the clock past {_when(MAX_EPOCH)}, "
                        "the end of the simulated time"
                    )
        except ControlError as exc:
            return error_response(exc)
        if moment is not None:
            clock.set(moment, speed=speed)
        elif speed is not None:
            clock.set_speed(speed)
        if advance:
            clock.advance(advance)
        return JSONResponse(clock_body(clock.state()))

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
        except ControlError as exc:
            return error_response(exc)
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
        except ControlError as exc:
            return error_response(exc)
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

    @app.get("/_sim/truth/communities", include_in_schema=False)
    async def truth_communities(request: Request) -> Response:
        """The true audience communities and each channel's; `?language=fr` keeps one."""
        truth = world.communities_truth()
        language = request.query_params.get("language")
        if language:
            known = sorted({c["language"] for c in truth["communities"]})
            if language not in known:
                return error_response(
                    BadRequest(
                        f"language: expected one of {', '.join(known)}, got {language!r}"[:300]
                    )
                )
            truth = {
                **truth,
                "communities": [c for c in truth["communities"] if c["language"] == language],
                "channels": [c for c in truth["channels"] if c["language"] == language],
            }
        return JSONResponse(truth)
