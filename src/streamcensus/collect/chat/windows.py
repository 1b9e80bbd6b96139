"""Grid windows of chat activity: who posted where, counted as lines arrive, tabled at close.

A window [t - GRID_SECONDS, t) holds every PRIVMSG whose `tmi-sent-ts` (the server's clock)
falls in it. Only open windows are kept, and in them only pseudonyms and counts, so memory
is bounded by one or two windows' posters whatever the uptime. Closing a window turns its
counts and the channels' joined intervals into the two Arrow tables of `schema.py`, the
lake's, as the snapshot at the window's end writes them (`snapshot_id` and `snapshot_ts`:
the window's end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from streamcensus.collect.chat.door import Door, Pseudonymiser
from streamcensus.collect.chat.schema import (
    ACTIVITY_SCHEMA,
    COMPLETE,
    COVERAGE_SCHEMA,
    NOT_JOINED,
    PARTIAL,
    SUSPENDED,
    ChatCounters,
)
from streamcensus.lake.schema import snapshot_id
from streamcensus.timeutil import GRID_SECONDS, from_epoch

GRID_MS = GRID_SECONDS * 1000


def window_end_ms(ts_ms: int) -> int:
    """The end (exclusive, epoch ms) of the grid window holding a `tmi-sent-ts`."""
    return ts_ms - ts_ms % GRID_MS + GRID_MS


@dataclass
class ChannelCoverage:
    """What the listener knows of one channel, to compute its coverage of a window."""

    channel_id: str
    intervals: list[tuple[float, float]]  # joined [from, to) in epoch seconds (to may be inf)
    suspended: bool = False  # Twitch refused the last JOIN with a suspended-type NOTICE

    def seconds_in(self, start: float, end: float) -> float:
        total = 0.0
        for lo, hi in self.intervals:
            overlap = min(hi, end) - max(lo, start)
            if overlap > 0:
                total += overlap
        return min(total, end - start)


@dataclass
class _Room:
    posters: dict[int, int] = field(default_factory=dict)  # pseudonym -> messages
    usernotices: int = 0
    clearchats: int = 0
    notices: int = 0
    malformed: int = 0


@dataclass
class Window:
    """One open window: rooms by channel id, the key it pseudonymises with, the bots seen."""

    end_ms: int
    pseudonymiser: Pseudonymiser
    rooms: dict[str, _Room] = field(default_factory=dict)
    bots: dict[int, str] = field(default_factory=dict)  # pseudonym -> known bot's login

    def room(self, channel_id: str) -> _Room:
        found = self.rooms.get(channel_id)
        if found is None:
            found = self.rooms[channel_id] = _Room()
        return found


@dataclass(frozen=True)
class ChatWindow:
    """A closed window: activity and coverage tables, and the counters' change.

    `counters` is the change of the listener's counters since the previous `close_windows`
    call; when one call closes several windows, the newest carries it and the others zeros.
    `listening` says whether the listener was running and had been given channels (a
    snapshot's listing) before the window's end;
    `listed_throughout` holds the channels (ids) it was asked to read for the whole window:
    a gap in one of those is a loss, while a channel listed during the window (it went live,
    or entered the top N) is joined only from then on.
    """

    start: dt.datetime
    end: dt.datetime
    key_id: str
    activity: pa.Table  # ACTIVITY_SCHEMA, sorted by channel_id, viewer
    coverage: pa.Table  # COVERAGE_SCHEMA, sorted by channel_id
    counters: ChatCounters
    listening: bool = True
    listed_throughout: frozenset[str] = frozenset()

    @property
    def snapshot_id(self) -> str:
        """The snapshot that holds this window: the one at its end."""
        return snapshot_id(self.end)

    @property
    def posters(self) -> int:
        return int(self.activity.num_rows)


class WindowBook:
    """The open windows, in which messages are counted under pseudonyms as they arrive."""

    def __init__(self, door: Door, counters: ChatCounters) -> None:
        self.door = door
        self.counters = counters
        self.windows: dict[int, Window] = {}
        self.closed_until_ms = 0  # windows ending at or before this are closed

    def window(self, end_ms: int) -> Window | None:
        """The open window ending at `end_ms` (made on first use); None once it is closed."""
        found = self.windows.get(end_ms)
        if found is None:
            if end_ms <= self.closed_until_ms:
                return None
            start = from_epoch((end_ms - GRID_MS) / 1000)
            found = Window(end_ms, self.door.pseudonymiser_for(start))
            self.windows[end_ms] = found
        return found

    def message(self, channel_id: str, ts_ms: int, user_id: str, login: str) -> None:
        """Count one PRIVMSG; the login and user id go no further than this call."""
        door = self.door
        if door.is_optout_viewer(user_id, login):
            return  # not counted anywhere: no trace of when she posted (P4)
        window = self.window(window_end_ms(ts_ms))
        if window is None:
            self.counters.late_messages += 1
            return
        viewer = window.pseudonymiser.pseudonym(user_id)
        posters = window.room(channel_id).posters
        posters[viewer] = posters.get(viewer, 0) + 1
        bot = window.pseudonymiser.known_bot(viewer, login)
        if bot is not None:
            window.bots[viewer] = bot

    def room_event(self, channel_id: str, end_ms: int, kind: str) -> None:
        """A USERNOTICE, CLEARCHAT, NOTICE or malformed line charged to a room."""
        window = self.window(end_ms)
        if window is None:
            return
        room = window.room(channel_id)
        setattr(room, kind, getattr(room, kind) + 1)

    def close(
        self,
        end_ms: int,
        channels: Iterable[ChannelCoverage],
        counters: ChatCounters,
        *,
        listening: bool = True,
        listed_throughout: Iterable[str] = (),
    ) -> ChatWindow:
        """Close the window ending at `end_ms` (and forget it): its two tables."""
        window = self.window(end_ms)
        if window is None:
            raise ValueError("this window is already closed")
        del self.windows[end_ms]
        self.closed_until_ms = max(self.closed_until_ms, end_ms)
        start_s, end_s = (end_ms - GRID_MS) / 1000, end_ms / 1000
        end = from_epoch(end_s)
        activity = _activity_table(window, end)
        coverage = _coverage_table(window, channels, start_s, end)
        return ChatWindow(
            start=from_epoch(start_s),
            end=end,
            key_id=window.pseudonymiser.key_id,
            activity=activity,
            coverage=coverage,
            counters=counters,
            listening=listening,
            listed_throughout=frozenset(listed_throughout),
        )


def _snapshot_columns(end: dt.datetime, n: int) -> list[pa.Array]:
    """`snapshot_id` and `snapshot_ts` of `n` rows of the window ending at `end`."""
    return [
        pa.repeat(pa.scalar(snapshot_id(end), pa.string()), n),
        pa.repeat(pa.scalar(end, pa.timestamp("s", tz="UTC")), n),
    ]


def _activity_table(window: Window, end: dt.datetime) -> pa.Table:
    channel: list[str] = []
    viewer: list[int] = []
    messages: list[int] = []
    for channel_id in sorted(window.rooms):
        posters = window.rooms[channel_id].posters
        if not posters:
            continue
        ordered = sorted(posters)
        channel.extend([channel_id] * len(ordered))
        viewer.extend(ordered)
        messages.extend([posters[p] for p in ordered])
    bots = window.bots
    names = [bots.get(v) for v in viewer] if bots else [None] * len(viewer)
    n = len(viewer)
    return pa.Table.from_arrays(
        [
            *_snapshot_columns(end, n),
            pa.array(channel, pa.string()),
            pa.array(viewer, pa.int64()),
            pa.repeat(pa.scalar(window.pseudonymiser.key_id, pa.string()), n),
            pa.array([name is not None for name in names], pa.bool_()),
            pa.array(names, pa.string()),
            pa.array(messages, pa.int32()),
        ],
        schema=ACTIVITY_SCHEMA,
    )


def coverage_status(seconds: float, span: float, malformed: int, suspended: bool) -> str:
    """A channel's coverage status for a window of `span` seconds (see `schema.py`)."""
    if seconds >= span and malformed == 0:
        return COMPLETE
    if seconds > 0:
        return PARTIAL
    return SUSPENDED if suspended else NOT_JOINED


def _coverage_table(
    window: Window, channels: Iterable[ChannelCoverage], start: float, end: dt.datetime
) -> pa.Table:
    known = {c.channel_id: c for c in channels}
    ids = sorted(set(known) | set(window.rooms))
    rows: dict[str, list[object]] = {name: [] for name in COVERAGE_SCHEMA.names[2:]}
    empty = _Room()
    end_s = end.timestamp()
    span = end_s - start
    for channel_id in ids:
        cov = known.get(channel_id)
        room = window.rooms.get(channel_id, empty)
        seconds = cov.seconds_in(start, end_s) if cov is not None else 0.0
        suspended = cov is not None and cov.suspended
        for name, value in (
            ("channel_id", channel_id),
            ("seconds_joined", round(seconds, 3)),
            ("status", coverage_status(seconds, span, room.malformed, suspended)),
            ("usernotices", room.usernotices),
            ("clearchats", room.clearchats),
            ("notices", room.notices),
            ("malformed_lines", room.malformed),
        ):
            rows[name].append(value)
    columns = _snapshot_columns(end, len(ids))
    columns += [pa.array(rows[f.name], f.type) for f in list(COVERAGE_SCHEMA)[2:]]
    return pa.Table.from_arrays(columns, schema=COVERAGE_SCHEMA)
