"""Helix request helpers shared by the simulator's routes: error bodies, cursors, parameters."""

from __future__ import annotations

import base64
import binascii
import json
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.responses import Response

JSON_TYPE = "application/json; charset=utf-8"
MAX_FILTER_VALUES = 100
PICTURES = "https://static-cdn.jtvnw.net/jtv_user_pictures"


class HelixError(Exception):
    """An error answer with Twitch's body: `{"error", "status", "message"}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Twitch's Helix error body, e.g. 401 `Unauthorized` / `Invalid OAuth token`."""
    body = {"error": HTTPStatus(status).phrase, "status": status, "message": message}
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type=JSON_TYPE,
    )


# --- cursors ---------------------------------------------------------------------------------


def encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, kind: str, field: str) -> int:
    """The integer `field` of a cursor this server issued for `kind`; HelixError 400 otherwise."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise HelixError(400, "The cursor is not valid") from None
    value = payload.get(field) if isinstance(payload, dict) and payload.get("k") == kind else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise HelixError(400, "The cursor is not valid")
    return value


# --- query parameters ------------------------------------------------------------------------


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HelixError(400, f'The parameter "{name}" was malformed: not an integer') from None
    if not low <= value <= high:
        raise HelixError(
            400, f'The parameter "{name}" was malformed: the value must be between {low} and {high}'
        )
    return value


def list_param(request: Request, name: str) -> list[str]:
    return [v for v in request.query_params.getlist(name) if v != ""]
