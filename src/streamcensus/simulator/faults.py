"""Fault injection for the simulated Twitch: a pure ASGI middleware driven by a JSON plan.

`FaultMiddleware(app, clock=...)` wraps the simulator's app and passes every request
through until a plan is set: `POST /_sim/faults` sets one, `GET` shows it with counters of
injected faults, `DELETE` clears it (answering the final counters). A plan:

    {"seed": 1, "rules": [{"path": "/helix/chat/chatters", "fault": "500", "rate": 0.2}]}

Rule fields: `path` (exact, or a prefix ending in `*`), `fault`, `rate` (0..1, default 1),
`count` (most injections), `skip` (matching requests let through first), `method`,
`query` (parameters that must be present with these values), `delay` (seconds, for
`timeout` and `delay`), `reset_in` (seconds ahead on the simulator clock, for `429`).
The first rule that fires decides. Whether it fires is a pure function of the seed, the
rule, the request (method, path, query string) and how often that same request came
before: runs repeat even when requests interleave differently, and a retry gets a fresh
draw.

Faults:
- `500`, `502`, `503`, `504`, `401`: that status with Twitch's error body.
- `429`: Twitch's body, `Ratelimit-Remaining: 0`, `Ratelimit-Reset` `reset_in` ahead.
- `timeout`: no answer for `delay` seconds (default 30, longer than clients wait); ends
  when the client hangs up, else the real answer follows. `delay`: the real answer, late.
- `reset`: the connection closes with nothing sent. uvicorn closes the transport when an
  ASGI callable returns something other than None, and httpx raises `RemoteProtocolError:
  Server disconnected without sending a response`. So the middleware must be the
  outermost app (Starlette's own middleware stack drops return values).
- `truncated`: the real answer's head (its `Content-Length`) and half its body, then the
  connection closes (httpx: `peer closed connection without sending complete message body`).
- `malformed`: a complete 200 whose body is not what Helix documents, in turn: JSON cut off,
  an object without `data`, an HTML gateway page.

Chat faults (the simulated chat server asks this plan too, with method `IRC`): a rule
whose `path` is `/chat/join/<channel>` applies to each JOIN of that channel, one under
`/chat/message/<channel>` to each message line sent to a client (`*` as above, e.g.
`/chat/message/*`). Draws are seeded like the HTTP ones (per path and occurrence).
- `irc_reset`: half of the line, then the connection is reset (mid-line).
- `irc_truncated`: half of the line and CR LF; the rest of that line is lost.
- `irc_malformed`: a line that is not IRC (tags cut off, a bare prefix, invalid UTF-8).
- `irc_reconnect`: `RECONNECT` instead of the line, then the connection closes.
- `irc_join_refused`: the JOIN gets no answer at all. `irc_join_ratelimited`: the
  connection is dropped, as when a client exceeds the join rate limit.
- `irc_suspended`: `NOTICE` with `msg-id=msg_channel_suspended` instead of the JOIN echo.

uvicorn logs an error for each deliberate hang-up; a filter on `uvicorn.error` drops those.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
import math
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from streamcensus.clock import Clock, WallClock
from streamcensus.simulator.control import ControlError, check_json_content_type

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[Any]]

FAULTS_PATH = "/_sim/faults"
STATUS_FAULTS = ("401", "429", "500", "502", "503", "504")
HTTP_FAULTS = (*STATUS_FAULTS, "timeout", "delay", "reset", "truncated", "malformed")
CHAT_PATH = "/chat/"
CHAT_FAULTS = (
    "irc_reset",
    "irc_truncated",
    "irc_malformed",
    "irc_reconnect",
    "irc_join_refused",
    "irc_join_ratelimited",
    "irc_suspended",
)
FAULT_KINDS = (*HTTP_FAULTS, *CHAT_FAULTS)
DEFAULT_DELAY = {"timeout": 30.0, "delay": 1.0}
DEFAULT_RESET_IN = 3.0
MAX_RULES = 100
MAX_SECONDS = 3600.0
MAX_REMEMBERED = 500_000  # distinct requests remembered for occurrence counts
_RULE_FIELDS = frozenset(
    {"path", "fault", "rate", "count", "skip", "method", "query", "delay", "reset_in"}
)
_JSON = b"application/json; charset=utf-8"
_MALFORMED_BODIES: tuple[tuple[bytes, bytes], ...] = (
    (_JSON, b'{"data":[{"user_id":"1","user_login":"a'),
    (_JSON, b'{"pagination":{}}'),
    (b"text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
)


class PlanError(ValueError):
    """A fault plan that cannot be used; the message names the field."""


# --- the plan --------------------------------------------------------------------------------


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(f"{name}: expected a number, got {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise PlanError(f"{name}: must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _integer(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise PlanError(f"{name}: expected an integer >= {low}, got {value!r}")
    return value


@dataclass(frozen=True)
class FaultRule:
    """Which requests a fault may hit, how often, and the fault's parameters."""

    path: str
    fault: str
    rate: float = 1.0
    count: int | None = None
    skip: int = 0
    method: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds a timeout or delay fault holds the request
    reset_in: float = DEFAULT_RESET_IN

    @classmethod
    def from_json(cls, doc: object, name: str = "rule") -> FaultRule:
        """A rule from its JSON object; `PlanError` naming the field otherwise."""
        if not isinstance(doc, dict):
            raise PlanError(f"{name}: expected an object, got {doc!r}")
        unknown = sorted(set(doc) - _RULE_FIELDS)
        if unknown:
            raise PlanError(f"{name}: unknown fields {unknown}: use {sorted(_RULE_FIELDS)}")
        path = doc.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise PlanError(f"{name}.path: expected a path starting with '/', got {path!r}")
        fault = doc.get("fault")
        if isinstance(fault, int) and not isinstance(fault, bool):
            fault = str(fault)
        if fault not in FAULT_KINDS:
            raise PlanError(f"{name}.fault: expected one of {list(FAULT_KINDS)}, got {fault!r}")
        if (fault in CHAT_FAULTS) != path.startswith(CHAT_PATH):
            raise PlanError(
                f"{name}: chat faults ({', '.join(CHAT_FAULTS)}) take a path under "
                f"{CHAT_PATH} (/chat/join/<channel> or /chat/message/<channel>, '*' allowed), "
                "HTTP faults any other path"
            )
        rate = _number(doc.get("rate", 1.0), f"{name}.rate", 0.0, 1.0)
        count = doc.get("count")
        if count is not None:
            count = _integer(count, f"{name}.count", 1)
        skip = _integer(doc.get("skip", 0), f"{name}.skip", 0)
        method = doc.get("method")
        if method is not None and (not isinstance(method, str) or not method.isalpha()):
            raise PlanError(f"{name}.method: expected an HTTP method, got {method!r}")
        query = doc.get("query", {})
        if not isinstance(query, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in query.items()
        ):
            raise PlanError(f"{name}.query: expected an object of strings, got {query!r}")
        delay = doc.get("delay")
        if delay is not None and fault not in DEFAULT_DELAY:
            raise PlanError(f"{name}.delay: only for the timeout and delay faults")
        if fault in DEFAULT_DELAY:
            delay = DEFAULT_DELAY[fault] if delay is None else delay
            delay = _number(delay, f"{name}.delay", 0.0, MAX_SECONDS)
        reset_in = doc.get("reset_in")
        if reset_in is not None and fault != "429":
            raise PlanError(f"{name}.reset_in: only for the 429 fault")
        return cls(
            path=path,
            fault=fault,
            rate=rate,
            count=count,
            skip=skip,
            method=method.upper() if method else None,
            query=tuple(sorted(query.items())),
            delay=delay or 0.0,
            reset_in=DEFAULT_RESET_IN
            if reset_in is None
            else _number(reset_in, f"{name}.reset_in", 0.0, MAX_SECONDS),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"path": self.path, "fault": self.fault, "rate": self.rate}
        if self.count is not None:
            doc["count"] = self.count
        if self.skip:
            doc["skip"] = self.skip
        if self.method is not None:
            doc["method"] = self.method
        if self.query:
            doc["query"] = dict(self.query)
        if self.fault in DEFAULT_DELAY:
            doc["delay"] = self.delay
        if self.fault == "429":
            doc["reset_in"] = self.reset_in
        return doc

    def matches(self, method: str, path: str, query: list[tuple[str, str]]) -> bool:
        """True when the request is one this rule may hit."""
        if self.method is not None and method != self.method:
            return False
        if self.path.endswith("*"):
            if not path.startswith(self.path[:-1]):
                return False
        elif path != self.path:
            return False
        return all((k, v) in query for k, v in self.query)


@dataclass(frozen=True)
class FaultPlan:
    """A seed and the rules to apply, first match first."""

    seed: int = 0
    rules: tuple[FaultRule, ...] = ()

    @classmethod
    def from_json(cls, doc: object) -> FaultPlan:
        """A plan from `{"seed": int, "rules": [...]}`; `PlanError` naming the problem."""
        if not isinstance(doc, dict):
            raise PlanError("the plan must be a JSON object with seed and rules")
        unknown = sorted(set(doc) - {"seed", "rules"})
        if unknown:
            raise PlanError(f"unknown fields {unknown}: use seed, rules")
        seed = doc.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise PlanError(f"seed: expected an integer, got {seed!r}")
        rules = doc.get("rules", [])
        if not isinstance(rules, list):
            raise PlanError(f"rules: expected a list, got {rules!r}")
        if len(rules) > MAX_RULES:
            raise PlanError(f"rules: at most {MAX_RULES} rules, got {len(rules)}")
        return cls(seed, tuple(FaultRule.from_json(r, f"rules[{i}]") for i, r in enumerate(rules)))

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [rule.to_json() for rule in self.rules]}


def draw(seed: int, rule_index: int, request_key: str, occurrence: int) -> float:
    """A uniform number in [0, 1) fixed by its arguments (the rule's dice for one request)."""
    text = f"{seed}\x00{rule_index}\x00{request_key}\x00{occurrence}"
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


@dataclass
class _RuleState:
    matched: int = 0
    injected: int = 0
    seen: dict[str, int] = field(default_factory=dict)


Injection = tuple[FaultRule, int]
"""The fault chosen for one request: its rule and the how-many-th injection of that rule."""


# --- quiet hang-ups --------------------------------------------------------------------------

_HANGING_UP: contextvars.ContextVar[bool] = contextvars.ContextVar("fault_hang_up", default=False)


class _HangUpFilter(logging.Filter):
    """Drops uvicorn's error records about a hang-up this middleware made on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _HANGING_UP.get()


_FILTER = _HangUpFilter()


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


HANG_UP = "fault injection: connection reset"
"""Returned to uvicorn, which then closes the connection without answering."""


# --- the middleware --------------------------------------------------------------------------


def _twitch_error(status: int, message: str) -> bytes:
    body = {"error": HTTPStatus(status).phrase, "status": status, "message": message}
    return json.dumps(body, separators=(",", ":")).encode()


Headers = list[tuple[bytes, bytes]]


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = _JSON,
    headers: Headers | None = None,
) -> None:
    head: Headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class FaultMiddleware:
    """Serves `/_sim/faults` and injects the faults of the current plan into `app`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        clock: Clock | None = None,
        rate_limit_points: int = 800,
        path: str = FAULTS_PATH,
    ) -> None:
        self.app = app
        self.clock: Clock = clock if clock is not None else WallClock()
        self.rate_limit_points = rate_limit_points
        self.path = path
        self._lock = threading.Lock()
        self._plan: FaultPlan | None = None  # as set, shown by GET
        self._chat_active = False
        self._active: FaultPlan | None = None  # None when there is nothing to inject
        self._states: list[_RuleState] = []
        self._seen = 0
        self._by_fault: dict[str, int] = {}
        _install_log_filter()

    # ------------------------------------------------------------------ plan and counters

    @property
    def chat_active(self) -> bool:
        """True when the plan in force has a chat rule (the chat server asks before each line)."""
        return self._chat_active

    @property
    def plan(self) -> FaultPlan | None:
        """The plan in force (None when none was set or it was cleared)."""
        return self._plan

    def set_plan(self, plan: FaultPlan | None) -> None:
        """Use `plan` from the next request on (None: inject nothing); counters restart."""
        with self._lock:
            self._plan = plan
            self._active = plan if plan is not None and plan.rules else None
            self._chat_active = plan is not None and any(
                r.path.startswith(CHAT_PATH) for r in plan.rules
            )
            self._states = [_RuleState() for _ in (plan.rules if plan else ())]
            self._seen = 0
            self._by_fault = {}

    def counters(self) -> dict[str, Any]:
        """The plan and what it did: requests seen, injections by fault and by rule."""
        with self._lock:
            return {
                "plan": self._plan.to_json() if self._plan is not None else None,
                "requests": self._seen,
                "injected": sum(self._by_fault.values()),
                "by_fault": dict(sorted(self._by_fault.items())),
                "rules": [{"matched": s.matched, "injected": s.injected} for s in self._states],
            }

    def choose(self, method: str, path: str, query_string: str) -> Injection | None:
        """The fault to inject into this request, if any (and count it)."""
        with self._lock:
            plan = self._active
            if plan is None:
                return None
            self._seen += 1
            query = parse_qsl(query_string, keep_blank_values=True)
            key = f"{method} {path}?{query_string}"
            chat = method == "IRC"
            for index, rule in enumerate(plan.rules):
                if (rule.fault in CHAT_FAULTS) != chat or not rule.matches(method, path, query):
                    continue
                state = self._states[index]
                state.matched += 1
                if state.matched <= rule.skip:
                    continue
                if rule.count is not None and state.injected >= rule.count:
                    continue
                if len(state.seen) >= MAX_REMEMBERED:
                    state.seen.clear()
                occurrence = state.seen.get(key, 0)
                state.seen[key] = occurrence + 1
                if rule.rate < 1.0 and draw(plan.seed, index, key, occurrence) >= rule.rate:
                    continue
                variant = state.injected
                state.injected += 1
                self._by_fault[rule.fault] = self._by_fault.get(rule.fault, 0) + 1
                return rule, variant
            return None

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if path == self.path:
            await self._control(scope, receive, send)
            return None
        if self._active is None:
            return await self.app(scope, receive, send)
        query_string = scope.get("query_string", b"").decode("latin-1")
        injection = self.choose(scope["method"], path, query_string)
        if injection is None:
            return await self.app(scope, receive, send)
        return await self._inject(injection, scope, receive, send)

    async def _inject(
        self, injection: Injection, scope: Scope, receive: Receive, send: Send
    ) -> Any:
        rule, variant = injection
        fault = rule.fault
        if fault == "429":
            now = self.clock.time()
            headers = [
                (b"ratelimit-limit", str(self.rate_limit_points).encode()),
                (b"ratelimit-remaining", b"0"),
                (b"ratelimit-reset", str(math.ceil(now + rule.reset_in)).encode()),
            ]
            await _respond(send, 429, _twitch_error(429, "Too Many Requests"), headers=headers)
        elif fault == "401":
            challenge = b'OAuth realm="TwitchTV", error="invalid_token"'
            body = _twitch_error(401, "Invalid OAuth token")
            await _respond(send, 401, body, headers=[(b"www-authenticate", challenge)])
        elif fault in STATUS_FAULTS:
            status = int(fault)
            await _respond(send, status, _twitch_error(status, HTTPStatus(status).phrase))
        elif fault == "malformed":
            content_type, body = _MALFORMED_BODIES[variant % len(_MALFORMED_BODIES)]
            await _respond(send, 200, body, content_type)
        elif fault == "reset":
            return self._hang_up()
        elif fault == "truncated":
            return await self._truncate(scope, receive, send)
        else:  # timeout, delay
            replay = await _hold(receive, rule.delay)
            if replay is not None:
                return await self.app(scope, replay, send)
        return None

    def _hang_up(self) -> str:
        _HANGING_UP.set(True)
        return HANG_UP

    async def _truncate(self, scope: Scope, receive: Receive, send: Send) -> Any:
        """The real answer's head and half its body, then a hang-up."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if start is None or len(body) < 2:
            return self._hang_up()
        headers = [
            (k, v) for k, v in start.get("headers", []) if bytes(k).lower() != b"content-length"
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        _HANGING_UP.set(True)
        return None

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`GET` the plan and counters, `POST` a new plan, `DELETE` it."""
        method = scope["method"]
        if method == "GET":
            await _respond(send, 200, json.dumps(self.counters()).encode())
        elif method == "DELETE":
            final = self.counters()
            self.set_plan(None)
            await _respond(send, 200, json.dumps(final).encode())
        elif method == "POST":
            content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
            try:  # JSON only: a cross-site page cannot send it without a preflight
                check_json_content_type(content_type.decode("latin-1") or None)
            except ControlError as exc:
                await _respond(send, exc.status, _twitch_error(exc.status, str(exc)))
                return
            raw = await _read_body(receive)
            try:
                doc = json.loads(raw or b"{}")
            except ValueError:
                await _respond(send, 400, _twitch_error(400, "the body must be a JSON object"))
                return
            try:
                plan = FaultPlan.from_json(doc)
            except PlanError as exc:
                await _respond(send, 400, _twitch_error(400, str(exc)))
                return
            self.set_plan(plan)
            await _respond(send, 200, json.dumps(self.counters()).encode())
        else:
            body = _twitch_error(405, "use GET, POST or DELETE")
            await _respond(send, 405, body, headers=[(b"allow", b"GET, POST, DELETE")])


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _hold(receive: Receive, seconds: float) -> Receive | None:
    """Keep a request waiting `seconds`; its replayable `receive`, or None if the client left.

    The request body is read first (and replayed to the app later); then the next
    `receive` only returns when the client disconnects, which ends the wait early.
    """
    buffered: list[Message] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        buffered.append(message)
        if not message.get("more_body", False):
            break
    try:
        message = await asyncio.wait_for(receive(), timeout=seconds)
    except TimeoutError:
        pass
    else:
        if message["type"] == "http.disconnect":
            return None
        buffered.append(message)

    async def replay() -> Message:
        if buffered:
            return buffered.pop(0)
        return await receive()

    return replay
