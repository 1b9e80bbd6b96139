"""The raw lake's layout and schemas: the contract between collect, lake and load.

Layout under `<data_dir>/lake/`:

    raw/streams/date=YYYY-MM-DD/<snapshot_id>.parquet    stream facts of one snapshot
    raw/chatters/date=YYYY-MM-DD/<snapshot_id>.parquet   presence observations of one snapshot
    raw/manifest/date=YYYY-MM-DD/<snapshot_id>.json      the snapshot's manifest record
    raw/followers/date=YYYY-MM-DD/<snapshot_id>.parquet  follower totals (hourly snapshots)
    raw/chat_activity/date=YYYY-MM-DD/<snapshot_id>.parquet  who posted in the window ending
                                                         at the snapshot (pseudonyms)
    raw/chat_coverage/date=YYYY-MM-DD/<snapshot_id>.parquet  how much of that window each
                                                         channel's chat was read
    curated/...                                          written by `load`
    quarantine/...                                       files `load` could not read

A snapshot id is its grid time in UTC, `YYYYMMDDTHHMMZ` (e.g. `20261127T2005Z`). Files
are written atomically and never rewritten. Viewer identities are pseudonyms (P1):
signed 64-bit integers (BigQuery, Spark and DuckDB all read int64 natively).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from streamcensus.timeutil import UTC

RAW = "raw"
CURATED = "curated"
QUARANTINE = "quarantine"
MANIFEST = "manifest"  # the JSON record of a snapshot (`lake/manifest.py`), written last

# chatters_status values in STREAMS_SCHEMA
CHATTERS_OK = "ok"  # every page read
CHATTERS_FORBIDDEN = "forbidden"  # 403: the token may not read this channel's chatters
CHATTERS_ERROR = "error"  # gave up after retries: the snapshot is partial
CHATTERS_OFFLINE = "offline"  # channel ended between listing and reading chatters

STREAMS_SCHEMA = pa.schema(
    [
        pa.field("snapshot_id", pa.string(), nullable=False),
        pa.field("snapshot_ts", pa.timestamp("s", tz="UTC"), nullable=False),
        pa.field("channel_id", pa.string(), nullable=False),
        pa.field("channel_login", pa.string(), nullable=False),
        pa.field("channel_name", pa.string(), nullable=False),
        pa.field("stream_id", pa.string(), nullable=False),
        pa.field("language", pa.string(), nullable=False),
        pa.field("game_id", pa.string(), nullable=False),
        pa.field("game_name", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("viewer_count", pa.int32(), nullable=False),
        pa.field("started_at", pa.timestamp("s", tz="UTC"), nullable=False),
        pa.field("is_mature", pa.bool_(), nullable=False),
        pa.field("tags", pa.string(), nullable=False),  # comma-separated
        # 1-based position in the top-N listing; 0 = a tracked channel outside it
        pa.field("rank", pa.int32(), nullable=False),
        pa.field("tracked", pa.bool_(), nullable=False),  # from the tracked list
        pa.field("chatters_status", pa.string(), nullable=False),
        pa.field("chatters_total", pa.int32(), nullable=True),  # Helix `total`
    ]
)

CHATTERS_SCHEMA = pa.schema(
    [
        pa.field("snapshot_id", pa.string(), nullable=False),
        pa.field("snapshot_ts", pa.timestamp("s", tz="UTC"), nullable=False),
        pa.field("channel_id", pa.string(), nullable=False),
        pa.field("viewer", pa.int64(), nullable=False),  # keyed pseudonym (P1)
        pa.field("key_id", pa.string(), nullable=False),  # which pseudonym key made it
        pa.field("is_bot", pa.bool_(), nullable=False),
        pa.field("bot_name", pa.string(), nullable=True),  # only for known public bots (P6)
    ]
)

# Follower totals of the listed channels, read every hour on the grid (Get Channel
# Followers with any user token): a count per channel, no follower identities. Only the
# snapshots at the top of an hour have a followers file.
FOLLOWERS_SCHEMA = pa.schema(
    [
        pa.field("snapshot_id", pa.string(), nullable=False),
        pa.field("snapshot_ts", pa.timestamp("s", tz="UTC"), nullable=False),
        pa.field("channel_id", pa.string(), nullable=False),
        pa.field("followers_total", pa.int64(), nullable=False),
    ]
)

# Chat activity, read anonymously over Twitch's chat (TMI) by `collect/chat`, per 5-minute
# grid window [snapshot_ts - 5 min, snapshot_ts): the snapshot at grid time t holds the
# window that ends at t. `chat_activity` has one row per channel and account that posted
# at least one message in the window (presence: the account is a keyed pseudonym, the same
# one the chatters kind gives that account under the same key; the key is the one of the
# window's start, so the 00:00 snapshot's window, 23:55-00:00, carries the previous day's
# key). `chat_coverage` has one row per channel listed or joined during the window: how
# many seconds its chat was really joined, so a window with a gap is marked, never low.
CHAT_ACTIVITY_SCHEMA = pa.schema(
    [
        pa.field("snapshot_id", pa.string(), nullable=False),
        pa.field("snapshot_ts", pa.timestamp("s", tz="UTC"), nullable=False),  # window end
        pa.field("channel_id", pa.string(), nullable=False),
        pa.field("viewer", pa.int64(), nullable=False),  # keyed pseudonym (P1)
        pa.field("key_id", pa.string(), nullable=False),  # which pseudonym key made it
        pa.field("is_bot", pa.bool_(), nullable=False),
        pa.field("bot_name", pa.string(), nullable=True),  # only for known public bots (P6)
        pa.field("messages", pa.int32(), nullable=False),  # PRIVMSG lines in the window
    ]
)

# chat_coverage status values
CHAT_COMPLETE = "complete"  # joined the whole window and every line read
CHAT_PARTIAL = "partial"  # joined part of the window, or lines lost on its connection
CHAT_NOT_JOINED = "not_joined"  # listed, not joined in the window (waiting, refused, no
# capacity, no listener running yet, chat server unreachable)
CHAT_SUSPENDED = "suspended"  # Twitch answered the JOIN with a NOTICE: suspended, banned
# or unknown channel
CHAT_STATUSES = (CHAT_COMPLETE, CHAT_PARTIAL, CHAT_NOT_JOINED, CHAT_SUSPENDED)

CHAT_COVERAGE_SCHEMA = pa.schema(
    [
        pa.field("snapshot_id", pa.string(), nullable=False),
        pa.field("snapshot_ts", pa.timestamp("s", tz="UTC"), nullable=False),  # window end
        pa.field("channel_id", pa.string(), nullable=False),
        pa.field("seconds_joined", pa.float64(), nullable=False),  # seconds, 0..300
        pa.field("status", pa.string(), nullable=False),  # one of CHAT_STATUSES
        pa.field("usernotices", pa.int32(), nullable=False),  # subs, raids, ... (no viewer)
        pa.field("clearchats", pa.int32(), nullable=False),  # timeouts and bans
        pa.field("notices", pa.int32(), nullable=False),
        pa.field("malformed_lines", pa.int32(), nullable=False),  # lines that could not be read
    ]
)


@dataclass(frozen=True)
class RawKind:
    """One kind of raw data file: its Arrow schema (the one declaration of its rows) and
    what the writer, the loader and retention do with it.

    - `sort_by`: the order the writer stores rows in;
    - `presence`: rows name viewers by pseudonym (P1). Such files are never copied into
      the warehouse: `load` attaches them per run as the temporary view `raw_<kind>`, and
      retention deletes them after `retention_days` (P2). Other kinds are copied into the
      warehouse table `raw_<kind>` (columns derived from the schema) and kept;
    - `epochs`: integer columns the warehouse adds (name → timestamp column), besides
      `day` and `slot`, so models need no engine-specific date functions.

    Every data kind has a `snapshot_id` and a `snapshot_ts` column; a snapshot's manifest
    lists each of its files with a SHA-256 that `load` checks before using the file.
    """

    name: str
    schema: pa.Schema
    sort_by: tuple[str, ...]
    presence: bool = False
    epochs: Mapping[str, str] = field(default_factory=dict)
    suffix: str = "parquet"

    @property
    def table(self) -> str:
        """Its warehouse table (or, for presence, its temporary view)."""
        return f"raw_{self.name}"


STREAMS = RawKind(
    "streams",
    STREAMS_SCHEMA,
    sort_by=("rank", "channel_id"),
    epochs={"snapshot_epoch": "snapshot_ts", "started_epoch": "started_at"},
)
CHATTERS = RawKind("chatters", CHATTERS_SCHEMA, sort_by=("channel_id", "viewer"), presence=True)
FOLLOWERS = RawKind("followers", FOLLOWERS_SCHEMA, sort_by=("channel_id",))
CHAT_ACTIVITY = RawKind(
    "chat_activity", CHAT_ACTIVITY_SCHEMA, sort_by=("channel_id", "viewer"), presence=True
)
CHAT_COVERAGE = RawKind("chat_coverage", CHAT_COVERAGE_SCHEMA, sort_by=("channel_id",))

# The registry of data kinds. A new kind is one entry here (schema, order, presence);
# the writer (`LakeWriter.write`), the loader's checks and tables, retention and
# `status` follow from it. See docs/architecture.md, "Adding a raw kind".
DATA_KINDS: dict[str, RawKind] = {
    kind.name: kind for kind in (STREAMS, CHATTERS, FOLLOWERS, CHAT_ACTIVITY, CHAT_COVERAGE)
}
KINDS: tuple[str, ...] = (*DATA_KINDS, MANIFEST)

SNAPSHOT_ID_FORMAT = "%Y%m%dT%H%MZ"


def snapshot_id(grid_time: dt.datetime) -> str:
    """The id of the snapshot at a grid time."""
    return grid_time.astimezone(UTC).strftime(SNAPSHOT_ID_FORMAT)


def snapshot_time(snapshot_id_: str) -> dt.datetime:
    """The grid time of a snapshot id."""
    return dt.datetime.strptime(snapshot_id_, SNAPSHOT_ID_FORMAT).replace(tzinfo=UTC)


def raw_key(kind: str, snapshot_id_: str) -> str:
    """Where a snapshot's file of one kind lives, relative to the lake root."""
    if kind not in KINDS:
        raise ValueError(f"unknown raw kind {kind!r}")
    day = snapshot_time(snapshot_id_).date().isoformat()
    suffix = "json" if kind == MANIFEST else DATA_KINDS[kind].suffix
    return f"{RAW}/{kind}/{partition(day)}/{snapshot_id_}.{suffix}"


def raw_path(lake_dir: Path, kind: str, snapshot_id_: str) -> Path:
    """Where a snapshot's file of one kind lives in a local lake."""
    return lake_dir / raw_key(kind, snapshot_id_)


def partition(day: dt.date | str) -> str:
    """The name of a day's partition folder: `date=YYYY-MM-DD`."""
    return f"date={day if isinstance(day, str) else day.isoformat()}"


def partition_day(name: str) -> dt.date | None:
    """The day of a partition folder's name, None if it is not one."""
    if not name.startswith("date="):
        return None
    try:
        return dt.date.fromisoformat(name.removeprefix("date="))
    except ValueError:
        return None


def raw_day_key(kind: str, day: dt.date) -> str:
    """The partition folder of one kind for one UTC day, relative to the lake root."""
    return f"{RAW}/{kind}/{partition(day)}"


def raw_day_dir(lake_dir: Path, kind: str, day: dt.date) -> Path:
    """The partition folder of one kind for one UTC day in a local lake."""
    return lake_dir / raw_day_key(kind, day)
