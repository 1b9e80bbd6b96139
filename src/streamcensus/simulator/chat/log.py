"""The delivery log: every chat line up to the simulated now, in tmi-sent-ts order, once.

The log is shared by all connections. `render_window` turns the events with tmi-sent-ts
in a window (only in rooms somebody has joined) into a `Chunk` of rendered lines; the
server appends chunks as the clock moves. Each connection reads the log from its own
cursor, so a line is rendered once however many connections receive it, and memory is
bounded by the log (`max_lines`), not by the number or the speed of the clients: a
client whose cursor falls behind the oldest kept line is dropped as too slow, as Twitch
drops clients that do not keep up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.chat.model import ChatModel, Kind
from streamcensus.simulator.chat.render import Renderer, membership_lines

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Chunk:
    """Rendered lines of one window, in time order; entry i has global position start + i."""

    start: int
    room: I64  # channel user id per line
    kind: npt.NDArray[np.uint8]
    lines: list[bytes]
    names: dict[int, str]  # channel user id -> login, for fault paths
    first_ms: int
    end_ms: int  # lines have tmi-sent-ts < end_ms

    @property
    def stop(self) -> int:
        return self.start + len(self.lines)


def render_window(
    model: ChatModel,
    renderer: Renderer,
    start_ms: int,
    end_ms: int,
    rooms: set[int],
    membership_rooms: set[int],
    position: int,
) -> Chunk:
    """The chunk of events with tmi-sent-ts in [start_ms, end_ms) of `rooms`."""
    tick_ms = model.tick_seconds * 1000
    rooms_arr = np.fromiter(rooms, dtype=np.int64, count=len(rooms))
    member_arr = np.fromiter(membership_rooms, dtype=np.int64, count=len(membership_rooms))
    ts_parts: list[I64] = []
    room_parts: list[I64] = []
    kind_parts: list[npt.NDArray[np.uint8]] = []
    lines: list[bytes] = []
    for tick in range(start_ms // tick_ms, (end_ms - 1) // tick_ms + 1):
        if not len(rooms_arr):
            break
        events = model.tick(tick)
        lo = int(np.searchsorted(events.ts_ms, start_ms, side="left"))
        hi = int(np.searchsorted(events.ts_ms, end_ms, side="left"))
        channel = events.rooms.channel_ids[events.room[lo:hi]]
        index = lo + np.flatnonzero(np.isin(channel, rooms_arr))
        ts = events.ts_ms[index]
        room = events.rooms.channel_ids[events.room[index]]
        kind = events.kind[index]
        tick_lines = renderer.render(events, index)
        if len(member_arr):
            m_room, m_user, m_join, m_ts = model.membership(tick)
            keep = (m_ts >= start_ms) & (m_ts < end_ms) & np.isin(m_room, member_arr)
            if keep.any():
                logins = renderer.world.logins(np.concatenate([m_room[keep], m_user[keep]]))
                k = int(keep.sum())
                extra = membership_lines(logins[:k], logins[k:], m_join[keep].tolist())
                ts = np.concatenate([ts, m_ts[keep]])
                room = np.concatenate([room, m_room[keep]])
                mk = np.where(m_join[keep], Kind.JOIN, Kind.PART).astype(np.uint8)
                kind = np.concatenate([kind, mk])
                tick_lines = tick_lines + extra
                order = np.argsort(ts, kind="stable")
                ts, room, kind = ts[order], room[order], kind[order]
                tick_lines = [tick_lines[j] for j in order.tolist()]
        ts_parts.append(ts)
        room_parts.append(room)
        kind_parts.append(kind)
        lines.extend(tick_lines)
    room_all = np.concatenate(room_parts) if room_parts else np.zeros(0, dtype=np.int64)
    names: dict[int, str] = {}
    if len(room_all):
        uniq = np.unique(room_all)
        names = dict(zip(uniq.tolist(), renderer.world.logins(uniq), strict=True))
    return Chunk(
        start=position,
        room=room_all,
        kind=np.concatenate(kind_parts) if kind_parts else np.zeros(0, dtype=np.uint8),
        lines=lines,
        names=names,
        first_ms=start_ms,
        end_ms=end_ms,
    )


class DeliveryLog:
    """Chunks in position order; the oldest are dropped beyond `max_lines`."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self.chunks: deque[Chunk] = deque()
        self.end = 0  # the position the next line will get
        self._lines = 0

    @property
    def first(self) -> int:
        """The oldest position still kept."""
        return self.chunks[0].start if self.chunks else self.end

    def append(self, chunk: Chunk) -> None:
        if chunk.start != self.end:
            raise ValueError("chunks must be appended in position order")
        if chunk.lines:
            self.chunks.append(chunk)
            self._lines += len(chunk.lines)
        self.end = chunk.stop
        while self._lines > self.max_lines and len(self.chunks) > 1:
            self._lines -= len(self.chunks.popleft().lines)

    def chunks_from(self, position: int) -> list[Chunk]:
        """Kept chunks that hold positions >= `position`."""
        return [c for c in self.chunks if c.stop > position]
