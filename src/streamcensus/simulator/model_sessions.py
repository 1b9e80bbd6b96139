"""Viewing sessions: who watches which channel, from when to when.

Sessions are drawn in blocks of three hours of start time, one Generator per block keyed
by (seed, block), so any tick is answered from the few blocks that can still be on air
(sessions last at most six hours) without replaying history. Within a block each viewer
starts Poisson(activity x the block's share of its daily rhythm) sessions, drawn for a
whole language at once: the block's session count, then viewers in proportion to their
activity. A session starts at a local hour drawn from the evening-peaked rhythm, lasts a
lognormal time (lurkers much longer), and goes to a live favourite chosen by affinity,
or, when the viewer explores or no favourite is live, to a live channel of its home
community or its language chosen by popularity to the power `DISCOVER_EXPONENT` (browsing
spreads wider than loyalty: without it, the largest channels reached most of their
community each month). It ends early when the broadcast ends. Times are in ticks.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_communities import SQUAD_MAX
from streamcensus.simulator.model_events import EVENT_MEDIAN_MINUTES, EXTRA_SESSIONS, TICK, Event
from streamcensus.simulator.model_random import Purpose, mix, rng, uniform
from streamcensus.simulator.model_schedule import TICKS_PER_DAY, Schedule
from streamcensus.simulator.population import LANG_CODES, LANG_UTC_OFFSET, Population

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Relative rate of session starts by local hour (Europe: evening peak, morning trough).
RHYTHM: tuple[float, ...] = (
    0.75, 0.52, 0.36, 0.25, 0.18, 0.14, 0.12, 0.11, 0.12, 0.18, 0.28, 0.38,
    0.50, 0.55, 0.58, 0.62, 0.72, 0.88, 1.05, 1.25, 1.40, 1.35, 1.15, 0.95,
)  # fmt: skip
MEDIAN_MINUTES = 20.0
LURKER_MEDIAN_MINUTES = 95.0
DURATION_SIGMA = 0.85
MAX_TICKS = 6 * 3600 // TICK  # longest session
BLOCK_TICKS = 36  # three hours of session starts per block
BLOCKS_PER_DAY = TICKS_PER_DAY // BLOCK_TICKS
WEEKEND_BOOST = 1.12
P_DISCOVER_HOME = 0.6  # a session exploring on purpose looks in the home community
P_FALLBACK_HOME = 0.9  # a session with no favourite live looks in the home community
P_RAID = 0.6  # a broadcast ends with a raid (on a live friend, else a live peer)
P_FOLLOW_RAID = 0.5  # a viewer still there at the end follows the raid
DISCOVER_EXPONENT = 0.6  # a discovering session picks a live channel by popularity ** this


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
        # how a discovering session weighs live channels (secondary members count half)
        ch = population.channels
        comms = ch.communities
        self._discover_weight = ch.weight**DISCOVER_EXPONENT
        secondary = comms.member_weight / np.maximum(ch.weight[comms.member_order], 1e-300)
        self._discover_member = secondary * self._discover_weight[comms.member_order]

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
            while len(self._live) > 3:
                self._live.popitem(last=False)
        return hit

    def _draw_viewers(self, block: int, gen: np.random.Generator) -> tuple[I32, I64]:
        """Who starts a session in the block, and the UTC hour of the day it starts."""
        viewers = self.pop.viewers
        day, part = divmod(block, BLOCKS_PER_DAY)
        hours = np.arange(part * 3, part * 3 + 3)
        boost = WEEKEND_BOOST if (day + 3) % 7 >= 5 else 1.0
        hour_start = day * 86_400 + hours * 3600.0
        extra = np.zeros((len(LANG_CODES), 3))
        for event in self._events(block):  # more people watch during an event
            covered = np.minimum(hour_start + 3600.0, event.end) - np.maximum(
                hour_start, event.start
            )
            extra[event.language] += EXTRA_SESSIONS * np.clip(covered / 3600.0, 0.0, 1.0)
        who: list[I32] = []
        when: list[I64] = []
        for lang in range(len(LANG_CODES)):
            lo, hi = int(viewers.lang_start[lang]), int(viewers.lang_start[lang + 1])
            a_lo, a_hi = self._activity_cum[lo], self._activity_cum[hi]
            weights = self._hourly[lang, hours] * (1.0 + extra[lang])
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
        u_pick, u_explore, u_lang, u_discover, u_home, u_follow = gen.random((6, n))
        u_other = gen.integers(0, len(LANG_CODES), n)
        channel = self._favourite(viewer, first, u_pick, live)
        fallback = channel < 0
        explore = (u_explore < viewers.explore[viewer]) | fallback
        own = viewers.lang[viewer].astype(np.int64)
        lang = np.where(u_lang < 0.9, own, u_other)
        p_home = np.where(fallback, P_FALLBACK_HOME, P_DISCOVER_HOME)
        home = np.where((u_home < p_home) & (lang == own), viewers.home[viewer], -1)
        found = self._discover(
            row0 + first[explore], lang[explore], home[explore], u_discover[explore], day
        )
        channel[explore] = np.where(found >= 0, found, channel[explore])
        events = self._events(block)
        if events:  # a share of the sessions starting during an event join it, for longer
            u_event = gen.random(n)
            stay = np.ceil(EVENT_MEDIAN_MINUTES * gen.lognormal(0.0, 0.6, n) / (TICK / 60))
            at = block_tick + first
            for event in events:
                joins = (own == event.language) & (u_event < event.reach)
                joins &= (at >= event.first_tick) & (at < event.end_tick)
                channel[joins] = event.channel
                end[joins] = np.minimum(first[joins] + stay[joins], first[joins] + MAX_TICKS)

        keep = (channel >= 0) & (end > first)
        viewer, first, end, channel = viewer[keep], first[keep], end[keep], channel[keep]
        wanted, u_follow = end, u_follow[keep]
        end = np.minimum(end, ends_day[row0 + first, channel] - row0)
        raid = self._raids(viewer, channel, end, wanted, u_follow, row0, day)
        viewer = np.concatenate([viewer, raid[0]])
        channel = np.concatenate([channel, raid[1]])
        first = np.concatenate([first, raid[2]])
        end = np.concatenate([end, raid[3]])
        order = np.argsort(first.astype(np.int16), kind="stable")
        return SessionBlock(
            block=block,
            first_tick=block_tick,
            first=first[order].astype(np.int32),
            end=end[order].astype(np.int32),
            viewer=viewer[order].astype(np.int32),
            channel=channel[order].astype(np.int32),
        )

    def _events(self, block: int) -> list[Event]:
        """The events live during some tick of a block."""
        first = block * BLOCK_TICKS
        day = first // TICKS_PER_DAY
        return [
            e
            for d in (day - 1, day)
            for e in self.schedule.events.on_day(d)
            if e.first_tick < first + BLOCK_TICKS and e.end_tick > first
        ]

    def _rows(self, day: int, rows: I64, columns: I64) -> tuple[npt.NDArray[np.bool_], I64]:
        """Liveness and broadcast end (ticks from the day's start) of channels at ticks given
        as rows from the start of `day`, which may run into the next day."""
        live_a, ends_a = self._live_matrix(day)
        live_b, ends_b = self._live_matrix(day + 1)
        later = rows >= TICKS_PER_DAY
        r_a = np.minimum(rows, TICKS_PER_DAY - 1)
        r_b = np.maximum(rows - TICKS_PER_DAY, 0)
        live = np.where(later, live_b[r_b, columns], live_a[r_a, columns])
        ends = np.where(later, ends_b[r_b, columns] + TICKS_PER_DAY, ends_a[r_a, columns])
        return live, ends.astype(np.int64)

    def _raid_targets(self, channel: I64, tick: I64, day: int) -> I64:
        """Where each broadcast ending at `tick` (rows from `day`'s start) raids: a live
        friend (squad member) when one is live, else a live channel of its community by
        popularity; -1 when it does not raid. A fixed draw per broadcast end."""
        comms = self.pop.channels.communities
        n = self.pop.channels.n
        absolute = tick + day * TICKS_PER_DAY
        u = uniform(mix(self.seed, Purpose.RAIDS, channel, absolute))
        u_mate = uniform(mix(self.seed, Purpose.RAIDS, channel, absolute, 1))
        mates = comms.squad_members[channel].astype(np.int64)
        columns = np.where((mates < 0) | (mates == channel[:, None]), n, mates)
        live, _ = self._rows(day, np.repeat(tick[:, None], SQUAD_MAX, axis=1), columns)
        count = live.sum(axis=1)
        pick = np.floor(u_mate * count).astype(np.int64)
        nth = np.argmax(np.cumsum(live, axis=1) > pick[:, None], axis=1)
        friend = columns[np.arange(channel.shape[0]), nth]
        peer = self._discover(
            tick,
            self.pop.channels.lang[channel].astype(np.int64),
            comms.primary[channel].astype(np.int64),
            u_mate,
            day,
        )
        target = np.where(count > 0, friend, np.where(peer != channel, peer, -1))
        return np.where(u < P_RAID, target, -1)

    def _raids(
        self, viewer: I32, channel: I64, end: I64, wanted: I64, u: F64, row0: int, day: int
    ) -> tuple[I64, I64, I64, I64]:
        """Sessions cut by the end of their broadcast that follow its raid: (viewer,
        channel, first, end), ticks relative to the block, until the session would have
        ended or the raided broadcast ends."""
        cut = (end < wanted) & (u < P_FOLLOW_RAID)
        if not cut.any():
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty
        keys = np.unique((channel[cut].astype(np.int64) << 32) | (end[cut] + row0))
        target = self._raid_targets(keys >> 32, keys & 0xFFFFFFFF, day)
        found = np.searchsorted(keys, (channel[cut].astype(np.int64) << 32) | (end[cut] + row0))
        to = target[found]
        go = to >= 0
        first = end[cut][go]
        rows = first + row0
        _, stop = self._rows(day, rows, to[go])
        last = np.minimum(wanted[cut][go], stop - row0)
        ok = last > first
        return (
            viewer[cut][go][ok].astype(np.int64),
            to[go][ok],
            first[ok].astype(np.int64),
            last[ok].astype(np.int64),
        )

    def _favourite(
        self, viewer: I32, first: I32, u: npt.NDArray[np.float64], live: npt.NDArray[np.bool_]
    ) -> I64:
        """A live favourite per session, by affinity; -1 when none is live."""
        favs = self.pop.viewers.favourites[viewer].T  # (slots, sessions): rows are contiguous
        weight = self.pop.viewers.affinity[viewer].T.astype(np.int32)
        none = live.shape[1] - 1
        weight *= live[first[None, :], np.where(favs < 0, none, favs)]
        for slot in range(1, weight.shape[0]):  # running total over the slots
            weight[slot] += weight[slot - 1]
        total = weight[-1]
        target = np.floor(u * total).astype(np.int32)
        chosen = np.minimum((weight <= target[None, :]).sum(axis=0), favs.shape[0] - 1)
        picked = favs[chosen, np.arange(len(viewer))].astype(np.int64)
        return np.where(total > 0, picked, -1)

    def _discover(
        self, rows: I64, lang: I64, home: I64, u: npt.NDArray[np.float64], day: int
    ) -> I64:
        """A live channel per session at ticks given as rows from `day`'s start: of the
        `home` community where it is >= 0, else of the language, by popularity to the
        power `DISCOVER_EXPONENT`; -1 when none is live."""
        ch = self.pop.channels
        comms = ch.communities
        n = ch.n
        picked = np.full(rows.shape[0], -1, dtype=np.int64)
        cum = np.zeros(n + 1, dtype=np.float64)
        mcum = np.zeros(comms.member_order.shape[0] + 1, dtype=np.float64)
        for row in np.unique(rows).tolist():
            at = np.flatnonzero(rows == row)
            if row < TICKS_PER_DAY:
                live = self._live_matrix(day)[0][row, :n]
            else:
                live = self._live_matrix(day + 1)[0][row - TICKS_PER_DAY, :n]
            np.cumsum(live * self._discover_weight, out=cum[1:])
            lo_c = ch.lang_start[lang[at]]
            hi_c = ch.lang_start[lang[at] + 1]
            lo, hi = cum[lo_c], cum[hi_c]
            found = np.searchsorted(cum, lo + u[at] * (hi - lo), side="right") - 1
            found = np.clip(found, lo_c, np.maximum(hi_c - 1, lo_c))
            ok = (hi > lo) & live[np.minimum(found, n - 1)]
            by_lang = np.where(ok, found, -1)
            mine = home[at] >= 0
            if mine.any():
                np.cumsum(live[comms.member_order] * self._discover_member, out=mcum[1:])
                k = np.maximum(home[at], 0)
                lo_m, hi_m = comms.member_start[k], comms.member_start[k + 1]
                lo, hi = mcum[lo_m], mcum[hi_m]
                pos = np.searchsorted(mcum, lo + u[at] * (hi - lo), side="right") - 1
                pos = np.clip(pos, lo_m, np.maximum(hi_m - 1, lo_m))
                member = comms.member_order[np.minimum(pos, comms.member_order.shape[0] - 1)]
                ok = mine & (hi > lo) & live[member]
                by_lang = np.where(ok, member, by_lang)
            picked[at] = by_lang
        return picked
