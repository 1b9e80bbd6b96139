"""Validation of request parameters, with messages that say what was expected.

Malformed values are 400, a well-formed day or channel the warehouse does not hold is 404,
and a warehouse that a load holds right now is 503: never a 500.
"""

from __future__ import annotations

import datetime as dt
import re

from streamcensus.serve import models as m
from streamcensus.serve.channels import find_channel
from streamcensus.serve.reader import Reader

# The one declaration of what a day and a channel login look like: the server checks
# parameters with them and the pages' scripts get them in their config (pages.py), so the
# static export validates its `?channel=` and `?day=` by the same rule.
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CHANNEL_PATTERN = re.compile(r"[A-Za-z0-9_]{1,25}")
CHANNEL_RULE = "a Twitch login is 1-25 letters, digits or underscores"
WINDOWS = (1, 7)  # periods in days: the day, and the week ending on it
NO_DATA = (
    "no data loaded yet: run `make demo` (or `streamcensus demo`) to simulate and load a "
    "day, or `streamcensus collect` then `streamcensus load --all`"
)


class ParamError(Exception):
    """A request the dashboard cannot answer, with its HTTP status and a clear message."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def parse_day(value: str | None, name: str = "day") -> dt.date | None:
    """A `YYYY-MM-DD` parameter (None when absent)."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if not DAY_PATTERN.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ParamError(
            400, f"invalid {name} {value!r}: expected a UTC day as YYYY-MM-DD"
        ) from None


def resolve_day(reader: Reader, value: str | None) -> dt.date:
    """The requested day, or the latest loaded day; 404 when it is not loaded."""
    wanted = parse_day(value)
    days = reader.loaded_days()
    if not days:
        raise ParamError(404, NO_DATA)
    if wanted is None:
        return days[-1]
    if wanted not in set(days):
        span = days[0].isoformat() if len(days) == 1 else f"{days[0]} to {days[-1]}"
        raise ParamError(404, f"no data for {wanted}: the loaded days are {span}")
    return wanted


def check_channel(value: str) -> str:
    """A Twitch login: 1-25 letters, digits or underscores."""
    if not CHANNEL_PATTERN.fullmatch(value):
        raise ParamError(400, f"invalid channel {value!r}: {CHANNEL_RULE}")
    return value.lower()


def resolve_channel(reader: Reader, value: str) -> m.ChannelIdentity:
    """The channel with this login; 404 when no loaded day has it live."""
    login = check_channel(value)
    found = find_channel(reader, login)
    if found is None:
        raise ParamError(
            404,
            f"unknown channel {value!r}: it was not live on any loaded day "
            "(search by login or name prefix with /api/channels?q=...)",
        )
    return found


def check_window(value: int) -> int:
    """A period of 1 or 7 days."""
    if value not in WINDOWS:
        raise ParamError(400, f"invalid window {value}: expected 1 (the day) or 7 (the week)")
    return value


def check_query(value: str) -> str:
    """A search text: 1-50 characters after trimming."""
    text = value.strip()
    if not text or len(text) > 50:
        raise ParamError(400, f"invalid q {value!r}: expected 1 to 50 characters")
    return text
