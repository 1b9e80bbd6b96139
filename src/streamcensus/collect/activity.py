"""The chat part of a snapshot: the activity window that ends at its grid time, made honest.

The snapshot at grid time t holds the window [t - 5 min, t) of the chat listener
(`collect/chat`): who posted in which listed channel (`chat_activity`, pseudonyms) and how
much of the window each channel was really read (`chat_coverage`). Every channel of the
snapshot's stream facts gets a coverage row: one the listener was not asked to read during
the window (it went live, or entered the top N, since the previous snapshot) is
`not_joined` for it.

The manifest says how the window went (`chat_status`):
- `complete`: every channel listed throughout the window was read for all of it;
- `partial`: some were not (a dropped connection, a refused or suspended join, lines lost):
  each is listed in `missing` with its joined seconds, or one entry when none was joined at
  all (the chat server unreachable). A channel listed during the window is joined within
  seconds; its first window is `partial` in `chat_coverage`, which is expected, not a loss;
- `not listening`: no listener was reading any channel before the window ended (a single
  `collect`, the first snapshot after a start, whose listing comes after its window; a
  listener that could not start, logged at start): nothing was owed, so the snapshot is
  not made partial for it, and every listed channel is `not_joined` in `chat_coverage`.
  A listener that fails while the collector runs is a fault: one entry in `missing`.
Older windows closed at the same time (their own grid time was skipped) have no snapshot
to go into: they are counted (`chat_windows_dropped`), not written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from streamcensus.collect.chat import ChatCounters, ChatListener, ChatWindow
from streamcensus.lake.manifest import CHAT_ACTIVITY, ChatStatus, MissingEntry
from streamcensus.lake.schema import (
    CHAT_ACTIVITY_SCHEMA,
    CHAT_COMPLETE,
    CHAT_COVERAGE_SCHEMA,
    CHAT_NOT_JOINED,
    CHAT_STATUSES,
    snapshot_id,
)
from streamcensus.timeutil import GRID_SECONDS, isoformat_z

log = logging.getLogger("streamcensus.collect")


@dataclass
class ChatPart:
    """What a snapshot writes and records of its chat window."""

    status: ChatStatus = ""
    source: str = ""
    activity: pa.Table | None = None  # CHAT_ACTIVITY_SCHEMA; None when chat is off
    coverage: pa.Table | None = None  # CHAT_COVERAGE_SCHEMA
    counters: ChatCounters = field(default_factory=ChatCounters)
    missing: list[MissingEntry] = field(default_factory=list)
    windows_dropped: int = 0

    def manifest_fields(self) -> dict[str, Any]:
        """The manifest's `chat_*` fields (and `activity_observations`)."""
        if self.activity is None or self.coverage is None:
            return {}
        statuses = self.coverage.column("status").to_pylist()
        fields: dict[str, Any] = {
            "chat_status": self.status,
            "chat_source": self.source,
            "activity_observations": self.activity.num_rows,
            "chat_messages": int(pc.sum(self.activity.column("messages")).as_py() or 0),
            "chat_windows_dropped": self.windows_dropped,
            "chat_counters": self.counters.as_dict(),
        }
        for status in CHAT_STATUSES:
            fields[f"chat_channels_{status}"] = statuses.count(status)
        return fields


def _not_joined_rows(end: dt.datetime, channel_ids: Sequence[str]) -> pa.Table:
    """Coverage rows for channels that were not read at all in the window ending at `end`."""
    n = len(channel_ids)
    return pa.table(
        {
            "snapshot_id": [snapshot_id(end)] * n,
            "snapshot_ts": [end] * n,
            "channel_id": list(channel_ids),
            "seconds_joined": [0.0] * n,
            "status": [CHAT_NOT_JOINED] * n,
            "usernotices": [0] * n,
            "clearchats": [0] * n,
            "notices": [0] * n,
            "malformed_lines": [0] * n,
        },
        schema=CHAT_COVERAGE_SCHEMA,
    )


def _with_listed(coverage: pa.Table, end: dt.datetime, listed: Sequence[str]) -> pa.Table:
    """`coverage` plus a not-joined row for each listed channel it does not name."""
    known = set(coverage.column("channel_id").to_pylist())
    absent = [c for c in listed if c not in known]
    if not absent:
        return coverage
    return pa.concat_tables([coverage, _not_joined_rows(end, absent)])


def _gaps(window: ChatWindow, coverage: pa.Table, last_error: str) -> list[MissingEntry]:
    """What the window lost: each channel listed throughout it and not read for all of it,
    or one entry when none of them was read at all."""
    owed = [r for r in coverage.to_pylist() if r["channel_id"] in window.listed_throughout]
    short = [r for r in owed if r["status"] != CHAT_COMPLETE]
    if not short:
        return []
    if len(short) == len(owed) and all(r["seconds_joined"] == 0 for r in short):
        return [
            MissingEntry(
                what=CHAT_ACTIVITY,
                channel_id=None,
                reason=f"none of the {len(owed)} channels listed throughout the window was "
                f"joined ({last_error or 'no answer from the chat server'})",
            )
        ]
    entries = []
    for r in short:
        reason = f"{r['status']}: joined {r['seconds_joined']:g} of {GRID_SECONDS} s"
        if r["malformed_lines"]:
            reason += f", {r['malformed_lines']} lines unreadable"
        entries.append(MissingEntry(what=CHAT_ACTIVITY, channel_id=r["channel_id"], reason=reason))
    return entries


async def chat_part(
    listener: ChatListener | None,
    grid_time: dt.datetime,
    listed: Sequence[str],
    unavailable: str = "",
) -> ChatPart:
    """Close the listener's windows up to `grid_time` and make the snapshot's chat part.

    `listed`: the channel ids of the snapshot's stream facts. With no listener, chat is off
    unless `unavailable` says why it could not run (then the window is "not listening").
    Never raises: a listener that fails is recorded as not listening.
    """
    if listener is None and not unavailable:
        return ChatPart()
    end = grid_time
    windows: list[ChatWindow] = []
    reason = unavailable
    if listener is not None:
        try:
            windows = await listener.close_windows(grid_time)
        except Exception as exc:  # the snapshot must land whatever the listener does
            log.exception("chat window %s could not be closed", isoformat_z(grid_time))
            reason = f"the chat listener failed: {type(exc).__name__}: {exc}"
    own = next((w for w in windows if w.end == end), None)
    part = ChatPart(
        source=str(listener.url) if listener is not None else "",
        counters=windows[-1].counters if windows else ChatCounters(),
        windows_dropped=sum(1 for w in windows if w.end != end),
    )
    if part.windows_dropped:
        log.warning(
            "chat: %d older window(s) closed at %s had no snapshot of their own; not written",
            part.windows_dropped,
            isoformat_z(end),
        )
    if own is None or not own.listening:
        failed = reason and reason != unavailable  # the listener broke: a fault
        if not reason:
            began = (end - dt.timedelta(seconds=GRID_SECONDS)).strftime("%H:%M")
            reason = (
                f"no chat listener was reading this community in the window from {began} "
                "(it starts with the listing of the first snapshot)"
            )
        log.info("chat window %s not listened to: %s", isoformat_z(end), reason)
        part.status = "not listening"
        part.activity = own.activity if own is not None else CHAT_ACTIVITY_SCHEMA.empty_table()
        coverage = own.coverage if own is not None else CHAT_COVERAGE_SCHEMA.empty_table()
        part.coverage = _with_listed(coverage, end, listed)
        if failed:
            part.missing = [MissingEntry(what=CHAT_ACTIVITY, channel_id=None, reason=reason)]
        return part
    part.activity = own.activity
    part.coverage = _with_listed(own.coverage, end, listed)
    part.missing = _gaps(own, part.coverage, listener.last_error if listener is not None else "")
    part.status = "partial" if part.missing else "complete"
    return part
