"""Presence sessionised snapshot by snapshot, as the loader reads each presence file.

The SQL models `viewing_sessions`, `int_presence_channels` and `int_presence_snapshots`
define what is computed from presence; on DuckDB they would sort or hash a whole day of
observations (26 M rows at `fr`) several times. The loader reads and decodes every
chatters file anyway (to check it), so this pass computes the same rows while the file is
in memory, one snapshot at a time, and the runner uses them instead of running those
queries (`RunContext.precomputed`). It keeps each snapshot's (channel, viewer) keys, so
the models that count people and bots per snapshot (`int_presence_people`,
`int_presence_shared`, `int_bot_presence`), which need the day's bots and bounded chats
first, are computed from them when the runner reaches them (`transform/presence_people.py`,
`RunContext.deferred`) instead of reading the day's presence again. Engines without the
pass (Spark, or a run without the loader) run the SQL; `tests/transform/test_presence_pass.py`
checks that both give identical tables.

A viewing session is open while its (channel, viewer) pair is seen again within two grid
slots (one missed snapshot); a snapshot that finds the pair after a longer gap closes the
session and opens another, exactly as the SQL's `slot - previous_slot > 2`. Sessions never
cross midnight, nor signals: one `DayPresence` per UTC day and signal (`chat_list` fed the
chatters files, `chat_activity` the chat-activity files, whose window ending at a grid time
is that grid time's slot), and every row it yields carries its signal. Snapshots must
arrive in time order. If a presence file holds the same (channel, viewer) twice, the pass
declines (`finish` returns None) and the SQL runs instead.

The work per snapshot is a few vectorised numpy steps over its rows and the open sessions
(sorted keys, binary search), never over the whole day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from streamcensus.lake import schema as lake_schema
from streamcensus.timeutil import GRID_SECONDS, UTC
from streamcensus.transform.context import CHAT_ACTIVITY, CHAT_LIST

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

MODELS = (
    "viewing_sessions",
    "int_presence_channels",
    "int_presence_snapshots",
)
# the presence kind each signal is read from
SIGNAL_KINDS = {lake_schema.CHATTERS.name: CHAT_LIST, lake_schema.CHAT_ACTIVITY.name: CHAT_ACTIVITY}
LOW = np.int64(0xFFFFFFFF)
COMPACT_EVERY = 12  # steps between removals of ended sessions from the open set
EMPTY = np.zeros(0, dtype=np.int64)


def _codes(values: pa.ChunkedArray, codes: dict[str | None, int]) -> I64:
    """Day-stable integer codes of a string column (new values get the next codes).

    Lake files store rows sorted by channel, so equal values come in runs: one code is
    looked up per run.
    """
    column = values.combine_chunks()
    size = len(column)
    if size == 0:
        return EMPTY
    change = np.ones(size, dtype=np.bool_)
    if size > 1:
        differs = pc.not_equal(column.slice(1), column.slice(0, size - 1))
        change[1:] = pc.fill_null(differs, True).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(change)
    firsts = column.take(pa.array(starts)).to_pylist()
    run_codes = np.asarray([codes.setdefault(v, len(codes)) for v in firsts], dtype=np.int64)
    return np.repeat(run_codes, np.diff(np.append(starts, size)))


def _distinct_sorted(values: I64) -> I64:
    """The distinct values, sorted (a sort and a comparison: cheaper than a hash here)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.ones(len(ordered), dtype=np.bool_)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


@dataclass
class _Open:
    """Open viewing sessions, sorted by key (channel code << 32 | viewer code)."""

    key: I64 = field(default_factory=lambda: EMPTY.copy())
    first: I64 = field(default_factory=lambda: EMPTY.copy())
    last: I64 = field(default_factory=lambda: EMPTY.copy())
    obs: I64 = field(default_factory=lambda: EMPTY.copy())
    bot: Bool = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def take(self, mask: Bool) -> _Open:
        return _Open(
            self.key[mask], self.first[mask], self.last[mask], self.obs[mask], self.bot[mask]
        )


class DayPresence:
    """Sessions and per-snapshot presence counts of one UTC day and signal, fed one snapshot
    at a time."""

    def __init__(
        self, day: dt.date, bot_min_chats: int, interval_minutes: int, signal: str = CHAT_LIST
    ) -> None:
        self.day = day
        self.signal = signal
        self.bot_min_chats = bot_min_chats
        self.interval_minutes = interval_minutes
        self.declined: str | None = None
        self._channels: dict[str | None, int] = {}
        self._viewers_sorted = EMPTY.copy()  # known pseudonyms, sorted
        self._codes_sorted = EMPTY.copy()  # their codes, in the same order
        self._recent_sorted = EMPTY.copy()  # pseudonyms first seen lately, sorted
        self._recent_codes = EMPTY.copy()
        self._viewer_chunks: list[I64] = []  # pseudonyms in code order
        self._viewer_count = 0
        self._peak = EMPTY.copy()  # most chats at one snapshot, by viewer code
        self._open = _Open()
        self._closed: list[_Open] = []
        self._last_slot: int | None = None
        self._steps = 0
        self._channel_rows: list[tuple[int, I64, I64, I64, I64]] = []
        self._snapshot_rows: list[tuple[int, int]] = []
        # each snapshot's presence: slot, keys (channel code << 32 | viewer code, sorted) and
        # whether the row's viewer is in more than one chat at that snapshot
        self.snapshots: list[tuple[int, I64, Bool]] = []

    def decline(self, reason: str) -> None:
        """Give up: the SQL models compute this day."""
        if self.declined is None:
            self.declined = reason

    def _viewer_codes(self, viewers: I64) -> tuple[I64, I64, I64, I64]:
        """Day-stable codes of pseudonyms: binary search of the snapshot's distinct values
        (sorted, so each search starts where the last ended) in the known ones, which are
        kept as a large sorted array and a small one merged into it now and then.

        Returns each row's code and chats (rows of its viewer in the snapshot), and the
        snapshot's distinct codes with their chats.
        """
        # rows come sorted by channel, then viewer: a stable sort merges those runs
        order = np.argsort(viewers, kind="stable")
        ordered = viewers[order]
        starts = np.ones(len(ordered), dtype=np.bool_)
        starts[1:] = ordered[1:] != ordered[:-1]
        unique = ordered[starts]
        inverse = np.empty(len(viewers), dtype=np.int64)
        inverse[order] = np.cumsum(starts) - 1
        counts = np.diff(np.append(np.flatnonzero(starts), len(ordered)))
        codes = np.full(len(unique), -1, dtype=np.int64)
        for known, known_codes in (
            (self._viewers_sorted, self._codes_sorted),
            (self._recent_sorted, self._recent_codes),
        ):
            if len(known) == 0:
                continue
            pos = np.searchsorted(known, unique)
            inside = pos < len(known)
            inside[inside] = known[pos[inside]] == unique[inside]
            codes[inside] = known_codes[pos[inside]]
        missing = codes < 0
        if missing.any():
            new = unique[missing]  # sorted
            fresh = np.arange(self._viewer_count, self._viewer_count + len(new), dtype=np.int64)
            codes[missing] = fresh
            self._viewer_count += len(new)
            self._viewer_chunks.append(new)
            at = np.searchsorted(self._recent_sorted, new)
            self._recent_sorted = np.insert(self._recent_sorted, at, new)
            self._recent_codes = np.insert(self._recent_codes, at, fresh)
            if len(self._recent_sorted) * 8 > len(self._viewers_sorted):
                at = np.searchsorted(self._viewers_sorted, self._recent_sorted)
                self._viewers_sorted = np.insert(self._viewers_sorted, at, self._recent_sorted)
                self._codes_sorted = np.insert(self._codes_sorted, at, self._recent_codes)
                self._recent_sorted = EMPTY.copy()
                self._recent_codes = EMPTY.copy()
        return codes[inverse], counts[inverse], codes, counts

    def add(self, moment: dt.datetime, chatters: pa.Table) -> None:
        """One snapshot: its checked presence rows (chatters, or chat activity: the columns
        `channel_id`, `viewer` and `is_bot` are read)."""
        if self.declined is not None:
            return
        slot = int(moment.timestamp()) // GRID_SECONDS
        if self._last_slot is not None and slot <= self._last_slot:
            self.decline("snapshots out of time order")
            return
        self._last_slot = slot
        channels = _codes(chatters.column("channel_id"), self._channels)
        viewers = chatters.column("viewer").to_numpy().astype(np.int64, copy=False)
        bots = chatters.column("is_bot").to_numpy(zero_copy_only=False).astype(np.bool_)
        codes, chats, present, counts = self._viewer_codes(viewers)
        keys = (channels << 32) | codes
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        if len(keys) > 1 and bool((keys[1:] == keys[:-1]).any()):
            self.decline("a presence file lists a viewer twice in one channel")
            return
        if len(self._peak) < self._viewer_count:
            grown = np.zeros(max(self._viewer_count, 2 * len(self._peak)), dtype=np.int64)
            grown[: len(self._peak)] = self._peak
            self._peak = grown
        self._peak[present] = np.maximum(self._peak[present], counts)
        self._count_channels(slot, channels, bots, chats)
        if len(present):
            self._snapshot_rows.append((slot, len(present)))
        self.snapshots.append((slot, keys, chats[order] > 1))
        self._step(slot, keys, bots[order])

    def _count_channels(self, slot: int, channels: I64, bots: Bool, chats: I64) -> None:
        size = len(self._channels)
        chatters = np.bincount(channels, minlength=size)
        known = np.bincount(channels, weights=bots, minlength=size).astype(np.int64)
        multi = (~bots) & (chats >= self.bot_min_chats)
        multi_chat = np.bincount(channels, weights=multi, minlength=size).astype(np.int64)
        present = np.flatnonzero(chatters)
        self._channel_rows.append(
            (slot, present, chatters[present], known[present], multi_chat[present])
        )

    def _step(self, slot: int, keys: I64, bots: Bool) -> None:
        state = self._open
        self._steps += 1
        if self._steps % COMPACT_EVERY == 0:
            alive = state.last >= slot - 2
            if not alive.all():
                self._closed.append(state.take(~alive))
                state = state.take(alive)
        at = np.searchsorted(state.key, keys)
        hit = at < len(state.key)
        hit[hit] = state.key[at[hit]] == keys[hit]
        seen = at[hit]
        # a gap of more than one missed snapshot ends the session: keep it, start anew
        ended = state.last[seen] < slot - 2
        if ended.any():
            over = seen[ended]
            self._closed.append(
                _Open(
                    state.key[over].copy(),
                    state.first[over].copy(),
                    state.last[over].copy(),
                    state.obs[over].copy(),
                    state.bot[over].copy(),
                )
            )
            state.first[over] = slot
            state.obs[over] = 0
            state.bot[over] = False
        state.last[seen] = slot
        state.obs[seen] += 1
        state.bot[seen] |= bots[hit]
        new = ~hit
        if new.any():
            where = at[new]
            count = int(new.sum())
            state = _Open(
                np.insert(state.key, where, keys[new]),
                np.insert(state.first, where, np.full(count, slot, dtype=np.int64)),
                np.insert(state.last, where, np.full(count, slot, dtype=np.int64)),
                np.insert(state.obs, where, np.ones(count, dtype=np.int64)),
                np.insert(state.bot, where, bots[new]),
            )
        self._open = state

    def finish(self) -> dict[str, pa.Table] | None:
        """The day's rows of each model in `MODELS`, or None if the pass declined."""
        if self.declined is not None:
            return None
        done = [*self._closed, self._open]
        key = np.concatenate([s.key for s in done])
        first = np.concatenate([s.first for s in done])
        last = np.concatenate([s.last for s in done])
        codes = key & LOW
        viewers = self.viewers()
        channel_names = self.channel_names()
        day = pa.scalar(self.day, pa.date32())
        stamp = pa.timestamp("s", tz="UTC")
        sessions = pa.table(
            {
                "day": pa.repeat(day, len(key)),
                "signal": self._signals(len(key)),
                "channel_id": channel_names.take(pa.array(key >> 32)),
                "viewer": pa.array(viewers[codes], pa.int64()),
                "first_seen": pa.array(first * GRID_SECONDS, pa.int64()).cast(stamp),
                "last_seen": pa.array(last * GRID_SECONDS, pa.int64()).cast(stamp),
                "minutes": pa.array((last - first + 1) * self.interval_minutes, pa.int32()),
                "observations": pa.array(np.concatenate([s.obs for s in done]), pa.int32()),
                "is_known_bot": pa.array(np.concatenate([s.bot for s in done]), pa.bool_()),
                "peak_chats": pa.array(self._peak[codes], pa.int32()),
            }
        )
        return {
            "viewing_sessions": sessions,
            "int_presence_channels": self._channel_table(channel_names),
            "int_presence_snapshots": pa.table(
                {
                    "day": pa.repeat(day, len(self._snapshot_rows)),
                    "signal": self._signals(len(self._snapshot_rows)),
                    "slot": pa.array([s for s, _ in self._snapshot_rows], pa.int64()),
                    "chatters": pa.array([n for _, n in self._snapshot_rows], pa.int64()),
                }
            ),
        }

    def channel_names(self) -> pa.Array:
        """The channel ids, by code."""
        return pa.array(list(self._channels), pa.string())

    def channel_codes(self, channel_ids: pa.Array | pa.ChunkedArray) -> I64:
        """The codes of channel ids (-1 for a channel the day's presence never named)."""
        found = pc.index_in(channel_ids, value_set=self.channel_names())
        return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def viewer_codes(self, viewers: I64) -> I64:
        """The codes of pseudonyms (-1 for one the day's presence never named)."""
        codes = np.full(len(viewers), -1, dtype=np.int64)
        for known, known_codes in (
            (self._viewers_sorted, self._codes_sorted),
            (self._recent_sorted, self._recent_codes),
        ):
            if len(known) == 0 or len(viewers) == 0:
                continue
            pos = np.minimum(np.searchsorted(known, viewers), len(known) - 1)
            hit = known[pos] == viewers
            codes[hit] = known_codes[pos[hit]]
        return codes

    def chats_per_viewer(self) -> I64:
        """Per viewer code, the chats she was seen in that day (distinct channels)."""
        pairs = _distinct_sorted(np.concatenate([s.key for s in (*self._closed, self._open)]))
        return np.bincount(pairs & LOW, minlength=self._viewer_count).astype(np.int64)

    def viewers(self) -> I64:
        """The pseudonyms, by code."""
        return np.concatenate(self._viewer_chunks) if self._viewer_chunks else EMPTY

    def _signals(self, rows: int) -> pa.Array:
        return pa.repeat(pa.scalar(self.signal, pa.string()), rows)

    def _channel_table(self, names: pa.Array) -> pa.Table:
        rows = self._channel_rows
        slots = np.concatenate([np.full(len(r[1]), r[0], dtype=np.int64) for r in rows] or [EMPTY])
        present = np.concatenate([r[1] for r in rows] or [EMPTY])
        return pa.table(
            {
                "day": pa.repeat(pa.scalar(self.day, pa.date32()), len(slots)),
                "signal": self._signals(len(slots)),
                "slot": pa.array(slots, pa.int64()),
                "channel_id": names.take(pa.array(present)),
                "chatters": pa.array(np.concatenate([r[2] for r in rows] or [EMPTY]), pa.int64()),
                "known_bot_chatters": pa.array(
                    np.concatenate([r[3] for r in rows] or [EMPTY]), pa.int64()
                ),
                "multi_chat_chatters": pa.array(
                    np.concatenate([r[4] for r in rows] or [EMPTY]), pa.int64()
                ),
            }
        )


def combine_days(days: list[dict[str, pa.Table] | None]) -> dict[str, pa.Table] | None:
    """The rows of several days (and signals) together; None if any pass declined."""
    if not days or any(d is None for d in days):
        return None
    return {name: pa.concat_tables([d[name] for d in days if d is not None]) for name in MODELS}


def grid_moment(slot: int) -> dt.datetime:
    """The grid time of a slot."""
    return dt.datetime.fromtimestamp(slot * GRID_SECONDS, UTC)
