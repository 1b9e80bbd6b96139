"""Counters the Helix client keeps, so each snapshot can record its API cost and faults."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class ClientStats:
    """Running totals since the client started (or since `reset`).

    requests                 HTTP requests sent, every attempt, Helix and auth host
    auth_requests            of which to the auth host (token, validate, mock authorize)
    retries                  re-sends of a request after a failed attempt (any cause)
    rate_limit_waits         times the pacer made a request wait (ahead of time or after 429)
    rate_limit_wait_seconds  clock seconds spent in those waits
    http_429                 429 answers received
    token_refreshes          tokens replaced after a 401 or expiry (the first app token excluded)
    errors                   failed attempts by kind: `http_<status>`, `timeout`, `network`,
                             `malformed`, ...
    bytes_sent               HTTP/1.1 bytes of the requests that got an answer (request line,
                             headers, body; TLS and TCP/IP overhead excluded)
    bytes_received           HTTP/1.1 bytes of those answers (status line, headers, body as
                             it came over the wire, before any decompression)
    """

    requests: int = 0
    auth_requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    http_429: int = 0
    token_refreshes: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    bytes_sent: int = 0
    bytes_received: int = 0

    def record_error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1

    def record_exchange(self, response: httpx.Response) -> None:
        """Count the bytes of one answered request and its answer (read in full)."""
        self.bytes_sent += request_bytes(response.request)
        self.bytes_received += response_bytes(response)

    def record_wait(self, seconds: float) -> None:
        self.rate_limit_waits += 1
        self.rate_limit_wait_seconds += seconds

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def snapshot(self) -> ClientStats:
        """An independent copy of the counters now."""
        return dataclasses.replace(self, errors=dict(self.errors))

    def diff(self, earlier: ClientStats) -> ClientStats:
        """What happened between `earlier` (a snapshot) and now."""
        keys = set(self.errors) | set(earlier.errors)
        errors = {k: self.errors.get(k, 0) - earlier.errors.get(k, 0) for k in sorted(keys)}
        return ClientStats(
            requests=self.requests - earlier.requests,
            auth_requests=self.auth_requests - earlier.auth_requests,
            retries=self.retries - earlier.retries,
            rate_limit_waits=self.rate_limit_waits - earlier.rate_limit_waits,
            rate_limit_wait_seconds=self.rate_limit_wait_seconds - earlier.rate_limit_wait_seconds,
            http_429=self.http_429 - earlier.http_429,
            token_refreshes=self.token_refreshes - earlier.token_refreshes,
            errors={k: v for k, v in errors.items() if v},
            bytes_sent=self.bytes_sent - earlier.bytes_sent,
            bytes_received=self.bytes_received - earlier.bytes_received,
        )

    def reset(self) -> None:
        """Set every counter back to zero."""
        fresh = ClientStats()
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(fresh, f.name))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (for the manifest)."""
        shown = dataclasses.asdict(self)
        shown["rate_limit_wait_seconds"] = round(self.rate_limit_wait_seconds, 3)
        return shown


def _header_bytes(raw: list[tuple[bytes, bytes]]) -> int:
    return sum(len(name) + len(value) + 4 for name, value in raw) + 2  # ": ", CRLF; blank line


def request_bytes(request: httpx.Request) -> int:
    """A request's size on an HTTP/1.1 connection: request line, headers and body."""
    line = len(request.method) + 1 + len(request.url.raw_path) + len(" HTTP/1.1\r\n")
    return line + _header_bytes(request.headers.raw) + len(request.content)


def response_bytes(response: httpx.Response) -> int:
    """An answer's size on an HTTP/1.1 connection: status line, headers and the body's
    bytes as received (compressed when it came compressed)."""
    line = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n")
    return line + _header_bytes(response.headers.raw) + response.num_bytes_downloaded
