"""Helix errors, classified in one place: retryable (try again later) or final (give up).

`classify_response` and `classify_exception` are the only places that decide what a
status code or a transport failure means; the client's retry loop only asks
`isinstance(error, RetryableError)`. Messages name the endpoint path, never a query
string, a token or a viewer.
"""

from __future__ import annotations

import json

import aiohttp
import httpx

from streamcensus.errors import StreamcensusError, UserError

_MESSAGE_LIMIT = 200


class HelixError(StreamcensusError):
    """Any failure talking to Helix or its auth host."""

    kind = "error"

    def __init__(
        self, message: str, *, status: int | None = None, endpoint: str = "", detail: str = ""
    ) -> None:
        super().__init__(f"{endpoint}: {message}" if endpoint else message)
        self.status = status
        self.endpoint = endpoint
        self.detail = detail  # Twitch's own `message`, e.g. "authorization_pending"

    @property
    def key(self) -> str:
        """The label under which `ClientStats.errors` counts this error."""
        return f"http_{self.status}" if self.status is not None else self.kind


class RetryableError(HelixError):
    """A failure that may pass if the same request is sent again."""


class ServerError(RetryableError):
    """HTTP 5xx."""

    kind = "server_error"


class Timeout(RetryableError):
    """No answer in time (connect, read, write or pool timeout)."""

    kind = "timeout"


class NetworkError(RetryableError):
    """Connection refused or reset, protocol error: the request may not have arrived."""

    kind = "network"


class MalformedResponse(RetryableError):
    """A 2xx whose body is not the JSON Helix documents (bad JSON, no `data`, bad fields)."""

    kind = "malformed"


class RateLimited(RetryableError):
    """HTTP 429: the token bucket is empty until `reset_at` (epoch seconds, server clock)."""

    kind = "rate_limited"

    def __init__(
        self, message: str, *, reset_at: float | None, status: int = 429, endpoint: str = ""
    ) -> None:
        super().__init__(message, status=status, endpoint=endpoint)
        self.reset_at = reset_at


class FinalError(HelixError):
    """A failure that sending the same request again will not fix."""


class BadRequest(FinalError):
    """HTTP 400: a parameter Helix refuses."""

    kind = "bad_request"


class Unauthorized(FinalError):
    """HTTP 401: missing, invalid or expired token (after any allowed refresh)."""

    kind = "unauthorized"


class Forbidden(FinalError):
    """HTTP 403: the token may not read this resource (e.g. a channel's chatters)."""

    kind = "forbidden"


class NotFound(FinalError):
    """HTTP 404."""

    kind = "not_found"


class ClientError(FinalError):
    """Any other 4xx, or a request that cannot be sent (bad URL scheme)."""

    kind = "client_error"


class RetriesExhausted(FinalError):
    """Every allowed attempt failed; `reason` is the last retryable error."""

    kind = "retries_exhausted"

    def __init__(self, reason: RetryableError, attempts: int) -> None:
        super().__init__(
            f"gave up after {attempts} attempts: {reason}",
            status=reason.status,
            endpoint="",
        )
        self.reason = reason
        self.attempts = attempts

    @property
    def key(self) -> str:
        return self.kind


class CredentialsRejected(Unauthorized, UserError):
    """The auth host refused the application's client id or secret."""

    kind = "credentials_rejected"


class MissingUserToken(FinalError, UserError):
    """A call needs a user (moderator) token and none was configured."""

    kind = "missing_user_token"


# --- user tokens: the device code flow, refresh, validation ---------------------------------


class DeviceFlowEnded(FinalError, UserError):
    """The device code flow ended without a token; the message says why and what to do."""

    kind = "device_flow_ended"


class DeviceCodeExpired(DeviceFlowEnded):
    """The user code was not approved in time (`expired_token`, or `invalid device code`)."""

    kind = "device_code_expired"


class AuthorizationDenied(DeviceFlowEnded):
    """The person declined the authorization (`access_denied`)."""

    kind = "authorization_denied"


class RefreshTokenRejected(FinalError):
    """The auth host refused a refresh token: already used (they rotate), or revoked."""

    kind = "refresh_token_rejected"


class TokenUnusable(FinalError):
    """A user token that can no longer be used: revoked and not refreshable, issued to
    another client id, or missing a scope the work needs. `reason` is one line."""

    kind = "token_unusable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_FINAL_BY_STATUS: dict[int, type[FinalError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
}


def _twitch_message(response: httpx.Response) -> str:
    """The `message` of a Twitch error body (`{"error", "status", "message"}`), shortened."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict):
        text = body.get("message") or body.get("error") or response.reason_phrase
        return str(text)[:_MESSAGE_LIMIT]
    return response.reason_phrase or "error"


def parse_reset(response: httpx.Response) -> float | None:
    """`Ratelimit-Reset` as epoch seconds, or None when absent or unreadable."""
    value = response.headers.get("ratelimit-reset")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def classify_response(response: httpx.Response, endpoint: str) -> HelixError | None:
    """None for a 2xx; otherwise the error this status means."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    detail = _twitch_message(response)
    message = f"HTTP {status} {detail}"
    if status == 429:
        return RateLimited(message, reset_at=parse_reset(response), endpoint=endpoint)
    # 408 is a server-side timeout: the same request may pass, like a 5xx.
    if status >= 500 or status == 408:
        return ServerError(message, status=status, endpoint=endpoint, detail=detail)
    final = _FINAL_BY_STATUS.get(status, ClientError)
    return final(message, status=status, endpoint=endpoint, detail=detail)


def classify_exception(exc: httpx.RequestError, endpoint: str) -> HelixError:
    """The error a transport failure means (timeouts and resets are retryable)."""
    name = type(exc).__name__
    cause = exc.__cause__
    # the aiohttp transport (`http.py`) reports a dropped connection as httpx.ConnectTimeout
    dropped = isinstance(cause, aiohttp.ClientError) and not isinstance(cause, TimeoutError)
    if dropped:
        name = type(cause).__name__
    elif isinstance(exc, httpx.TimeoutException):
        return Timeout(f"timed out ({name})", endpoint=endpoint)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ClientError(f"cannot send ({name})", endpoint=endpoint)
    return NetworkError(f"transport failure ({name})", endpoint=endpoint)
