"""The one HTTP client a collector shares: httpx's API over aiohttp's connection pool.

httpx's own transport (httpcore 1.0) re-examines every pooled connection on each request,
polling each idle socket (`has_expired`) and counting the idle ones once per connection:
measured on this project's machine against the `fr` simulator, 2.1 ms of CPU per request
with 32 pooled connections, which made the HTTP client most of a snapshot's CPU.
`httpx-aiohttp`'s transport (aiohttp's C-accelerated pool and parser, used the same way by
other API clients) sends the same requests for 0.6 ms each; the rest of the code keeps
httpx's `Request`/`Response`, and tests still inject `httpx.MockTransport`.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from streamcensus import __version__

USER_AGENT = f"streamcensus/{__version__}"


class HelixTransport(AiohttpTransport):
    """`AiohttpTransport` whose failures are all `httpx.RequestError`s.

    httpx-aiohttp maps the aiohttp errors it knows; any other aiohttp failure (a malformed
    status line, say) becomes `httpx.RemoteProtocolError` here, so the retry loop classifies
    it as a network failure instead of letting it escape as a foreign exception.
    """

    def get_client(self) -> aiohttp.ClientSession:
        """aiohttp's session, without its hidden second attempt.

        aiohttp re-sends an idempotent request once, unseen, when a reused connection turns
        out closed (RFC 9112 §9.3.1 allows it). Every attempt must go through `Caller.call`
        instead, so that it is paced on the token bucket and counted (`requests`,
        `retries`, `errors`); aiohttp 3.14 offers no public switch for this.
        """
        session = super().get_client()
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except aiohttp.ClientError as exc:
            raise httpx.RemoteProtocolError(type(exc).__name__, request=request) from exc


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing (Helix sets no cookie)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        del response


_NO_COOKIES = _NoCookies()


class HelixHTTPClient(httpx.AsyncClient):
    """`httpx.AsyncClient` without a cookie jar.

    httpx reads every answer's cookies through `http.cookiejar`, building urllib request
    and response stand-ins each time: about a tenth of the collector's CPU per request in a
    profile of an `fr` snapshot, for cookies Helix never sets. A collector keeps none.
    """

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        if cookies:
            raise ValueError("the Helix client keeps no cookies")


def pool_size(concurrency: int) -> int:
    """Connections kept open: twice the requests in flight, at least 10."""
    return max(10, 2 * concurrency)


def http_client(
    concurrency: int,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The shared client: `transport` (tests), else aiohttp's pool of `pool_size` connections."""
    size = pool_size(concurrency)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return HelixHTTPClient(
        transport=transport if transport is not None else HelixTransport(limits=limits),
        timeout=httpx.Timeout(timeout),
        limits=limits,
        headers={"User-Agent": USER_AGENT},
    )
