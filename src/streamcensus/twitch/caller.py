"""The single retry loop every Helix and auth request goes through.

`Caller.call` takes a point from the token bucket's `Pacer`, sends, classifies the
outcome (`errors.py`) and then: returns the parsed body; renews the token once after a
401; waits for the bucket and re-sends the same request after a 429; backs off
exponentially with jitter and re-sends after a 5xx, a timeout, a reset or a malformed
body; or raises a final error. Logs name the endpoint path and the error kind only:
never a query string, a token or a chatter (P1, P5).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

import httpx

from streamcensus.clock import Clock
from streamcensus.twitch.auth import TokenKeeper, TokenKind, UserLane
from streamcensus.twitch.config import HelixConfig
from streamcensus.twitch.errors import (
    FinalError,
    HelixError,
    MalformedResponse,
    RateLimited,
    RetriesExhausted,
    RetryableError,
    Unauthorized,
    classify_exception,
    classify_response,
)
from streamcensus.twitch.pacing import Pacer
from streamcensus.twitch.stats import ClientStats

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = list[tuple[str, str]]


class Caller:
    """Sends requests with the right token, pacing, retries and counters."""

    def __init__(
        self,
        config: HelixConfig,
        http: httpx.AsyncClient,
        clock: Clock,
        rng: random.Random,
        stats: ClientStats,
        tokens: TokenKeeper,
        app_pacer: Pacer,
        user_pacer: Pacer,
    ) -> None:
        self.config = config
        self._http = http
        self._clock = clock
        self._rng = rng
        self.stats = stats
        self.tokens = tokens
        self.app_pacer = app_pacer
        self.user_pacer = user_pacer
        self._timeout = httpx.Timeout(config.timeout)
        self._urls: dict[str, httpx.URL] = {}  # parsed once: a handful of endpoints

    def _parsed(self, url: str) -> httpx.URL:
        """`url` parsed (httpx parses a string URL on every request otherwise)."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= 64:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with jitter: base·2^(n-1), capped, times a factor in [0.5, 1)."""
        delay = min(self.config.backoff_cap, self.config.backoff_base * 2.0 ** (failures - 1))
        return delay * (0.5 + 0.5 * self._rng.random())

    async def call(
        self,
        method: str,
        url: str,
        parse: Callable[[httpx.Response], T],
        *,
        params: Params | None = None,
        data: dict[str, str] | None = None,
        kind: TokenKind | None = None,
        authorization: str | None = None,
        lane: UserLane | None = None,
    ) -> T:
        """Send one logical request until it succeeds or fails for good.

        `kind` names the Helix token (and bucket) to use; `lane` a user token of its own
        with its own bucket; with neither the request goes to the auth host, unpaced,
        with `authorization` as its header if given.
        """
        target = self._parsed(url)
        endpoint = f"{method} {target.path}"
        if lane is not None:
            kind = "user"
        pacer = None if kind is None else self.app_pacer if kind == "app" else self.user_pacer
        if lane is not None:
            pacer = lane.pacer
        failures = 0
        rate_limited = 0
        renewed = False
        while True:
            headers: dict[str, str] = {}
            token: str | None = None
            if kind is not None:
                token = await (lane.source.access_token() if lane else self.tokens.get(kind))
                headers["Client-Id"] = self.config.client_id
                headers["Authorization"] = f"Bearer {token}"
            elif authorization is not None:
                headers["Authorization"] = authorization
            outcome = await self._send(method, target, params, data, headers, pacer, endpoint)
            if isinstance(outcome, httpx.Response):
                try:
                    return parse(outcome)
                except MalformedResponse as exc:
                    error: HelixError = exc
            else:
                error = outcome
            self.stats.record_error(error.key)
            if isinstance(error, Unauthorized) and kind is not None and not renewed:
                renewed = True
                assert token is not None
                renewed_ok = await (
                    lane.source.renew(token) if lane else self.tokens.renew(kind, token)
                )
                if not renewed_ok:
                    raise error
                self.stats.retries += 1
                continue
            if isinstance(error, FinalError):
                raise error
            assert isinstance(error, RetryableError)
            if isinstance(error, RateLimited):
                self.stats.http_429 += 1
                rate_limited += 1
                if rate_limited > self.config.max_rate_limit_retries:
                    raise RetriesExhausted(error, failures + rate_limited) from error
                self.stats.retries += 1
                if pacer is None:
                    await self._wait_for_reset(error)
                continue
            failures += 1
            if failures >= self.config.max_attempts:
                raise RetriesExhausted(error, failures + rate_limited) from error
            delay = self._backoff(failures)
            log.warning(
                "%s failed (%s), attempt %d/%d; retrying in %.2f s",
                endpoint,
                error.key,
                failures,
                self.config.max_attempts,
                delay,
            )
            self.stats.retries += 1
            await self._clock.sleep(delay)

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        params: Params | None,
        data: dict[str, str] | None,
        headers: dict[str, str],
        pacer: Pacer | None,
        endpoint: str,
    ) -> httpx.Response | HelixError:
        """One attempt: the 2xx response, or the error it (or the transport) amounts to."""
        if pacer is not None:
            await pacer.acquire()
        else:
            self.stats.auth_requests += 1
        self.stats.requests += 1
        response: httpx.Response | None = None
        try:
            response = await self._http.request(
                method,
                url,
                params=tuple(params) if params else None,
                data=data,
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.RequestError as exc:
            return classify_exception(exc, endpoint)
        finally:
            if pacer is not None:
                pacer.release(response)
        self.stats.record_exchange(response)
        error = classify_response(response, endpoint)
        return response if error is None else error

    async def _wait_for_reset(self, error: RateLimited) -> None:
        """After a 429 from the (unpaced) auth host: wait until its reset, at most a minute."""
        now = self._clock.time()
        delay = 1.0 if error.reset_at is None else error.reset_at - now
        delay = min(max(delay, 1.0), 60.0)
        await self._clock.sleep(delay)
        self.stats.record_wait(delay)
