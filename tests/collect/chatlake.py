"""Reading what the collector wrote of chat activity, and the simulator's truth to compare."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq

from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import raw_path
from streamcensus.timeutil import GRID_SECONDS


def manifest(lake_dir: Path, snapshot_id: str) -> ManifestRecord:
    return ManifestRecord.from_bytes(raw_path(lake_dir, "manifest", snapshot_id).read_bytes())


def coverage(lake_dir: Path, snapshot_id: str) -> dict[str, dict[str, Any]]:
    """The chat_coverage rows of a snapshot, by channel id."""
    table = pq.read_table(raw_path(lake_dir, "chat_coverage", snapshot_id))
    return {row["channel_id"]: row for row in table.to_pylist()}


def tallies(lake_dir: Path, snapshot_id: str) -> dict[str, tuple[int, int, int, int]]:
    """Per channel id: (posters, messages, bot posters, bot messages) of the activity file."""
    rows = pq.read_table(raw_path(lake_dir, "chat_activity", snapshot_id)).to_pylist()
    counts: Counter[tuple[str, str]] = Counter()
    for r in rows:
        cid = r["channel_id"]
        counts[cid, "posters"] += 1
        counts[cid, "messages"] += r["messages"]
        if r["is_bot"]:
            counts[cid, "bots"] += 1
            counts[cid, "bot_messages"] += r["messages"]
    return {
        cid: (
            counts[cid, "posters"],
            counts[cid, "messages"],
            counts[cid, "bots"],
            counts[cid, "bot_messages"],
        )
        for cid in {c for c, _ in counts}
    }


def truth(
    base_url: str, channel_ids: list[str], start: dt.datetime, end: dt.datetime
) -> dict[str, tuple[int, int, int, int]]:
    """The simulator's ground truth for [start, end): the same four figures per channel."""
    response = httpx.get(
        f"{base_url}/_sim/truth/chat_activity",
        params={
            "channel": ",".join(channel_ids),
            "start": start.timestamp(),
            "end": end.timestamp(),
        },
        timeout=60,
    )
    response.raise_for_status()
    return {
        row["channel_id"]: (
            row["posters"],
            row["messages"],
            row["bot_posters"],
            row["bot_messages"],
        )
        for row in response.json()["channels"]
    }


def window_of(snapshot_id: str, lake_dir: Path) -> tuple[dt.datetime, dt.datetime]:
    end = manifest(lake_dir, snapshot_id).grid_time
    return end - dt.timedelta(seconds=GRID_SECONDS), end
