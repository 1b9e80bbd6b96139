"""`PopulationWorld`: the simulated Twitch population behind the Helix simulator.

It implements the `World` contract of `protocol.py`. A request's time is quantised to a
tick (`tick_seconds`); the first question about a tick computes the whole tick at once
(live channels, every chat list, viewer counts) with array code, and later questions
about that tick are slices of the cached result. The static population comes from
`population`, broadcasts from `model_schedule`, viewing sessions from `model_sessions`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_accounts import ID_BASE, Accounts
from streamcensus.simulator.model_events import TICK, VIEWER_FACTOR
from streamcensus.simulator.model_followers import Followers
from streamcensus.simulator.model_random import Purpose, mix, uniform
from streamcensus.simulator.model_scales import profile
from streamcensus.simulator.model_schedule import TICKS_PER_DAY, Schedule
from streamcensus.simulator.model_sessions import Sessions
from streamcensus.simulator.names import (
    CATEGORIES,
    EXTRA_TAGS,
    LANGUAGES,
    LOGIN_RE,
    SERVICE_BOTS,
    description_for,
    title_for,
)
from streamcensus.simulator.permissions import Permissions
from streamcensus.simulator.population import LANG_CODES, Population, build_population
from streamcensus.simulator.protocol import ChatRole, ChatRooms, ChatterList, StreamRow, UserRow

I64 = npt.NDArray[np.int64]
_SHIFT = np.int64(30)  # chat keys: channel << 30 | (user id - ID_BASE)
_LOW = np.int64((1 << 30) - 1)
_PARTNER = ("", "affiliate", "partner")


@dataclass(slots=True)
class TickState:
    """Everything true at one tick; arrays are read-only."""

    tick: int
    time: float
    live: I64  # live channel indices, by viewer_count desc then user id
    viewer_count: I64  # per channel (0 when offline)
    humans: I64  # human chatters per channel
    chat_ids: I64  # all chat lists, concatenated; each sorted by user id
    chat_offsets: I64  # channel c's chatters are chat_ids[off[c]:off[c + 1]]
    is_live: npt.NDArray[np.bool_]  # per channel
    from_today: npt.NDArray[np.bool_]  # live broadcast started on the tick's UTC day
    streams: list[StreamRow] | None = field(default=None)


def _frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.setflags(write=False)
    return array


class PopulationWorld:
    """A simulated Twitch population, deterministic for a seed and a time."""

    tick_seconds: int = TICK

    def __init__(
        self,
        scale: str = "small",
        seed: int = 42,
        operator_login: str = "streamcensus_operator",
        permissions: Permissions | None = None,
    ) -> None:
        self.scale = scale
        self.seed = int(seed)
        prof = profile(scale)
        if not LOGIN_RE.match(operator_login.lower()):
            raise ValueError(f"not a valid Twitch login: {operator_login!r} (4-25 of a-z, 0-9, _)")
        self.permissions = permissions if permissions is not None else Permissions()
        self.population: Population = build_population(
            self.seed, prof, self.permissions.consent_share
        )
        ch = self.population.channels
        self.n_channels = ch.n
        self.n_viewers = self.population.viewers.n
        self.n_lurker_bots = prof.lurker_bots
        named = [(login, shown) for login, shown, _ in SERVICE_BOTS]
        named.append((operator_login, operator_login))
        self.accounts = Accounts(self.seed, ch.n, self.n_viewers, prof.lurker_bots, named)
        self.operator_index = self.accounts.n - 1
        self._service_first = self.accounts.first_named
        self.schedule = Schedule(self.seed, ch)
        self.sessions = Sessions(self.seed, self.population, self.schedule)
        self._channel_ids = self.accounts.ids(np.arange(ch.n))
        self.followers = Followers(self.seed, ch.size)
        self.operator_mod = self._operator_moderation()
        self._ticks: OrderedDict[int, TickState] = OrderedDict()
        self._lock = threading.RLock()
        self._communities_truth: dict[str, Any] | None = None

    # -- ticks ------------------------------------------------------------------------

    def tick_of(self, t: float) -> int:
        """The tick number of a time (epoch seconds)."""
        return int(np.floor(t / TICK))

    def tick_state(self, t: float) -> TickState:
        """The full state at the tick of t (computed once, the last three ticks cached)."""
        tick = self.tick_of(t)
        with self._lock:
            hit = self._ticks.get(tick)
            if hit is not None:
                self._ticks.move_to_end(tick)
                return hit
            state = self._compute(tick)
            self._ticks[tick] = state
            while len(self._ticks) > 3:
                self._ticks.popitem(last=False)
            return state

    def _compute(self, tick: int) -> TickState:
        ch = self.population.channels
        n = ch.n
        day = tick // TICKS_PER_DAY
        live, from_today = self.schedule.live_at(tick)
        v_on, c_on = self.sessions.active(tick)
        viewer, channel = v_on.astype(np.int64), c_on.astype(np.int64)
        on = live[channel]
        viewer, channel = viewer[on], channel[on]
        human_keys = np.unique((channel << _SHIFT) | (self.accounts.ids(viewer + n) - ID_BASE))
        humans = np.bincount(human_keys >> _SHIFT, minlength=n).astype(np.int64)

        live_idx = np.flatnonzero(live).astype(np.int64)
        bc_day = np.where(from_today[live_idx], day, day - 1)
        keys = [human_keys, self._bot_keys(live_idx, bc_day)]
        keys.append((live_idx << _SHIFT) | (self._channel_ids[live_idx] - ID_BASE))
        chat_keys = np.sort(np.concatenate(keys))
        per_channel = np.bincount(chat_keys >> _SHIFT, minlength=n)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(per_channel, out=offsets[1:])

        jitter = uniform(mix(self.seed, Purpose.VIEWER_COUNT, live_idx, tick))
        counts = np.zeros(n, dtype=np.int64)
        factor = ch.factor[live_idx].astype(np.float64)
        for event in self.schedule.events.live_at(tick):  # most of an event's audience never chats
            factor[live_idx == event.channel] *= VIEWER_FACTOR
        counts[live_idx] = np.floor(humans[live_idx] * factor + jitter)
        order = np.lexsort((self._channel_ids[live_idx], -counts[live_idx]))
        return TickState(
            tick=tick,
            time=float(tick * TICK),
            live=_frozen(live_idx[order]),
            viewer_count=_frozen(counts),
            humans=_frozen(humans),
            chat_ids=_frozen(ID_BASE + (chat_keys & _LOW)),
            chat_offsets=_frozen(offsets),
            is_live=_frozen(live),
            from_today=_frozen(from_today),
        )

    def _bot_keys(self, live_idx: I64, bc_day: I64) -> I64:
        """Chat keys of bots: lurker bots by coverage (stable for a broadcast), and the
        service bots each channel uses (always there while it is live)."""
        n_bots = self.n_lurker_bots
        parts: list[I64] = []
        if n_bots and len(live_idx):
            bots = np.arange(n_bots, dtype=np.int64)
            u = uniform(
                mix(self.seed, Purpose.BOTS, bots[None, :], live_idx[:, None], bc_day[:, None])
            )
            row, col = np.nonzero(u < self.population.bot_coverage[None, :])
            account = self.n_channels + self.n_viewers + col
            parts.append((live_idx[row] << _SHIFT) | (self.accounts.ids(account) - ID_BASE))
        uses = self.population.channels.service_bots[live_idx]
        for bit in range(len(SERVICE_BOTS)):
            chans = live_idx[(uses & np.uint16(1 << bit)) != 0]
            bot_id = int(self.accounts.ids(np.array([self._service_first + bit]))[0])
            parts.append((chans << _SHIFT) | np.int64(bot_id - ID_BASE))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    # -- World contract ---------------------------------------------------------------

    def live_streams(self, t: float) -> list[StreamRow]:
        """Every live stream at t, all languages, by viewer_count desc, then user_id."""
        state = self.tick_state(t)
        with self._lock:
            if state.streams is None:
                state.streams = self._stream_rows(state)
            return state.streams

    def _stream_rows(self, state: TickState) -> list[StreamRow]:
        ch = self.population.channels
        idx = state.live
        day = state.tick // TICKS_PER_DAY
        today, before = self.schedule.day(day), self.schedule.day(day - 1)
        fresh = state.from_today[idx]

        def pick(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return np.where(fresh, a[idx], b[idx])

        start = pick(today.start, before.start)
        elapsed = state.time - start
        game = np.where(
            elapsed < pick(today.switch_after, before.switch_after),
            pick(today.game_first, before.game_first),
            pick(today.game_second, before.game_second),
        )
        period = pick(today.title_period, before.title_period)
        epoch = np.where(
            np.isfinite(period), np.floor(elapsed / np.where(np.isfinite(period), period, 1.0)), 0
        )
        bc_day = np.where(fresh, day, day - 1)
        variant = mix(self.seed, Purpose.TITLES, idx, bc_day, epoch) % np.uint64(1000)
        stream_id = pick(today.stream_id, before.stream_id)
        logins = self.accounts.logins(idx)
        names = self.accounts.display_names(idx)
        rows: list[StreamRow] = []
        for pos, c in enumerate(idx.tolist()):
            lang_code, _, lang_tag = LANGUAGES[int(ch.lang[c])]
            category = CATEGORIES[int(game[pos])]
            tags = (lang_tag,) if c % 3 == 0 else (lang_tag, EXTRA_TAGS[c % len(EXTRA_TAGS)])
            rows.append(
                StreamRow(
                    id=str(int(stream_id[pos])),
                    user_id=str(int(self._channel_ids[c])),
                    user_login=logins[pos],
                    user_name=names[pos],
                    game_id=category.id,
                    game_name=category.name,
                    title=title_for(
                        lang_code,
                        int(variant[pos]),
                        category.name,
                        (int(bc_day[pos]) + c) % 400 + 1,
                    ),
                    viewer_count=int(state.viewer_count[c]),
                    started_at=float(start[pos]),
                    language=lang_code,
                    tags=tags,
                    is_mature=bool(ch.mature[c]),
                )
            )
        return rows

    def channel_index(self, broadcaster_id: str) -> int:
        """The channel index of a broadcaster id, or -1 when it is not a channel."""
        idx = int(self.accounts.index_of_strings([broadcaster_id])[0])
        return idx if 0 <= idx < self.n_channels else -1

    def chatters(self, broadcaster_id: str, t: float) -> ChatterList | None:
        """The chat list of a channel at t; None when the channel is not live."""
        c = self.channel_index(broadcaster_id)
        if c < 0:
            return None
        state = self.tick_state(t)
        if not state.is_live[c]:
            return None
        ids = state.chat_ids[state.chat_offsets[c] : state.chat_offsets[c + 1]]
        return ChatterList(broadcaster_id=broadcaster_id, account_ids=ids)

    def logins(self, account_ids: npt.NDArray[np.int64]) -> list[str]:
        """Logins for account ids (same order); unknown ids give ""."""
        idx = self.accounts.index_of(account_ids)
        out = self.accounts.logins(np.where(idx >= 0, idx, 0))
        return [s if i >= 0 else "" for s, i in zip(out, idx.tolist(), strict=True)]

    def display_names(self, account_ids: npt.NDArray[np.int64]) -> list[str]:
        """Display names for account ids (same order); unknown ids give ""."""
        idx = self.accounts.index_of(account_ids)
        out = self.accounts.display_names(np.where(idx >= 0, idx, 0))
        return [s if i >= 0 else "" for s, i in zip(out, idx.tolist(), strict=True)]

    def _user_rows(self, index: list[int]) -> list[UserRow]:
        if not index:
            return []
        idx = np.asarray(index, dtype=np.int64)
        ch = self.population.channels
        ids = self.accounts.ids(idx).tolist()
        logins = self.accounts.logins(idx)
        names = self.accounts.display_names(idx)
        created = self.accounts.created_at(idx).tolist()
        rows = []
        for pos, i in enumerate(index):
            channel = i < self.n_channels
            lang = LANG_CODES[int(ch.lang[i])] if channel else ""
            game = CATEGORIES[int(ch.game_main[i])].name if channel else ""
            rows.append(
                UserRow(
                    id=str(ids[pos]),
                    login=logins[pos],
                    display_name=names[pos],
                    broadcaster_type=_PARTNER[int(ch.partner[i])] if channel else "",
                    description=description_for(lang, game) if channel else "",
                    created_at=float(created[pos]),
                )
            )
        return rows

    def users_by_id(self, ids: list[str]) -> list[UserRow]:
        """Accounts with these ids (unknown ids skipped), in the order given."""
        idx = self.accounts.index_of_strings(ids)
        return self._user_rows([i for i in idx.tolist() if i >= 0])

    def users_by_login(self, logins: list[str]) -> list[UserRow]:
        """Accounts with these logins, case-insensitive (unknown skipped), in the order given."""
        found = [self.accounts.lookup_login(s) for s in logins]
        return self._user_rows([i for i in found if i >= 0])

    def operator(self) -> UserRow:
        """The operator account (the collector's moderator identity)."""
        return self._user_rows([self.operator_index])[0]

    def can_read_chatters(self, user_id: str, broadcaster_id: str) -> bool:
        """True when `user_id` is the broadcaster or one of its moderators."""
        c = self.channel_index(broadcaster_id)
        user = int(self.accounts.index_of_strings([user_id])[0])
        if c < 0 or user < 0:
            return False
        if user == c:
            return True
        if user == self.operator_index:
            return bool(self.operator_mod[c])
        return bool((self.population.moderators[c] == user).any())

    def chat_rooms(self, t: float) -> ChatRooms:
        """Every live channel's chat list at t (for the chat model), rooms by channel index."""
        state = self.tick_state(t)
        live = np.sort(state.live)
        off = state.chat_offsets
        # offline channels have empty slices, so live rooms tile chat_ids in channel order
        offsets = np.append(off[live], off[-1]).astype(np.int64)
        idx = self.accounts.index_of(state.chat_ids)
        n, first_bot = self.n_channels, self.n_channels + self.n_viewers
        lurker = np.zeros(idx.shape[0], dtype=np.bool_)
        viewer = (idx >= n) & (idx < first_bot)
        lurker[viewer] = self.population.viewers.lurker[idx[viewer] - n]
        roles = np.full(idx.shape[0], ChatRole.VIEWER, dtype=np.uint8)
        roles[lurker] = ChatRole.LURKER
        roles[idx < n] = ChatRole.BROADCASTER
        roles[(idx >= first_bot) & (idx < self._service_first)] = ChatRole.LURKER_BOT
        roles[(idx >= self._service_first) & (idx < self.operator_index)] = ChatRole.SERVICE_BOT
        roles[idx == self.operator_index] = ChatRole.OPERATOR
        langs = self.population.channels.lang[live]
        return ChatRooms(
            channel_ids=self._channel_ids[live],
            languages=tuple(LANG_CODES[int(i)] for i in langs),
            offsets=offsets,
            account_ids=state.chat_ids,
            roles=roles,
        )

    # -- permissions, consent and followers (auth and user-token routes) --------------

    def _operator_moderation(self) -> npt.NDArray[np.bool_]:
        """Channels the operator moderates: the configured logins, or all (load tests)."""
        mod = np.zeros(self.n_channels, dtype=np.bool_)
        if self.permissions.mode == "all-moderated":
            mod[:] = True
            return mod
        for login in self.permissions.operator_moderates:
            c = self.accounts.lookup_login(login)
            if not 0 <= c < self.n_channels:
                raise ValueError(f"operator_moderates: no simulated channel {login!r}")
            mod[c] = True
        return mod

    def consents(self, user_id: str) -> bool | None:
        """Whether this channel's broadcaster consents to chat-list reading (they approve
        streamcensus's device-flow request with their own account); None for an account
        that is not a channel."""
        c = self.channel_index(user_id)
        return bool(self.population.consent[c]) if c >= 0 else None

    def moderated_channels(self, user_id: str) -> list[UserRow]:
        """The channels a user moderates (not their own), by channel id (Get Moderated Channels)."""
        user = int(self.accounts.index_of_strings([user_id])[0])
        if user < 0:
            return []
        if user == self.operator_index:
            chans = np.flatnonzero(self.operator_mod)
        else:
            chans = np.flatnonzero((self.population.moderators == user).any(axis=1))
        order = np.argsort(self._channel_ids[chans], kind="stable")
        return self._user_rows([int(c) for c in chans[order] if int(c) != user])

    def followers_total(self, user_id: str, t: float) -> int | None:
        """Followers of an account at t: None for an unknown id, 0 for a non-channel."""
        user = int(self.accounts.index_of_strings([user_id])[0])
        if user < 0:
            return None
        return self.followers.total(user, t) if user < self.n_channels else 0

    def permissions_truth(self) -> dict[str, Any]:
        """Ground truth of who may read chat lists: mode, operator moderation, consent."""
        ch_ids = self._channel_ids
        consenting = np.flatnonzero(self.population.consent)
        moderated = np.flatnonzero(self.operator_mod)

        def rows(index: npt.NDArray[np.int64]) -> list[dict[str, str]]:
            logins = self.accounts.logins(index) if index.shape[0] else []
            return [
                {"id": str(int(ch_ids[c])), "login": login}
                for c, login in zip(index.tolist(), logins, strict=True)
            ]

        return {
            "mode": self.permissions.mode,
            "consent_share": self.permissions.consent_share,
            "channels": self.n_channels,
            "operator_moderates": rows(moderated) if self.permissions.mode == "realistic" else [],
            "operator_moderates_all": self.permissions.mode == "all-moderated",
            "consenting": rows(consenting),
        }

    # -- ground truth for tests and the simulator's inspection routes -----------------

    def communities_truth(self) -> dict[str, Any]:
        """The true audience communities: each community (id, label, scene, genre, language,
        games, size) and each channel's community, secondary community and friend group."""
        with self._lock:
            if self._communities_truth is None:
                self._communities_truth = self._build_communities_truth()
            return self._communities_truth

    def _build_communities_truth(self) -> dict[str, Any]:
        comms = self.population.channels.communities
        ids = comms.ids(LANG_CODES)
        n = self.n_channels
        logins = self.accounts.logins(np.arange(n))
        primary = comms.primary.tolist()
        secondary = comms.secondary.tolist()
        sizes = np.bincount(comms.primary, minlength=comms.n).tolist()
        second_sizes = np.bincount(comms.secondary[comms.secondary >= 0], minlength=comms.n)
        communities = [
            {
                "id": ids[k],
                "label": scene.label,
                "scene": scene.scene,
                "genre": scene.genre,
                "language": LANG_CODES[int(comms.lang[k])],
                "games": [name for name, _ in scene.games],
                "channels": sizes[k],
                "secondary_channels": int(second_sizes[k]),
            }
            for k, scene in enumerate(comms.scene)
        ]
        lang = self.population.channels.lang.tolist()
        squad = comms.squad.tolist()
        channels = [
            {
                "id": str(int(self._channel_ids[c])),
                "login": logins[c],
                "language": LANG_CODES[lang[c]],
                "community": ids[primary[c]],
                "label": comms.scene[primary[c]].label,
                "secondary": ids[secondary[c]] if secondary[c] >= 0 else None,
                "squad": squad[c],
            }
            for c in range(n)
        ]
        return {
            "scale": self.scale,
            "seed": self.seed,
            "communities": communities,
            "channels": channels,
        }

    def bot_ids(self) -> I64:
        """User ids of every bot account (lurker bots and known service bots)."""
        first = self.n_channels + self.n_viewers
        return np.sort(self.accounts.ids(np.arange(first, self.operator_index)))

    def bot_truth(self) -> dict[str, list[dict[str, str]]]:
        """Ground truth of the bot accounts: lurker bots and known service bots, id and login."""
        first = self.n_channels + self.n_viewers

        def rows(index: I64) -> list[dict[str, str]]:
            ids = self.accounts.ids(index).tolist()
            logins = self.accounts.logins(index)
            return [
                {"user_id": str(i), "user_login": login}
                for i, login in sorted(zip(ids, logins, strict=True))
            ]

        return {
            "lurker_bots": rows(np.arange(first, self._service_first)),
            "service_bots": rows(np.arange(self._service_first, self.operator_index)),
        }

    def rename(self, user_id: str, login: str) -> None:
        """Rename an account (a Twitch name change): same id, new login from the next tick."""
        index = int(self.accounts.index_of_strings([user_id])[0])
        if index < 0:
            raise ValueError(f"no simulated account with id {user_id!r}")
        with self._lock:
            self.accounts.rename(index, login)
            self._ticks.clear()  # rendered stream rows carry logins

    def ground_truth_summary(self, t: float) -> dict[str, Any]:
        """Aggregates at t: live channels per language, total viewers and chatters."""
        state = self.tick_state(t)
        ch = self.population.channels
        langs = np.bincount(ch.lang[state.live], minlength=len(LANG_CODES))
        bots = np.isin(state.chat_ids, self.bot_ids())
        humans = int(state.humans.sum())
        return {
            "tick": state.tick,
            "time": state.time,
            "live_channels": len(state.live),
            "live_by_language": {code: int(k) for code, k in zip(LANG_CODES, langs, strict=True)},
            "viewers": int(state.viewer_count.sum()),
            "chatters": len(state.chat_ids),
            "human_chatters": humans,
            "bot_chatters": int(bots.sum()),
        }
