"""Viewing sessions: who watches which channel, from when to when.

Sessions are drawn in blocks of three hours of start time, one Generator per block keyed
by (seed, block), so any tick is answered from the few blocks that can still be on air
(sessions last at most six hours) without replaying history. Within a block each viewer
starts Poisson(activity x the block's share of its daily rhythm) sessions, drawn for a
whole language at once: the block's session count, then viewers in proportion to their
activity. A session starts at a local hour drawn from the evening-peaked rhythm, lasts a
lognormal time (lurkers much longer), and goes to a live favourite chosen by affinity,
or, when the viewer explores or no favourite is live, to a live channel of its language
chosen by popularity. It ends early when the broadcast ends. Times are in ticks.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_random import Purpose, rng
from streamcensus.simulator.model_schedule import TICK, TICKS_PER_DAY, Schedule
from streamcensus.simulator.population import LANG_CODES, LANG_UTC_OFFSET, Population

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

# Relative rate of session starts by local hour (Europe: evening peak, morning trough).
RHYTHM: tuple[float, ...] = (
    0.70, 0.45, 0.28, 0.16, 0.10, 0.08, 0.07, 0.08, 0.12, 0.20, 0.30, 0.38,
    0.50, 0.55, 0.58, 0.62, 0.72, 0.88, 1.05, 1.25, 1.40, 1.35, 1.15, 0.95,
)  # fmt: skip
MEDIAN_MINUTES = 20.0
LURKER_MEDIAN_MINUTES = 95.0
DURATION_SIGMA = 0.85
MAX_TICKS = 6 * 3600 // TICK  # longest session
BLOCK_TICKS = 36  # three hours of session starts per block
BLOCKS_PER_DAY = TICKS_PER_DAY // BLOCK_TICKS
WEEKEND_BOOST = 1.12


@dataclass(frozen=True, slots=True)
class SessionBlock:
    """The viewing sessions that start in one block, sorted by first tick."""

    block: int
    first_tick: int  # absolute tick where the block starts
    first: I32  # first tick present, relative to first_tick
    end: I32  # first tick no longer present, relative to first_tick
    viewer: I32
    channel: I32

    def active(self, tick: int) -> tuple[I32, I32]:
        """(viewers, channels) of this block's sessions present at an absolute tick."""
        rel = tick - self.first_tick
        lo = int(np.searchsorted(self.first, rel - MAX_TICKS, side="left"))
        hi = int(np.searchsorted(self.first, rel, side="right"))
        keep = self.end[lo:hi] > rel
        return self.viewer[lo:hi][keep], self.channel[lo:hi][keep]


class Sessions:
    """Session blocks of a population, computed on demand and cached."""

    def __init__(self, seed: int, population: Population, schedule: Schedule) -> None:
        self.seed = seed
        self.pop = population
        self.schedule = schedule
        self._blocks: OrderedDict[int, SessionBlock] = OrderedDict()
        self._live: OrderedDict[int, tuple[npt.NDArray[np.bool_], I32]] = OrderedDict()
        self._lock = threading.Lock()
        viewers = population.viewers
        rhythm = np.asarray(RHYTHM, dtype=np.float64)
        offsets = [LANG_UTC_OFFSET[c] for c in LANG_CODES]
        # (language, UTC hour) -> share of the language's daily sessions
        self._hourly = np.stack([np.roll(rhythm, -off) for off in offsets])
        self._hourly /= self._hourly.sum(axis=1, keepdims=True)
        self._activity_cum = np.zeros(viewers.n + 1, dtype=np.float64)
        np.cumsum(viewers.activity.astype(np.float64), out=self._activity_cum[1:])

    def active(self, tick: int) -> tuple[I32, I32]:
        """(viewers, channels) of every session present at a tick (pairs may repeat)."""
        first = (tick - MAX_TICKS) // BLOCK_TICKS
        parts = [self.block(b).active(tick) for b in range(first, tick // BLOCK_TICKS + 1)]
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
        )

    def block(self, block: int) -> SessionBlock:
        """The sessions starting in one block (cached, the last six blocks kept)."""
        with self._lock:
            hit = self._blocks.get(block)
            if hit is not None:
                self._blocks.move_to_end(block)
                return hit
            built = self._build(block)
            self._blocks[block] = built
            while len(self._blocks) > 6:
                self._blocks.popitem(last=False)
            return built

    def _live_matrix(self, day: int) -> tuple[npt.NDArray[np.bool_], I32]:
        hit = self._live.get(day)
        if hit is None:
            hit = self.schedule.live_matrix(day)
            self._live[day] = hit
            while len(self._live) > 2:
                self._live.popitem(last=False)
        return hit

    def _draw_viewers(self, block: int, gen: np.random.Generator) -> tuple[I32, I64]:
        """Who starts a session in the block, and the UTC hour of the day it starts."""
        viewers = self.pop.viewers
        day, part = divmod(block, BLOCKS_PER_DAY)
        hours = np.arange(part * 3, part * 3 + 3)
        boost = WEEKEND_BOOST if (day + 3) % 7 >= 5 else 1.0
        who: list[I32] = []
        when: list[I64] = []
        for lang in range(len(LANG_CODES)):
            lo, hi = int(viewers.lang_start[lang]), int(viewers.lang_start[lang + 1])
            a_lo, a_hi = self._activity_cum[lo], self._activity_cum[hi]
            weights = self._hourly[lang, hours]
            count = int(gen.poisson(boost * weights.sum() * (a_hi - a_lo))) if hi > lo else 0
            u = np.sort(gen.random(count))
            picked = np.searchsorted(self._activity_cum, a_lo + u * (a_hi - a_lo), side="right")
            who.append(np.clip(picked - 1, lo, hi - 1).astype(np.int32))
            cum = np.cumsum(weights / weights.sum())
            when.append(hours[np.minimum(np.searchsorted(cum, gen.random(count)), 2)])
        return np.concatenate(who), np.concatenate(when)

    def _build(self, block: int) -> SessionBlock:
        viewers = self.pop.viewers
        gen = rng(self.seed, Purpose.SESSIONS, block)
        day = block // BLOCKS_PER_DAY
        block_tick = block * BLOCK_TICKS
        viewer, hour = self._draw_viewers(block, gen)
        n = len(viewer)
        start = (hour + gen.random(n)) * 3600.0 - (block_tick - day * TICKS_PER_DAY) * TICK
        start = np.minimum(start, BLOCK_TICKS * TICK - TICK - 1.0)
        median = np.where(viewers.lurker[viewer], LURKER_MEDIAN_MINUTES, MEDIAN_MINUTES)
        minutes = np.clip(median * gen.lognormal(0.0, DURATION_SIGMA, n), 2.0, MAX_TICKS * 5.0)
        first = np.ceil(start / TICK).astype(np.int32)
        end = np.minimum(np.ceil((start + minutes * 60.0) / TICK), first + MAX_TICKS)
        end = end.astype(np.int32)

        live_day, ends_day = self._live_matrix(day)
        row0 = block_tick - day * TICKS_PER_DAY
        live = live_day[row0 : row0 + BLOCK_TICKS]
        u_pick, u_explore, u_lang, u_discover = gen.random((4, n))
        u_other = gen.integers(0, len(LANG_CODES), n)
        channel = self._favourite(viewer, first, u_pick, live)
        explore = (u_explore < viewers.explore[viewer]) | (channel < 0)
        lang = np.where(u_lang < 0.9, viewers.lang[viewer].astype(np.int64), u_other)
        found = self._discover(first[explore], lang[explore], u_discover[explore], live)
        channel[explore] = np.where(found >= 0, found, channel[explore])

        keep = (channel >= 0) & (end > first)
        viewer, first, end, channel = viewer[keep], first[keep], end[keep], channel[keep]
        end = np.minimum(end, ends_day[row0 + first, channel] - row0)
        order = np.argsort(first.astype(np.int16), kind="stable")
        return SessionBlock(
            block=block,
            first_tick=block_tick,
            first=first[order],
            end=end[order].astype(np.int32),
            viewer=viewer[order],
            channel=channel[order].astype(np.int32),
        )

    def _favourite(
        self, viewer: I32, first: I32, u: npt.NDArray[np.float64], live: npt.NDArray[np.bool_]
    ) -> I64:
        """A live favourite per session, by affinity; -1 when none is live."""
        favs = self.pop.viewers.favourites[viewer]
        affinity = self.pop.viewers.affinity[viewer]
        none = live.shape[1] - 1
        cum = np.zeros((favs.shape[1], len(viewer)), dtype=np.int32)
        total = np.zeros(len(viewer), dtype=np.int32)
        for slot in range(favs.shape[1]):
            fav = favs[:, slot]
            total += affinity[:, slot] * live[first, np.where(fav < 0, none, fav)]
            cum[slot] = total
        target = np.floor(u * total).astype(np.int32)
        chosen = np.minimum((cum <= target[None, :]).sum(axis=0), favs.shape[1] - 1)
        picked = favs[np.arange(len(viewer)), chosen].astype(np.int64)
        return np.where(total > 0, picked, -1)

    def _discover(
        self, first: I32, lang: I64, u: npt.NDArray[np.float64], live: npt.NDArray[np.bool_]
    ) -> I64:
        """A live channel of the language by popularity, per session; -1 when none."""
        ch = self.pop.channels
        n = ch.n
        picked = np.full(len(first), -1, dtype=np.int64)
        cum = np.zeros(n + 1, dtype=np.float64)
        for tick in np.unique(first).tolist():
            rows = np.flatnonzero(first == tick)
            np.cumsum(live[tick, :n] * ch.weight, out=cum[1:])
            lo_c = ch.lang_start[lang[rows]]
            hi_c = ch.lang_start[lang[rows] + 1]
            lo, hi = cum[lo_c], cum[hi_c]
            found = np.searchsorted(cum, lo + u[rows] * (hi - lo), side="right") - 1
            found = np.clip(found, lo_c, np.maximum(hi_c - 1, lo_c))
            ok = (hi > lo) & live[tick, np.minimum(found, n)]
            picked[rows] = np.where(ok, found, -1)
        return picked
