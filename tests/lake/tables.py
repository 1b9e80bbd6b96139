"""Small hand-made raw tables for the lake tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import CHATTERS_SCHEMA, STREAMS_SCHEMA, snapshot_id
from streamcensus.lake.writer import FileInfo, LakeWriter
from streamcensus.timeutil import UTC

GRID = dt.datetime(2026, 11, 27, 20, 5, tzinfo=UTC)
SID = snapshot_id(GRID)  # 20261127T2005Z


def streams_table(
    grid: dt.datetime = GRID, channels: Sequence[tuple[str, int]] = (("10", 500), ("20", 80))
) -> pa.Table:
    """Stream facts for `channels` given as (channel_id, viewer_count), ranked in order."""
    n = len(channels)
    started = grid - dt.timedelta(hours=1)
    return pa.table(
        {
            "snapshot_id": [snapshot_id(grid)] * n,
            "snapshot_ts": [grid] * n,
            "channel_id": [c for c, _ in channels],
            "channel_login": [f"streamer{c}" for c, _ in channels],
            "channel_name": [f"Streamer{c}" for c, _ in channels],
            "stream_id": [f"s{c}" for c, _ in channels],
            "language": ["fr"] * n,
            "game_id": ["509658"] * n,
            "game_name": ["Just Chatting"] * n,
            "title": ["live"] * n,
            "viewer_count": [v for _, v in channels],
            "started_at": [started] * n,
            "is_mature": [False] * n,
            "tags": ["Français"] * n,
            "rank": list(range(1, n + 1)),
            "tracked": [False] * n,
            "chatters_status": ["ok"] * n,
            "chatters_total": [3] * n,
        },
        schema=STREAMS_SCHEMA,
    )


def chatters_table(
    grid: dt.datetime = GRID,
    rows: Sequence[tuple[str, int]] = (("20", 5), ("10", 9), ("10", -3), ("20", -7)),
    bots: Sequence[str | None] | None = None,
) -> pa.Table:
    """Presence observations given as (channel_id, viewer pseudonym)."""
    n = len(rows)
    names = list(bots) if bots is not None else [None] * n
    return pa.table(
        {
            "snapshot_id": [snapshot_id(grid)] * n,
            "snapshot_ts": [grid] * n,
            "channel_id": [c for c, _ in rows],
            "viewer": [v for _, v in rows],
            "key_id": ["k1"] * n,
            "is_bot": [name is not None for name in names],
            "bot_name": names,
        },
        schema=CHATTERS_SCHEMA,
    )


def snapshot_record(
    writer: LakeWriter,
    streams: FileInfo,
    chatters: FileInfo,
    grid: dt.datetime = GRID,
    **fields: Any,
) -> ManifestRecord:
    """The manifest of a complete snapshot at `grid` made of the two files the writer
    wrote; `fields` override any other manifest field (status, top_n, ended_at, ...)."""
    values: dict[str, Any] = {
        "snapshot_id": snapshot_id(grid),
        "grid_time": grid,
        "started_at": grid,
        "ended_at": grid,
        "source": "http://127.0.0.1:1/helix",
        "language": "fr",
        "top_n": 10,
        "status": "complete",
        "presence_observations": 4,
        "files": {
            "streams": streams.to_entry(writer.lake_dir),
            "chatters": chatters.to_entry(writer.lake_dir),
        },
    }
    return ManifestRecord(**(values | fields))
