"""Who posts in which chat, when: chat messages drawn from the population's chat lists.

Each 5-minute tick's messages come from that tick's chat lists (`ChatRooms`), so posting
follows presence (sessions, the evening rhythm, favourite channels). An account's posting
habit is a fixed trait, hashed from the seed and its user id: most accounts never post
(silent lurkers), the others post at a heavy-tailed (Pareto) rate while present. Big chats
damp each person's rate a little, and each room has a mood per tick (hype moments).
Service bots post timers and answer `!commands`; lurker bots and the operator never post.
Subscriptions and raids (USERNOTICE) and timeouts (CLEARCHAT) happen now and then.

Everything is deterministic for (seed, tick): one numpy Generator per tick, hashes for
traits. The parameters are declared once, in `ChatParams`; `docs/calibration.md` compares
the figures they give with public ones.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_random import mix, rng, uniform
from streamcensus.simulator.protocol import ChatRole, ChatRooms, ChatRoomSource, World

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
TICK_MS = 300_000

# Random streams of the chat model; far from `model_random.Purpose` so they never collide.
P_TALKER = 101
P_RATE = 102
P_TICK = 103
P_VARIANT = 104
P_MEMBERSHIP = 105


class Kind:
    """Event kinds, in the order they sort within one millisecond."""

    PRIVMSG = 0
    USERNOTICE = 1
    CLEARCHAT = 2
    JOIN = 3
    PART = 4


class Sub:
    """What a PRIVMSG or USERNOTICE is."""

    TEXT = 0
    COMMAND = 1  # a viewer's `!command`
    BOT_ANSWER = 2
    BOT_TIMER = 3
    SUB = 10
    RESUB = 11
    RAID = 12
    TIMEOUT = 20


HUMAN_ROLES = (ChatRole.VIEWER, ChatRole.LURKER, ChatRole.BROADCASTER)


@dataclass(frozen=True)
class ChatParams:
    """The chat model's constants (rates per minute of presence unless said otherwise)."""

    talker_share_viewer: float = 0.50  # accounts that ever post, among ordinary viewers
    talker_share_lurker: float = 0.12  # ... among viewers who leave chats open for hours
    talker_share_broadcaster: float = 0.90
    rate_min: float = 0.07  # messages/min of the least active talker (Pareto scale)
    rate_alpha: float = 1.3  # Pareto shape: smaller is heavier-tailed
    rate_max: float = 4.0  # messages/min cap (spam filters, slow mode)
    lurker_rate_factor: float = 0.3
    broadcaster_rate: float = 0.25
    damp_reference: float = 200.0  # humans in a room where the damping factor is 1
    damp_exponent: float = 0.10  # per-person rate ~ room size ** -exponent
    damp_range: tuple[float, float] = (0.6, 1.5)
    mood_sigma: float = 0.4  # lognormal spread of a room's activity per tick
    command_share: float = 0.03  # viewer messages that are `!commands`
    timer_per_tick: float = 0.25  # timers per service bot and tick
    sub_per_human_tick: float = 0.0004
    resub_share: float = 0.6
    raid_per_room_tick: float = 0.003
    timeout_per_message: float = 0.001
    membership_max_room: int = 1000  # Twitch sends no JOIN/PART in bigger rooms


@dataclass(frozen=True)
class ChatTick:
    """Every chat event of one tick, sorted by time (`ts_ms`, epoch milliseconds)."""

    tick: int
    rooms: ChatRooms
    ts_ms: I64
    room: I64  # index into `rooms`
    kind: U8
    sub: U8
    account: I64  # author (PRIVMSG, USERNOTICE) or target (CLEARCHAT) user id
    role: U8
    variant: npt.NDArray[np.uint64]  # hash for texts and per-message tags
    extra: I64  # raid viewer count, resub months, timeout seconds

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])


@dataclass
class ActivityTruth:
    """Per room: distinct posters and PRIVMSG counts, humans and bots apart."""

    human_posters: dict[int, set[int]] = field(default_factory=dict)
    bot_posters: dict[int, set[int]] = field(default_factory=dict)
    human_messages: dict[int, int] = field(default_factory=dict)
    bot_messages: dict[int, int] = field(default_factory=dict)
    usernotices: dict[int, int] = field(default_factory=dict)
    clearchats: dict[int, int] = field(default_factory=dict)


def rooms_from_world(world: World, t: float) -> ChatRooms:
    """The chat lists of a tick through the plain `World` contract (one call per channel)."""
    if isinstance(world, ChatRoomSource):
        return world.chat_rooms(t)
    live = sorted(world.live_streams(t), key=lambda s: int(s.user_id))
    ids: list[I64] = []
    channels: list[int] = []
    langs: list[str] = []
    for stream in live:
        listed = world.chatters(stream.user_id, t)
        if listed is None:
            continue
        channels.append(int(stream.user_id))
        langs.append(stream.language)
        ids.append(listed.account_ids)
    sizes = np.asarray([len(a) for a in ids], dtype=np.int64)
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    accounts = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.asarray(channels, dtype=np.int64), sizes)
    roles = np.where(accounts == owner, ChatRole.BROADCASTER, ChatRole.VIEWER).astype(np.uint8)
    return ChatRooms(
        channel_ids=np.asarray(channels, dtype=np.int64),
        languages=tuple(langs),
        offsets=offsets,
        account_ids=accounts,
        roles=roles,
    )


class ChatModel:
    """Chat events of a world, tick by tick (cached), with ground-truth activity counts."""

    def __init__(self, world: World, params: ChatParams | None = None, cache: int = 4) -> None:
        self.world = world
        self.seed = int(world.seed)
        self.tick_seconds = int(world.tick_seconds)
        self.params = params or ChatParams()
        self._cache: OrderedDict[int, ChatTick] = OrderedDict()
        self._cache_size = cache
        self._lock = threading.Lock()

    # -- traits -----------------------------------------------------------------------

    def talker_rate(self, account_ids: I64, roles: U8) -> F64:
        """Messages per minute of presence of each account (0: never posts)."""
        p = self.params
        u_talk = uniform(mix(self.seed, P_TALKER, account_ids))
        u_rate = uniform(mix(self.seed, P_RATE, account_ids))
        pareto = p.rate_min * (1.0 - u_rate) ** (-1.0 / p.rate_alpha)
        rate = np.minimum(pareto, p.rate_max)
        share = np.zeros(len(roles), dtype=np.float64)
        share[roles == ChatRole.VIEWER] = p.talker_share_viewer
        share[roles == ChatRole.LURKER] = p.talker_share_lurker
        share[roles == ChatRole.BROADCASTER] = p.talker_share_broadcaster
        rate = np.where(roles == ChatRole.LURKER, rate * p.lurker_rate_factor, rate)
        rate = np.where(roles == ChatRole.BROADCASTER, p.broadcaster_rate, rate)
        return np.where(u_talk < share, rate, 0.0)

    # -- ticks ------------------------------------------------------------------------

    def tick_of(self, t: float) -> int:
        return int(np.floor(t / self.tick_seconds))

    def tick(self, tick: int) -> ChatTick:
        """The events of one tick (computed once, a few ticks cached)."""
        with self._lock:
            hit = self._cache.get(tick)
            if hit is not None:
                self._cache.move_to_end(tick)
                return hit
        built = self._build(tick)
        with self._lock:
            self._cache[tick] = built
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return built

    def _build(self, tick: int) -> ChatTick:
        p = self.params
        rooms = rooms_from_world(self.world, float(tick * self.tick_seconds))
        gen = rng(self.seed, P_TICK, tick)
        n_rooms = len(rooms.channel_ids)
        sizes = np.diff(rooms.offsets)
        room_of = np.repeat(np.arange(n_rooms, dtype=np.int64), sizes)
        roles = rooms.roles
        human = np.isin(roles, HUMAN_ROLES)
        humans = np.bincount(room_of[human], minlength=n_rooms).astype(np.float64)
        damp = np.clip(
            (np.maximum(humans, 1.0) / p.damp_reference) ** -p.damp_exponent, *p.damp_range
        )
        mood = gen.lognormal(-0.5 * p.mood_sigma**2, p.mood_sigma, n_rooms)
        minutes = self.tick_seconds / 60.0
        lam = self.talker_rate(rooms.account_ids, roles) * minutes * (damp * mood)[room_of]
        counts = gen.poisson(lam)
        author = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        t0 = tick * self.tick_seconds * 1000
        span = self.tick_seconds * 1000
        parts: list[dict[str, npt.NDArray[np.generic]]] = []
        ts = t0 + np.floor(gen.random(len(author)) * span).astype(np.int64)
        is_cmd = gen.random(len(author)) < p.command_share
        parts.append(self._part(rooms, author, ts, Kind.PRIVMSG, np.where(is_cmd, 1, 0)))
        parts.extend(self._bots(rooms, room_of, author[is_cmd], ts[is_cmd], gen, t0, span))
        parts.extend(self._notices(rooms, room_of, human, humans, author, ts, gen, t0, span))
        return self._assemble(tick, rooms, parts, gen)

    def _part(
        self,
        rooms: ChatRooms,
        entry: I64,
        ts: I64,
        kind: int,
        sub: npt.ArrayLike,
        extra: npt.ArrayLike = 0,
    ) -> dict[str, npt.NDArray[np.generic]]:
        """Events of chat-list entries `entry` (positions in rooms.account_ids)."""
        n = len(entry)
        sizes = np.diff(rooms.offsets)
        room_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        return {
            "ts_ms": ts.astype(np.int64),
            "room": room_of[entry] if n else np.zeros(0, dtype=np.int64),
            "kind": np.full(n, kind, dtype=np.uint8),
            "sub": np.broadcast_to(np.asarray(sub, dtype=np.uint8), (n,)).copy(),
            "account": rooms.account_ids[entry],
            "role": rooms.roles[entry],
            "extra": np.broadcast_to(np.asarray(extra, dtype=np.int64), (n,)).copy(),
        }

    def _bots(
        self,
        rooms: ChatRooms,
        room_of: I64,
        cmd_entry: I64,
        cmd_ts: I64,
        gen: np.random.Generator,
        t0: int,
        span: int,
    ) -> list[dict[str, npt.NDArray[np.generic]]]:
        """Service bots: an answer to each `!command`, and timers."""
        p = self.params
        bots = np.flatnonzero(rooms.roles == ChatRole.SERVICE_BOT)
        if not len(bots):
            return []
        # the first service bot of each room answers its commands
        first_bot = np.full(len(rooms.channel_ids), -1, dtype=np.int64)
        first_bot[room_of[bots[::-1]]] = bots[::-1]
        answerer = first_bot[room_of[cmd_entry]] if len(cmd_entry) else cmd_entry
        ok = answerer >= 0
        delay = (300 + gen.random(int(ok.sum())) * 600).astype(np.int64)
        answer_ts = np.minimum(cmd_ts[ok] + delay, t0 + span - 1)
        answers = self._part(rooms, answerer[ok], answer_ts, Kind.PRIVMSG, Sub.BOT_ANSWER)
        answers["extra"] = cmd_entry[ok]  # which command (its variant is drawn from it)
        timers = np.repeat(bots, gen.poisson(p.timer_per_tick, len(bots)))
        timer_ts = t0 + np.floor(gen.random(len(timers)) * span).astype(np.int64)
        return [answers, self._part(rooms, timers, timer_ts, Kind.PRIVMSG, Sub.BOT_TIMER)]

    def _notices(
        self,
        rooms: ChatRooms,
        room_of: I64,
        human: npt.NDArray[np.bool_],
        humans: F64,
        author: I64,
        ts: I64,
        gen: np.random.Generator,
        t0: int,
        span: int,
    ) -> list[dict[str, npt.NDArray[np.generic]]]:
        """Subscriptions and raids (USERNOTICE), timeouts (CLEARCHAT)."""
        p = self.params
        out = []
        n_rooms = len(rooms.channel_ids)
        subs = gen.poisson(humans * p.sub_per_human_tick)
        sub_room = np.repeat(np.arange(n_rooms, dtype=np.int64), subs)
        if len(sub_room):
            human_at = np.flatnonzero(human)
            lo = np.searchsorted(room_of[human_at], sub_room, side="left")
            hi = np.searchsorted(room_of[human_at], sub_room, side="right")
            pick = human_at[lo + np.floor(gen.random(len(sub_room)) * (hi - lo)).astype(np.int64)]
            resub = gen.random(len(pick)) < p.resub_share
            months = np.where(resub, 2 + gen.geometric(0.15, len(pick)), 1)
            sub_ts = t0 + np.floor(gen.random(len(pick)) * span).astype(np.int64)
            kind = np.where(resub, Sub.RESUB, Sub.SUB)
            out.append(self._part(rooms, pick, sub_ts, Kind.USERNOTICE, kind, months))
        raids = np.flatnonzero(gen.random(n_rooms) < p.raid_per_room_tick)
        if len(raids) and n_rooms > 1:
            # the raider is another live channel; the event is the raided room's
            raider = (raids + 1 + (gen.random(len(raids)) * (n_rooms - 1)).astype(np.int64)) % (
                n_rooms
            )
            raid_ts = t0 + np.floor(gen.random(len(raids)) * span).astype(np.int64)
            viewers = 2 + np.floor(gen.pareto(1.2, len(raids)) * 20).astype(np.int64)
            part = self._part(rooms, rooms.offsets[raids], raid_ts, Kind.USERNOTICE, Sub.RAID)
            part["account"] = rooms.channel_ids[raider]
            part["role"] = np.full(len(raids), ChatRole.BROADCASTER, dtype=np.uint8)
            part["extra"] = np.minimum(viewers, 50_000)
            out.append(part)
        timed_out = gen.random(len(author)) < p.timeout_per_message
        if timed_out.any():
            t_ts = np.minimum(ts[timed_out] + 2000, t0 + span - 1)
            out.append(self._part(rooms, author[timed_out], t_ts, Kind.CLEARCHAT, Sub.TIMEOUT, 600))
        return out

    def _assemble(
        self,
        tick: int,
        rooms: ChatRooms,
        parts: list[dict[str, npt.NDArray[np.generic]]],
        gen: np.random.Generator,
    ) -> ChatTick:
        cols = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
        order = np.lexsort((cols["account"], cols["kind"], cols["ts_ms"]))
        cols = {k: v[order] for k, v in cols.items()}
        n = len(order)
        variant = mix(self.seed, P_VARIANT, tick, np.arange(n, dtype=np.int64))
        return ChatTick(
            tick=tick,
            rooms=rooms,
            ts_ms=cols["ts_ms"].astype(np.int64),
            room=cols["room"].astype(np.int64),
            kind=cols["kind"].astype(np.uint8),
            sub=cols["sub"].astype(np.uint8),
            account=cols["account"].astype(np.int64),
            role=cols["role"].astype(np.uint8),
            variant=variant,
            extra=cols["extra"].astype(np.int64),
        )

    # -- membership (JOIN/PART of other users) ------------------------------------------

    def membership(self, tick: int) -> tuple[I64, I64, npt.NDArray[np.bool_], I64]:
        """(room channel id, user id, joined?, ts_ms) of chat-list changes into `tick`,
        only in rooms of at most `membership_max_room` chatters (as Twitch does)."""
        now = self.tick(tick).rooms
        before = self.tick(tick - 1).rooms

        def keys(rooms: ChatRooms) -> I64:
            sizes = np.diff(rooms.offsets)
            small = np.repeat(sizes <= self.params.membership_max_room, sizes)
            owner = np.repeat(rooms.channel_ids, sizes)
            return ((owner << 32) | rooms.account_ids)[small]

        k_now, k_before = keys(now), keys(before)
        sizes_now = dict(zip(now.channel_ids.tolist(), np.diff(now.offsets).tolist(), strict=True))
        joined = np.setdiff1d(k_now, k_before)
        parted = np.setdiff1d(k_before, k_now)
        parted = (
            parted[
                [
                    sizes_now.get(int(c), 0) <= self.params.membership_max_room
                    for c in (parted >> 32).tolist()
                ]
            ]
            if len(parted)
            else parted
        )
        key = np.concatenate([joined, parted])
        is_join = np.concatenate([np.ones(len(joined), bool), np.zeros(len(parted), bool)])
        u = uniform(mix(self.seed, P_MEMBERSHIP, tick, key))
        ts = tick * self.tick_seconds * 1000 + np.floor(u * self.tick_seconds * 1000)
        order = np.argsort(ts, kind="stable")
        ts = ts.astype(np.int64)
        return (key >> 32)[order], (key & 0xFFFFFFFF)[order], is_join[order], ts[order]

    # -- ground truth -------------------------------------------------------------------

    def activity(self, start: float, end: float, channel_ids: set[int] | None) -> ActivityTruth:
        """Posters and messages per room with tmi-sent-ts in [start, end) (epoch seconds)."""
        truth = ActivityTruth()
        lo_ms, hi_ms = int(np.ceil(start * 1000)), int(np.ceil(end * 1000))
        for tick in range(self.tick_of(start), self.tick_of(max(start, end - 1e-3)) + 1):
            events = self.tick(tick)
            keep = (events.ts_ms >= lo_ms) & (events.ts_ms < hi_ms)
            channel = events.rooms.channel_ids[events.room]
            if channel_ids is not None:
                keep &= np.isin(channel, np.fromiter(channel_ids, dtype=np.int64))
            self._count(truth, channel[keep], events, keep)
        return truth

    @staticmethod
    def _count(
        truth: ActivityTruth, channel: I64, events: ChatTick, keep: npt.NDArray[np.bool_]
    ) -> None:
        kind, role, account = events.kind[keep], events.role[keep], events.account[keep]
        msg = kind == Kind.PRIVMSG
        is_human = np.isin(role, HUMAN_ROLES)
        for sel, posters, counts in (
            (msg & is_human, truth.human_posters, truth.human_messages),
            (msg & ~is_human, truth.bot_posters, truth.bot_messages),
        ):
            for c, a in zip(channel[sel].tolist(), account[sel].tolist(), strict=True):
                posters.setdefault(c, set()).add(a)
                counts[c] = counts.get(c, 0) + 1
        for sel, counts in (
            (kind == Kind.USERNOTICE, truth.usernotices),
            (kind == Kind.CLEARCHAT, truth.clearchats),
        ):
            for c in channel[sel].tolist():
                counts[c] = counts.get(c, 0) + 1
