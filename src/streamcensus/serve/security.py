"""HTTP hardening of the dashboard: security headers on every response, a Host allow-list.

`Guard` wraps the whole ASGI app (outside FastAPI's own error handling), so pages, the
JSON API, the OpenAPI document, static files, plotly.js, errors and even an unexpected
500 carry the same headers:

- a Content-Security-Policy that runs only the dashboard's own script files (no inline
  script, no event-handler attribute, no eval, no other origin; plotly.js is served
  locally), allows no inline style but plotly.js's own (by hash, see `vendor.py`), and
  forbids framing, plugins and form posts elsewhere;
- `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy:
  no-referrer`, and same-origin opener and resource policies.

The Host allow-list defeats DNS rebinding: a web page on another site whose name was
re-pointed at 127.0.0.1 reaches the dashboard with its own name in `Host`, and gets a 400.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamcensus.serve.vendor import plotly_style_hashes, style_attribute_hashes


def csp_directives() -> dict[str, str]:
    """The policy: the dashboard's own files only, plus plotly.js's inline styles by hash."""
    styles = " ".join(plotly_style_hashes())
    attributes = " ".join(style_attribute_hashes())
    return {
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": f"'self' {styles}",  # for browsers without the two below
        "style-src-elem": f"'self' {styles}",
        "style-src-attr": f"'unsafe-hashes' {attributes}",  # style="" and <b>'s, no other
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "manifest-src": "'self'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
    }


# A CSP in a <meta> element (the static export, where no header can be sent) may not
# carry frame-ancestors: browsers ignore it there and say so in the console.
META_IGNORED = ("frame-ancestors",)


@functools.cache
def content_security_policy(*, meta: bool = False) -> str:
    """The policy as one header (or `<meta http-equiv>`) value."""
    return "; ".join(
        f"{name} {value}"
        for name, value in csp_directives().items()
        if not (meta and name in META_IGNORED)
    )


def security_headers() -> dict[str, str]:
    """The headers every response carries."""
    return {
        "content-security-policy": content_security_policy(),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
    }


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
ANY_HOST = "*"


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_name(header: str) -> str | None:
    """The name in a `Host` header, lowercased, without port or brackets (None: malformed)."""
    text = header.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (text[end + 1 :] and not text[end + 1 :].startswith(":")):
            return None
        name, port = text[1:end], text[end + 2 :]
        if not _is_address(name):
            return None
    else:
        name, _, port = text.partition(":")
    if port and not port.isdigit():
        return None
    name = name.rstrip(".") if name != "." else ""
    if not name or any(c.isspace() or c in "/\\@?#" for c in name):
        return None
    return name


@dataclass(frozen=True)
class HostRule:
    """Which `Host` names the dashboard answers to."""

    names: frozenset[str]
    any_address: bool = False  # bound to every interface: an IP address is fine too
    any_host: bool = False

    def allows(self, name: str) -> bool:
        return self.any_host or name in self.names or (self.any_address and _is_address(name))

    def describe(self) -> str:
        shown = ", ".join(sorted(self.names))
        return shown + (" and any IP address" if self.any_address else "")


def host_rule(bound_host: str, allowed: Iterable[str] = ()) -> HostRule:
    """The bound host, its loopback names, and the configured `allowed_hosts`.

    A DNS-rebinding page always arrives with a host *name* of its own; a request that
    names an IP address cannot be one, so when the dashboard listens on every interface
    (0.0.0.0 or ::) it also answers requests sent to any of its addresses.
    """
    extra = [a.strip().lower() for a in allowed if a.strip()]
    if ANY_HOST in extra:
        return HostRule(frozenset(), any_host=True)
    bound = bound_host.strip().strip("[]").lower()
    names = {*LOOPBACK_NAMES, *(n.rstrip(".") for n in extra)}
    wildcard = bound in WILDCARD_HOSTS
    if not wildcard:
        names.add(bound)
    return HostRule(frozenset(names), any_address=wildcard)


def _raw_headers(values: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in values.items()]


class Guard:
    """ASGI wrapper: refuse a Host not allowed, add the security headers to every answer."""

    def __init__(self, app: ASGIApp, rule: HostRule, setting: str = "allowed_hosts") -> None:
        self.app = app
        self.rule = rule
        self.setting = setting
        self.headers = _raw_headers(security_headers())
        self.names = {k for k, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                kept = [(k, v) for k, v in headers if k.lower() not in self.names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await self._refuse(scope, refusal, send_secured)
            return
        await self.app(scope, receive, send_secured)

    def _refusal(self, scope: Scope) -> str | None:
        values = [v for k, v in scope.get("headers", []) if k.lower() == b"host"]
        if not values:
            return None  # HTTP/1.0 without Host: no browser, so no rebinding
        raw = values[0].decode("latin-1")
        name = host_name(raw) if len(values) == 1 else None
        if name is not None and self.rule.allows(name):
            return None
        shown = raw if len(raw) <= 100 else raw[:100] + "..."
        return (
            f"host {shown!r} is not served here: this dashboard answers to "
            f"{self.rule.describe()}; add the name people use to reach it to {self.setting} "
            f"(STREAMCENSUS_{self.setting.upper()})"
        )

    async def _refuse(self, scope: Scope, message: str, send: Send) -> None:
        path: str = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            body = json.dumps({"detail": message}).encode()
            kind = b"application/json"
        else:
            body = (message + "\n").encode()
            kind = b"text/plain; charset=utf-8"
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
