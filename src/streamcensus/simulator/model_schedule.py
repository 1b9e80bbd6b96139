"""Broadcasts: when each channel is live, what it plays, and its stream id.

A channel's weekly plan (which weekdays, at what hour, for how long) lives in
`Population.channels`; each UTC day draws that day's deviations from one Generator keyed
by (seed, day): skipped days, occasional extra days, start jitter, length, the game plan
and how often the title changes. An event evening (`model_events`) replaces its host's
broadcast of the day. A broadcast starts within its UTC day and may run past midnight;
when it would overlap the next day's broadcast it ends ten minutes before it. So the state
at any time needs the broadcasts of two days only, computed on demand.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_events import DAY, TICK, Events
from streamcensus.simulator.model_random import Purpose, mix, rng
from streamcensus.simulator.names import JUST_CHATTING
from streamcensus.simulator.population import Channels

TICKS_PER_DAY = DAY // TICK
_GAP = 600.0  # seconds between a truncated broadcast and the next one

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BroadcastDay:
    """The broadcasts that start on one UTC day, one slot per channel."""

    day: int
    on: npt.NDArray[np.bool_]  # the channel broadcasts and is seen on at least one tick
    start: F64  # epoch seconds (started_at)
    end: F64
    first_tick: I64  # first tick at which it is live (absolute tick number)
    end_tick: I64  # first tick at which it is no longer live
    game_first: npt.NDArray[np.int16]
    game_second: npt.NDArray[np.int16]
    switch_after: F64  # seconds after start when game_first becomes game_second
    title_period: F64  # seconds between title changes; inf = never changes
    stream_id: I64


class Schedule:
    """Broadcasts of every channel, by day, with a small cache."""

    def __init__(self, seed: int, channels: Channels, cache_days: int = 8) -> None:
        self.seed = seed
        self.channels = channels
        self.events = Events(seed, channels)
        self._cache: OrderedDict[int, BroadcastDay] = OrderedDict()
        self._cache_days = cache_days
        self._lock = threading.Lock()

    def _raw(self, day: int) -> tuple[npt.NDArray[np.bool_], F64, F64, np.random.Generator]:
        ch = self.channels
        n = ch.n
        gen = rng(self.seed, Purpose.BROADCASTS, day)
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        planned = ch.scheduled[:, weekday]
        u = gen.random(n)
        on = (planned & (u >= ch.skip)) | (~planned & (u < 0.04))
        hour = ch.start_hour[:, weekday].astype(np.float64) + gen.normal(0.0, 0.25, n)
        start = day * DAY + np.clip(hour, 0.0, 23.95) * 3600.0
        hours = np.clip(ch.hours * gen.lognormal(0.0, 0.28, n), 0.5, 12.0)
        start = np.floor(start)
        end = start + np.floor(hours * 3600.0)
        for event in self.events.on_day(day):  # the host's broadcast is the event
            on[event.channel] = True
            start[event.channel] = event.start
            end[event.channel] = event.end
        return on, start, end, gen

    def day(self, day: int) -> BroadcastDay:
        """The broadcasts of one UTC day (cached)."""
        with self._lock:
            hit = self._cache.get(day)
            if hit is not None:
                self._cache.move_to_end(day)
                return hit
        built = self._build(day)
        with self._lock:
            self._cache[day] = built
            while len(self._cache) > self._cache_days:
                self._cache.popitem(last=False)
        return built

    def _build(self, day: int) -> BroadcastDay:
        ch = self.channels
        n = ch.n
        on, start, end, gen = self._raw(day)
        next_on, next_start, _, _ = self._raw(day + 1)
        end = np.where(next_on, np.minimum(end, next_start - _GAP), end)
        first_tick = np.ceil(start / TICK).astype(np.int64)
        end_tick = np.ceil(end / TICK).astype(np.int64)
        on = on & (end_tick > first_tick)
        first_tick = np.where(on, first_tick, 0)
        end_tick = np.where(on, end_tick, 0)

        mode = gen.random(n)
        length = end - start
        main = ch.game_main
        alt = ch.game_alt
        chatting = np.int16(JUST_CHATTING)
        chat_first = mode < 0.30
        alt_only = (mode >= 0.30) & (mode < 0.45)
        main_then_alt = (mode >= 0.45) & (mode < 0.60)
        game_first = np.where(chat_first, chatting, np.where(alt_only, alt, main))
        game_second = np.where(chat_first, main, np.where(main_then_alt, alt, game_first))
        switch_after = np.where(
            chat_first,
            gen.uniform(900.0, 3600.0, n),
            np.where(main_then_alt, length * gen.uniform(0.4, 0.7, n), np.inf),
        )
        changes = gen.random(n) < 0.5
        title_period = np.where(changes, gen.uniform(2700.0, 10800.0, n), np.inf)
        for event in self.events.on_day(day):
            game_first[event.channel] = game_second[event.channel] = event.game
            switch_after[event.channel] = np.inf
        channel = np.arange(n, dtype=np.int64)
        stream_id = 10_000_000_000 + (
            mix(self.seed, Purpose.STREAM_ID, channel, day) % np.uint64(89_999_999_999)
        ).astype(np.int64)
        return BroadcastDay(
            day=day,
            on=on,
            start=start,
            end=end,
            first_tick=first_tick,
            end_tick=end_tick,
            game_first=game_first.astype(np.int16),
            game_second=game_second.astype(np.int16),
            switch_after=switch_after,
            title_period=title_period,
            stream_id=stream_id,
        )

    def live_at(self, tick: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """(live, from_today): which channels are live at a tick, and whether the live
        broadcast started on the tick's own UTC day (else on the day before)."""
        day = tick // TICKS_PER_DAY
        today = self.day(day)
        before = self.day(day - 1)
        now = today.on & (today.first_tick <= tick) & (tick < today.end_tick)
        prev = before.on & (before.first_tick <= tick) & (tick < before.end_tick)
        return now | prev, now

    def live_matrix(self, day: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32]]:
        """Liveness at every tick of a UTC day, shape (288, channels + 1), the last column
        always off; and where live, the tick (relative to the day) at which the live
        broadcast ends."""
        n = self.channels.n
        day0 = day * TICKS_PER_DAY
        live = np.zeros((TICKS_PER_DAY, n + 1), dtype=np.bool_)
        ends = np.zeros((TICKS_PER_DAY, n + 1), dtype=np.int32)
        rows = np.arange(TICKS_PER_DAY, dtype=np.int64)[:, None]
        for bc in (self.day(day - 1), self.day(day)):
            lo = (bc.first_tick - day0)[None, :]
            hi = (bc.end_tick - day0)[None, :]
            inside = bc.on[None, :] & (lo <= rows) & (rows < hi)
            live[:, :n] |= inside
            ends[:, :n] = np.where(inside, hi, ends[:, :n])
        return live, ends
