"""The manifest record: what one snapshot collected, what it missed, and which files hold it.

The collector writes it last, after the snapshot's data files, so a snapshot with data
files but no manifest is known to be orphaned (a collector killed mid-snapshot). A snapshot
is never lost silently: it is `complete`, or `partial` with every gap listed in `missing`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from streamcensus import __version__
from streamcensus.errors import StreamcensusError
from streamcensus.timeutil import UTC, parse_utc

MANIFEST_VERSION = 1
Status = Literal["complete", "partial"]
STATUSES: tuple[Status, ...] = ("complete", "partial")


class LakeError(StreamcensusError):
    """A lake file that cannot be written or read as the contract says."""


class MissingEntry(TypedDict):
    """One thing a partial snapshot lacks, e.g. `{"what": "chatters", ...}`."""

    what: str
    channel_id: str | None
    reason: str


class FileEntry(TypedDict):
    """One data file of a snapshot; `path` is relative to the lake directory."""

    path: str
    bytes: int
    rows: int
    sha256: str


class ReaderEntry(TypedDict):
    """One user token that reads chat lists, and how it fared in the snapshot."""

    user_id: str  # the broadcaster (consent) or the operator (moderation), never a viewer
    login: str
    ground: str  # "consent" (a broadcaster's own token) or "moderation"
    channels_listed: int  # listed channels this token serves
    channels_read: int  # of which chat lists read in full
    state: str  # "ok", or "unusable" once its breaker tripped
    reason: str  # why it is unusable ("" when ok)


_TIME_FIELDS = ("grid_time", "started_at", "ended_at")
_INT_FIELDS = (
    "top_n",
    "channels_listed",
    "channels_tracked",
    "channels_with_chatters",
    "channels_forbidden",
    "channels_failed",
    "channels_offline",
    "presence_observations",
    "optout_dropped",
    "duplicates_dropped",
    "requests",
    "retries",
    "rate_limit_waits",
    "http_429",
    "token_refreshes",
    "token_validations",
    "followers_channels",
)


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a manifest record")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class ManifestRecord:
    """One snapshot's manifest, as stored in `raw/manifest/date=.../<snapshot_id>.json`."""

    snapshot_id: str
    grid_time: dt.datetime
    started_at: dt.datetime
    ended_at: dt.datetime
    source: str  # the Helix base URL asked
    language: str
    top_n: int
    status: Status
    channels_listed: int = 0
    channels_tracked: int = 0
    channels_with_chatters: int = 0
    channels_forbidden: int = 0
    channels_failed: int = 0
    channels_offline: int = 0
    presence_observations: int = 0
    optout_dropped: int = 0
    duplicates_dropped: int = 0
    requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    http_429: int = 0
    token_refreshes: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # error kind -> count
    missing: list[MissingEntry] = field(default_factory=list)
    key_id: str = ""
    # user tokens: validations made, and each token's ground, channels and state
    token_validations: int = 0
    chat_list_readers: list[ReaderEntry] = field(default_factory=list)
    # channel_id -> "consent" | "moderation": on what ground each chat list read was allowed
    chat_list_grounds: dict[str, str] = field(default_factory=dict)
    # follower totals (hourly): "" when not due, "complete", "partial" or "no user token"
    followers_status: str = ""
    followers_channels: int = 0
    files: dict[str, FileEntry] = field(default_factory=dict)  # kind -> file
    collector_version: str = __version__
    manifest_version: int = MANIFEST_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        for name in _TIME_FIELDS:
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} must be an aware UTC datetime")

    @property
    def day(self) -> dt.date:
        """The UTC day of the snapshot's grid time (its lake partition)."""
        return self.grid_time.astimezone(UTC).date()

    @property
    def duration_seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; times as ISO-8601 UTC with a `Z`."""
        doc = dataclasses.asdict(self)
        for name in _TIME_FIELDS:
            doc[name] = _iso(getattr(self, name))
        return doc

    def to_bytes(self) -> bytes:
        """The file content: stable key order, so equal records give equal bytes."""
        return (json.dumps(self.to_json(), sort_keys=True, indent=1) + "\n").encode()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ManifestRecord:
        """Parse a dict made by `to_json`; unknown keys (from newer writers) are ignored."""
        try:
            known = {f.name for f in dataclasses.fields(cls)}
            values: dict[str, Any] = {k: v for k, v in doc.items() if k in known}
            for name in _TIME_FIELDS:
                values[name] = parse_utc(str(values[name]))
            for name in _INT_FIELDS:
                if name in values:
                    values[name] = _as_int(name, values[name])
            if "rate_limit_wait_seconds" in values:
                values["rate_limit_wait_seconds"] = float(values["rate_limit_wait_seconds"])
            values["errors"] = {
                str(k): _as_int("errors", v) for k, v in dict(values.get("errors", {})).items()
            }
            values["missing"] = [_missing(m) for m in values.get("missing", [])]
            values["chat_list_readers"] = [_reader(r) for r in values.get("chat_list_readers", [])]
            values["chat_list_grounds"] = {
                str(k): str(v) for k, v in dict(values.get("chat_list_grounds", {})).items()
            }
            values["files"] = {
                str(k): _file_entry(v) for k, v in dict(values.get("files", {})).items()
            }
            return cls(**values)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LakeError(f"not a valid manifest record: {exc}") from None

    @classmethod
    def from_bytes(cls, data: bytes) -> ManifestRecord:
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LakeError(f"manifest is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise LakeError("manifest is not a JSON object")
        return cls.from_json(doc)


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return value


def _missing(item: Any) -> MissingEntry:
    channel = item.get("channel_id")
    return MissingEntry(
        what=str(item["what"]),
        channel_id=None if channel is None else str(channel),
        reason=str(item["reason"]),
    )


def _reader(item: Any) -> ReaderEntry:
    return ReaderEntry(
        user_id=str(item["user_id"]),
        login=str(item["login"]),
        ground=str(item["ground"]),
        channels_listed=_as_int("channels_listed", item["channels_listed"]),
        channels_read=_as_int("channels_read", item["channels_read"]),
        state=str(item["state"]),
        reason=str(item["reason"]),
    )


def _file_entry(item: Any) -> FileEntry:
    return FileEntry(
        path=str(item["path"]),
        bytes=_as_int("bytes", item["bytes"]),
        rows=_as_int("rows", item["rows"]),
        sha256=str(item["sha256"]),
    )
