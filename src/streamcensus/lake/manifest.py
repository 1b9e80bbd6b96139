"""The manifest record: what one snapshot collected, what it missed, and which files hold it.

The collector writes it last, after the snapshot's data files, so a snapshot with data
files but no manifest is known to be orphaned (a collector killed mid-snapshot). A snapshot
is never lost silently: it is `complete`, or `partial` with every gap listed in `missing`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import TypedDict

from streamcensus import __version__
from streamcensus.errors import StreamcensusError
from streamcensus.timeutil import UTC, grid_slot
from streamcensus.urls import without_credentials

MANIFEST_VERSION = 1
Status = Literal["complete", "partial"]
STATUSES: tuple[Status, ...] = ("complete", "partial")
INT32_MAX = 2**31 - 1  # counts fit the warehouse's integer columns

# A whole number from 0 to INT32_MAX, given as a JSON integer (not 1.0, not true).
Count = Annotated[int, Field(ge=0, le=INT32_MAX, strict=True)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


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
    bytes: Annotated[int, Field(ge=0, strict=True)]
    rows: Annotated[int, Field(ge=0, strict=True)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


Ground = Literal["consent", "moderation"]  # on what ground a chat list may be read
FollowersStatus = Literal["", "complete", "partial", "no user token"]
# chat activity of the window ending at the snapshot: "" when it is not collected
# (`chat_enabled = false`, or a manifest older than chat activity); "complete" when every
# channel listed throughout the window was read for all of it; "partial" when some were not
# (each in `missing`, or one entry when none was joined at all); "not listening" when no
# listener was reading any channel before the window ended (a single `collect`, the first
# snapshot after a start, or a listener that could not start; not a fault by itself: the
# coverage rows say `not_joined`)
ChatStatus = Literal["", "complete", "partial", "not listening"]
CHAT_ACTIVITY = "chat activity"  # `MissingEntry.what` of a channel whose window has a gap


class ReaderEntry(TypedDict):
    """One user token that reads chat lists, and how it fared in the snapshot."""

    user_id: str  # the broadcaster (consent) or the operator (moderation), never a viewer
    login: str
    ground: Ground  # a broadcaster's own token, or a moderator's
    channels_listed: Count  # listed channels this token serves
    channels_read: Count  # of which chat lists read in full
    state: Literal["ok", "unusable"]  # "unusable" once its breaker tripped
    reason: str  # why it is unusable ("" when ok)


class ManifestRecord(BaseModel):
    """One snapshot's manifest, as stored in `raw/manifest/date=.../<snapshot_id>.json`.

    The one declaration of the manifest: the collector builds it, `to_bytes` writes it,
    `from_bytes` reads and validates it (load quarantines what fails), and the warehouse's
    `raw_manifests` columns are derived from its fields (`warehouse/ddl.py`): a field
    added here (with a default, so older files still read) reaches the warehouse and
    `stg_manifests` with no other change. Fields in `NOT_IN_WAREHOUSE` are kept elsewhere
    (`files` → `loaded_files`); containers are stored as `<name>_json` text; the computed
    fields below are columns too, never written to the file.
    """

    model_config = ConfigDict(extra="ignore", validate_assignment=True)
    NOT_IN_WAREHOUSE: ClassVar[frozenset[str]] = frozenset({"files"})
    # fields older collectors wrote that must not be kept: the load rewrites a manifest that
    # has one (`load/rawfiles.py`); `optout_dropped` timed an opted-out viewer's presence
    REMOVED_FIELDS: ClassVar[frozenset[str]] = frozenset({"optout_dropped"})

    snapshot_id: str
    grid_time: AwareDatetime
    started_at: AwareDatetime
    ended_at: AwareDatetime
    source: str  # the Helix base URL asked: scheme, host and path only (no credentials)
    language: str
    top_n: Count
    status: Status
    channels_listed: Count = 0
    channels_tracked: Count = 0
    channels_with_chatters: Count = 0
    channels_forbidden: Count = 0
    channels_failed: Count = 0
    channels_offline: Count = 0
    presence_observations: Count = 0
    duplicates_dropped: Count = 0
    requests: Count = 0
    retries: Count = 0
    rate_limit_waits: Count = 0
    rate_limit_wait_seconds: Seconds = 0.0
    http_429: Count = 0
    token_refreshes: Count = 0
    errors: dict[str, Count] = Field(default_factory=dict)  # error kind -> count
    missing: list[MissingEntry] = Field(default_factory=list)
    key_id: str = ""
    # user tokens: validations made, and each token's ground, channels and state
    token_validations: Count = 0
    chat_list_readers: list[ReaderEntry] = Field(default_factory=list)
    # channel_id -> "consent" | "moderation": on what ground each chat list read was allowed
    chat_list_grounds: dict[str, Ground] = Field(default_factory=dict)
    # follower totals (hourly): "" when not due, "complete", "partial" or "no user token"
    followers_status: FollowersStatus = ""
    followers_channels: Count = 0
    # chat activity of the window [grid_time - 5 min, grid_time) (`chat_activity` and
    # `chat_coverage` files): its status, the chat server read (no credentials), the rows
    # (one per channel and account that posted) and messages, the channels of
    # `chat_coverage` by status (`chat_channels_<status>`, see `lake.schema.CHAT_STATUSES`),
    # older windows closed with no snapshot of their own (not written), and the listener's
    # counters since the previous snapshot (connections, reconnects, joins, faults, ...)
    chat_status: ChatStatus = ""
    chat_source: str = ""
    activity_observations: Count = 0
    chat_messages: Count = 0
    chat_channels_complete: Count = 0
    chat_channels_partial: Count = 0
    chat_channels_not_joined: Count = 0
    chat_channels_suspended: Count = 0
    chat_windows_dropped: Count = 0
    chat_counters: dict[str, Count] = Field(default_factory=dict)
    # what the snapshot cost to take (`streamcensus cost`): CPU seconds of the collector's
    # thread and real seconds elapsed (not the clock's, which a simulation may speed up);
    # HTTP bytes sent to and received from Helix and the auth host (`twitch/stats.py`)
    cpu_seconds: Seconds = 0.0
    wall_seconds: Seconds = 0.0
    bytes_sent: Count = 0
    bytes_received: Count = 0
    files: dict[str, FileEntry] = Field(default_factory=dict)  # kind -> file
    collector_version: str = __version__
    manifest_version: int = MANIFEST_VERSION

    @field_validator("grid_time", "started_at", "ended_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(UTC)

    @field_validator("source", "chat_source")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        return without_credentials(value) if "://" in value else value

    @property
    def day(self) -> dt.date:
        """The UTC day of the snapshot's grid time (its lake partition)."""
        return self.grid_time.date()

    @property
    def slot(self) -> int:
        """The grid index of the snapshot (the models' `slot`)."""
        return grid_slot(self.grid_time)

    @property
    def duration_seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def errors_total(self) -> int:
        return min(INT32_MAX, sum(self.errors.values()))

    @property
    def missing_count(self) -> int:
        return len(self.missing)

    # columns the warehouse adds to the fields: name -> Python type (see warehouse/ddl.py)
    SUMMARIES: ClassVar[dict[str, type]] = {
        "day": dt.date,
        "slot": int,
        "duration_seconds": float,
        "errors_total": int,
        "missing_count": int,
    }

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; times as ISO-8601 UTC with a `Z`."""
        doc: dict[str, Any] = self.model_dump(mode="json")
        return doc

    def to_bytes(self) -> bytes:
        """The file content: stable key order, so equal records give equal bytes."""
        return (json.dumps(self.to_json(), sort_keys=True, indent=1) + "\n").encode()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ManifestRecord:
        """Parse and check a dict made by `to_json`; unknown keys (newer writers) ignored."""
        try:
            return cls.model_validate(dict(doc))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "record"
            raise LakeError(f"not a valid manifest record: {where}: {err['msg']}") from None
        except (TypeError, ValueError) as exc:
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
