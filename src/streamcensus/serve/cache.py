"""Answers of the JSON API kept until the warehouse changes.

A loaded day never changes until the next load commits, so an endpoint's answer to the same
path and query string is the same until then. `ResponseCache` keeps the bytes of each `200`
answer (gzipped or not, as the client asked) under the warehouse's version
(`reader.warehouse_version`: file identity, size and modification time, write-ahead log
included); when the version changes, every kept answer is dropped. Only endpoints that read
the warehouse through `api.reading` and say so are kept (`mark_cacheable`): an answer that
depends on anything else (the price table of `/api/cost`) is never kept.

It sits inside the host check and the security headers (`security.Guard` adds those to a
kept answer as to any other) and outside the gzip step, so a kept answer costs neither a
query nor JSON encoding nor compression.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamcensus.serve.reader import ReaderPool, Version

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_NOTE = "streamcensus.cache"  # the scope key of a request's `CacheNote`

Key = tuple[str, bytes, bool]


@dataclass
class CacheNote:
    """What the endpoint tells the cache: the warehouse version its answer was read at."""

    version: Version | None = None
    cacheable: bool = False


@dataclass
class Answer:
    """One kept answer: status, headers and body as the app sent them."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class CacheStats:
    """Counters, for tests and the benchmark."""

    hits: int = 0
    misses: int = 0
    stored: int = 0
    dropped: int = 0


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
        self._version: Version | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: Key, version: Version) -> Answer | None:
        """The answer kept for `key` at `version` (a new version drops every answer)."""
        with self._lock:
            if version != self._version:
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
        self._version = version

    def store(self, key: Key, version: Version, entry: Answer) -> None:
        """Keep `entry` (an answer over an eighth of the budget is not kept)."""
        if len(entry.body) > self.max_bytes // 8:
            return
        with self._lock:
            if version != self._version:
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


class ResponseCache:
    """ASGI middleware keeping `GET /api/...` answers until the warehouse's version changes."""

    def __init__(self, app: ASGIApp, pool: ReaderPool, store: AnswerStore) -> None:
        self.app = app
        self.pool = pool
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope["method"] != "GET" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        version = self.pool.current_version()
        if version is None:  # no warehouse, or a load in this process writes it
            await self.app(scope, receive, send)
            return
        gzip = "gzip" in Headers(scope=scope).get("accept-encoding", "")
        key: Key = (path, scope.get("query_string", b""), gzip)
        entry = self.store.lookup(key, version)
        if entry is not None:
            self.store.stats.hits += 1
            await send(
                {"type": "http.response.start", "status": entry.status, "headers": entry.headers}
            )
            await send({"type": "http.response.body", "body": entry.body, "more_body": False})
            return
        self.store.stats.misses += 1
        note = CacheNote()
        start: Message | None = None
        chunks: list[bytes] = []
        complete = False

        async def sending(message: Message) -> None:
            nonlocal start, complete
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                complete = not message.get("more_body", False)
            await send(message)

        await self.app({**scope, _NOTE: note}, receive, sending)
        if start is None or not complete or not note.cacheable or note.version is None:
            return
        if int(start["status"]) != 200:
            return
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
        self.store.store(key, note.version, Answer(200, headers, b"".join(chunks)))
