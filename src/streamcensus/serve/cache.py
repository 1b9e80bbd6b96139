"""Answers of the JSON API kept until the warehouse changes, and warmed after a load.

A loaded day never changes until the next load commits, so an endpoint's answer to the same
route and parameters is the same until then. `ResponseCache` keeps the body of each `200`
answer under the warehouse's version (`reader.warehouse_version`: file identity, size and
modification time, write-ahead log included); when the version changes, every kept answer
is dropped. Only endpoints that read the warehouse through `api.reading` and say so
(`mark_cacheable`) are kept: an answer that depends on anything else (the price table of
`/api/cost`) never is.

The key is the route and its declared query parameters, defaults filled in and unknown
ones left out (FastAPI ignores them), so `/api/map?day=D` and
`/api/map?signal=chat_activity&day=D&window=7` are one answer. Gzip is done here for these
routes (`compresslevel` as the app's gzip step, once per kept answer), so a kept answer
costs no query, no JSON encoding and no compression. It sits inside the host check and the
security headers (`security.Guard` adds those to a kept answer as to any other).

Warming (`warm_paths`): after the version changes, the answers the dashboard's pages ask
first (each page's default view of each loaded day, newest day first) are computed one at
a time in the background, so the first visitor of a day after a load does not wait for
its queries.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamcensus.serve.reader import ReaderPool, Version

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
GZIP_MIN_BYTES = 1000  # as the app's gzip step
GZIP_LEVEL = 5
_NOTE = "streamcensus.cache"  # the scope key of a request's `CacheNote`
log = logging.getLogger(__name__)

Key = tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]
WarmPaths = Callable[[Version], Sequence[str]]


@dataclass
class CacheNote:
    """What the endpoint tells the cache: the warehouse version its answer was read at."""

    version: Version | None = None
    cacheable: bool = False


@dataclass
class Answer:
    """One kept answer: headers and body as the app sent them, and its gzipped form."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    packed: tuple[list[tuple[bytes, bytes]], bytes] | None = None

    def gzipped(self) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """Headers and body for a client that accepts gzip (compressed once)."""
        if len(self.body) < GZIP_MIN_BYTES:
            return self.headers, self.body
        if self.packed is None:
            body = gzip.compress(self.body, compresslevel=GZIP_LEVEL, mtime=0)
            headers = [(k, v) for k, v in self.headers if k.lower() != b"content-length"]
            headers += [
                (b"content-encoding", b"gzip"),
                (b"content-length", str(len(body)).encode()),
            ]
            if not any(k.lower() == b"vary" for k, _ in headers):
                headers.append((b"vary", b"Accept-Encoding"))
            self.packed = (headers, body)
        return self.packed


@dataclass
class CacheStats:
    """Counters, for tests and the benchmark."""

    hits: int = 0
    misses: int = 0
    stored: int = 0
    dropped: int = 0
    warmed: int = 0
    warming: int = 0  # warm-ups running
    versions: list[Version] = field(default_factory=list)  # warmed, oldest first


def mark_cacheable(scope: Scope, version: Version | None) -> None:
    """Called by an endpoint that read only the warehouse: its answer may be kept."""
    note = scope.get(_NOTE)
    if isinstance(note, CacheNote) and version is not None:
        note.version = version
        note.cacheable = True


class AnswerStore:
    """The kept answers, newest last, at most `max_bytes` of bodies, all of one version."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, Answer] = OrderedDict()
        self._bytes = 0
        self.version: Version | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: Key, version: Version) -> Answer | None:
        """The answer kept for `key` at `version` (a new version drops every answer)."""
        with self._lock:
            if version != self.version:
                self._clear_locked(version)
                return None
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def _clear_locked(self, version: Version | None) -> None:
        self.stats.dropped += len(self._entries)
        self._entries.clear()
        self._bytes = 0
        self.version = version

    def store(self, key: Key, version: Version, entry: Answer) -> None:
        """Keep `entry` (an answer over an eighth of the budget is not kept)."""
        if len(entry.body) > self.max_bytes // 8:
            return
        with self._lock:
            if version != self.version:
                self._clear_locked(version)
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            self.stats.stored += 1
            while self._bytes > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)


def request_key(routes: Sequence[object], scope: Scope) -> Key | None:
    """The route's path and its declared query parameters (defaults filled in), or None
    for a path no cacheable route serves."""
    for route in routes:
        if not isinstance(route, Route):
            continue
        match, _ = route.matches(scope)
        if match != Match.FULL:
            continue
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            return None
        given: dict[str, list[str]] = {}
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True):
            given.setdefault(name, []).append(value)
        params = []
        for param in dependant.query_params:
            name = param.alias
            values = given.get(name)
            if values is None:
                default = param.default
                values = [] if default is None else [str(getattr(default, "value", default))]
            params.append((name, tuple(values)))
        return scope["path"], tuple(sorted(params))
    return None


class ResponseCache:
    """ASGI middleware keeping `GET /api/...` answers until the warehouse's version changes."""

    def __init__(
        self,
        app: ASGIApp,
        pool: ReaderPool,
        store: AnswerStore,
        routes: Sequence[object],
        warm_paths: WarmPaths | None = None,
    ) -> None:
        self.app = app
        self.pool = pool
        self.store = store
        self.routes = routes
        self.warm_paths = warm_paths
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope["method"] != "GET" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        version = self.pool.current_version()
        key = request_key(self.routes, scope) if version is not None else None
        if version is None or key is None:  # no warehouse, a load in this process, no route
            await self.app(scope, receive, send)
            return
        gzipped = "gzip" in Headers(scope=scope).get("accept-encoding", "")
        if version != self.store.version:
            self._warm(version, scope)
        entry = self.store.lookup(key, version)
        if entry is None:
            self.store.stats.misses += 1
            entry = await self._compute(scope, receive, send, key, forward=not gzipped)
            if entry is None or not gzipped:
                return  # the app answered the client itself
        else:
            self.store.stats.hits += 1
        headers, body = entry.gzipped() if gzipped else (entry.headers, entry.body)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _compute(
        self, scope: Scope, receive: Receive, send: Send, key: Key, *, forward: bool
    ) -> Answer | None:
        """Ask the app (without gzip), keep a cacheable 200. With `forward`, the app's
        answer goes to the client as it is sent; otherwise a kept answer is returned for
        the caller to send, and anything else is forwarded."""
        note = CacheNote()
        start: Message | None = None
        chunks: list[bytes] = []
        complete = False
        held: list[Message] = []

        async def sending(message: Message) -> None:
            nonlocal start, complete
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                complete = not message.get("more_body", False)
            if forward:
                await send(message)
            else:
                held.append(message)

        plain = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        await self.app({**scope, "headers": plain, _NOTE: note}, receive, sending)
        kept = (
            start is not None
            and complete
            and int(start["status"]) == 200
            and note.cacheable
            and note.version is not None
        )
        if not kept or start is None or note.version is None:
            for message in held:  # not kept: the client gets the app's answer as it is
                await send(message)
            return None
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
        entry = Answer(headers, b"".join(chunks))
        self.store.store(key, note.version, entry)
        return entry

    def _warm(self, version: Version, template: Scope) -> None:
        if self.warm_paths is None or version in self.store.stats.versions:
            return
        self.store.stats.versions.append(version)
        self.store.stats.warming += 1
        base = {k: v for k, v in template.items() if k != _NOTE}
        task = asyncio.get_running_loop().create_task(self._warm_version(version, base))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm_version(self, version: Version, base: Scope) -> None:
        """Compute the warm paths' answers one at a time, while the version holds."""
        assert self.warm_paths is not None
        try:
            paths = await asyncio.to_thread(self.warm_paths, version)
            for target in paths:
                if self.pool.current_version() != version:
                    return  # a newer load: its own warming takes over
                path, _, query = target.partition("?")
                scope: Scope = {
                    **base,  # the request that saw the new version, before routing
                    "method": "GET",
                    "path": path,
                    "raw_path": path.encode(),
                    "query_string": query.encode(),
                    "headers": [(b"host", b"127.0.0.1")],
                }
                key = request_key(self.routes, scope)
                if key is None or self.store.lookup(key, version) is not None:
                    continue
                await self._compute(scope, _no_body, _discard, key, forward=True)
                self.store.stats.warmed += 1
        except Exception as exc:  # an optimisation: after a failure, requests compute
            log.warning("warming the API's answers stopped: %s: %s", type(exc).__name__, exc)
        finally:
            self.store.stats.warming -= 1


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: Message) -> None:
    del message
