"""The static population of the simulated Twitch: channels, viewers, bots, moderators.

Everything here is drawn once per seed; what changes with time (broadcasts, viewing
sessions, who is in which chat) is derived from it in `model_schedule`, `model_sessions`
and `world`. Channels and viewers are stored in language blocks (fr first), channels
within a block by popularity rank, so "the live channels of a language" and "popularity
weights within a language" are contiguous slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_communities import (
    SQUAD_MAX,
    Communities,
    build_communities,
    pick_in_blocks,
)
from streamcensus.simulator.model_random import Purpose, rng
from streamcensus.simulator.model_scales import ScaleProfile
from streamcensus.simulator.names import JUST_CHATTING, LANGUAGES, SERVICE_BOTS

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
MOD_SLOTS = 5
LANG_CODES: tuple[str, ...] = tuple(code for code, _, _ in LANGUAGES)
LANG_UTC_OFFSET: dict[str, int] = {code: off for code, off, _ in LANGUAGES}


# Mixture of local start hours of channels: (share, mean hour, sd hours).
_START_MIX: tuple[tuple[float, float, float], ...] = (
    (0.62, 19.8, 1.4),
    (0.11, 14.5, 1.6),
    (0.06, 10.0, 1.2),
    (0.11, 22.6, 0.9),
    (0.05, 2.5, 1.8),  # night owls, live into the morning
    (0.05, 6.2, 1.2),  # early risers
)
SAME_LANGUAGE = 0.88  # favourites in the viewer's own language
SECOND_HOME_SHARE = 0.45  # viewers with a second home community
P_HOME = 0.7  # a favourite slot drawn in the home community
P_SECOND = 0.18  # ... in the second home community (the home one when there is none)
P_FRIEND = 0.25  # a slot taken by a friend (squad member) of the previous favourite
COSTREAM_SHARE = 0.75  # members of a friend group who share its weekdays and start hour


@dataclass(slots=True)
class Channels:
    """Per-channel attributes, indexed by channel index (= account index)."""

    n: int
    lang: npt.NDArray[np.uint8]
    lang_start: I64  # channels of language i are [lang_start[i], lang_start[i+1])
    weight: F64  # popularity; sums to 1 within each language
    cum_weight: F64  # 0, then cumulative weight: language i spans [i, i+1)
    size: F64  # 0 (smallest) .. 1 (top of its language), log-rank scale
    scheduled: npt.NDArray[np.bool_]  # (n, 7) weekday (Monday=0) streaming plan
    start_hour: npt.NDArray[np.float32]  # (n, 7) scheduled start, hours into the UTC day
    hours: npt.NDArray[np.float32]  # mean broadcast length
    skip: npt.NDArray[np.float32]  # chance to skip a scheduled day
    game_main: npt.NDArray[np.int16]
    game_alt: npt.NDArray[np.int16]
    mature: npt.NDArray[np.bool_]
    factor: npt.NDArray[np.float32]  # viewer_count / human chatters
    service_bots: npt.NDArray[np.uint16]  # bitmask over SERVICE_BOTS
    partner: npt.NDArray[np.uint8]  # 0 none, 1 affiliate, 2 partner
    communities: Communities  # true communities and friend groups (squads)


@dataclass(slots=True)
class Viewers:
    """Per-viewer attributes, indexed by viewer number (account index - channels)."""

    n: int
    lang: npt.NDArray[np.uint8]
    lang_start: I64
    activity: npt.NDArray[np.float32]  # expected viewing sessions per day
    lurker: npt.NDArray[np.bool_]  # leaves chats open for hours
    home: npt.NDArray[np.int16]  # the community most favourites come from
    favourites: npt.NDArray[np.int32]  # (n, K) channel indices; -1 = empty slot
    affinity: npt.NDArray[np.uint8]  # (n, K) how much the viewer likes each favourite
    explore: npt.NDArray[np.float32]  # chance a session goes to a channel outside favourites


@dataclass(slots=True)
class Population:
    """Channels, viewers, bots and moderation of one seed and scale."""

    profile: ScaleProfile
    channels: Channels
    viewers: Viewers
    bot_coverage: F64  # per lurker bot: share of live channels it sits in
    moderators: npt.NDArray[np.int32]  # (channels, MOD_SLOTS) account indices; -1 empty
    consent: npt.NDArray[np.bool_]  # channels whose broadcaster consents to chat-list reading


def _blocks(counts: list[int]) -> I64:
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return starts


def _split(total: int, shares: list[float]) -> list[int]:
    raw = np.asarray(shares, dtype=np.float64)
    counts = np.floor(raw / raw.sum() * total).astype(np.int64)
    counts[0] += total - int(counts.sum())
    return [int(c) for c in counts]


def build_channels(seed: int, prof: ScaleProfile) -> Channels:
    """Channels with popularity, weekly schedules, games and chat-bot choices."""
    counts = [prof.channels.get(code, 0) for code in LANG_CODES]
    n = sum(counts)
    starts = _blocks(counts)
    gen = rng(seed, Purpose.CHANNELS)
    lang = np.repeat(np.arange(len(counts), dtype=np.uint8), counts)
    rank = np.arange(n, dtype=np.int64) - starts[lang] + 1
    block_n = np.asarray(counts, dtype=np.float64)[lang]
    weight = rank.astype(np.float64) ** -prof.zipf_alpha
    totals = np.bincount(lang, weights=weight, minlength=len(counts))
    weight = weight / totals[lang]
    cum = np.zeros(n + 1, dtype=np.float64)
    np.cumsum(weight, out=cum[1:])
    size = 1.0 - np.log(rank) / np.log(np.maximum(block_n, 2.0))

    comms = build_communities(seed, LANG_CODES, lang, starts, rank, weight)
    squad = comms.squad
    n_squads = int(squad.max()) + 1 if n else 0
    sgen = rng(seed, Purpose.COMMUNITIES, 1)  # squad-level draws: shared plans of friends
    costream = (comms.squad_size > 1) & (sgen.random(n) < COSTREAM_SHARE)

    days = np.rint(prof.streams_per_week - 0.6 + 2.4 * size + gen.normal(0.0, 1.0, n))
    days = np.clip(days, 1, 7).astype(np.int64)
    day_key = gen.random((n, 7))
    squad_days = sgen.random((n_squads, 7))
    day_key[costream] = 0.85 * squad_days[squad[costream]] + 0.15 * day_key[costream]
    order = np.argsort(np.argsort(day_key, axis=1), axis=1)
    scheduled = order < days[:, None]

    shares = np.asarray([m[0] for m in _START_MIX])
    mix_cum = np.cumsum(shares / shares.sum())
    comp = np.minimum(np.searchsorted(mix_cum, gen.random(n), side="right"), len(shares) - 1)
    z = gen.normal(0.0, 1.0, n)
    squad_comp = np.searchsorted(mix_cum, sgen.random(n_squads), side="right")
    squad_comp = np.minimum(squad_comp, len(shares) - 1)
    squad_z = sgen.normal(0.0, 1.0, n_squads)
    comp = np.where(costream, squad_comp[squad], comp)
    z = np.where(costream, squad_z[squad] + 0.25 * z, z)
    means = np.asarray([m[1] for m in _START_MIX])[comp]
    sds = np.asarray([m[2] for m in _START_MIX])[comp]
    local = means + sds * z
    utc_off = np.asarray([LANG_UTC_OFFSET[c] for c in LANG_CODES], dtype=np.float64)[lang]
    per_day = local[:, None] + gen.normal(0.0, 0.35, (n, 7)) - utc_off[:, None]
    start_hour = np.mod(per_day, 24.0).astype(np.float32)

    hours = (2.7 + 1.6 * size**1.5).astype(np.float32)
    skip = (0.16 - 0.12 * size).astype(np.float32)
    game_main, game_alt = _games(gen, comms)

    factor = np.clip(1.3 + 1.5 * size**1.2 + gen.uniform(-0.1, 0.3, n), 1.3, 3.0)
    bots = np.zeros(n, dtype=np.uint16)
    for bit, (_, _, share) in enumerate(SERVICE_BOTS):
        uses = gen.random(n) < share * (0.6 + 0.8 * size)
        bots |= np.where(uses, np.uint16(1 << bit), np.uint16(0))
    quantile = rank / block_n
    partner = np.where(quantile <= 0.03, 2, np.where(quantile <= 0.55, 1, 0)).astype(np.uint8)
    return Channels(
        n=n,
        lang=lang,
        lang_start=starts,
        weight=weight,
        cum_weight=cum,
        size=size,
        scheduled=scheduled,
        start_hour=start_hour,
        hours=hours,
        skip=skip,
        game_main=game_main,
        game_alt=game_alt,
        mature=gen.random(n) < 0.1,
        factor=factor.astype(np.float32),
        service_bots=bots,
        partner=partner,
        communities=comms,
    )


def _games(
    gen: np.random.Generator, comms: Communities
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """Main game from the primary community's games; the alternative from the secondary
    community's (or the primary's), Just Chatting when it would repeat the main game."""
    n = comms.primary.shape[0]
    u_main, u_alt = gen.random((2, n))
    main = np.zeros(n, dtype=np.int16)
    alt = np.zeros(n, dtype=np.int16)
    source = np.where(comms.secondary >= 0, comms.secondary, comms.primary)
    for k in range(comms.n):
        games, cum = comms.games(k)
        pick = comms.primary == k
        main[pick] = games[np.minimum(np.searchsorted(cum, u_main[pick]), len(games) - 1)]
        pick = source == k
        alt[pick] = games[np.minimum(np.searchsorted(cum, u_alt[pick]), len(games) - 1)]
    chatting = np.int16(JUST_CHATTING)
    alt = np.where(alt == main, np.where(main == chatting, alt, chatting), alt)
    return main, alt.astype(np.int16)


def _favourites(
    gen: np.random.Generator,
    lang: npt.NDArray[np.uint8],
    home: npt.NDArray[np.int16],
    second: npt.NDArray[np.int16],
    nfav: I64,
    channels: Channels,
    lang_cum: F64,
    slots: int,
) -> npt.NDArray[np.int32]:
    """Favourite channels: most in the viewer's home community (or its second one) by
    popularity, some across the language (or another), and friends of a favourite (its
    squad), deduplicated."""
    comms = channels.communities
    n = len(lang)
    rows, slot = np.nonzero(np.arange(slots)[None, :] < nfav[:, None])  # the slots in use
    u_kind, u_pick, u_friend = gen.random((3, rows.shape[0]))
    own_home = home[rows].astype(np.int64)
    own_second = second[rows].astype(np.int64)
    comm = np.where(
        u_kind < P_HOME,
        own_home,
        np.where(u_kind < P_HOME + P_SECOND, np.where(own_second >= 0, own_second, own_home), -1),
    )
    picked = np.full(rows.shape[0], -1, dtype=np.int64)
    inside = np.flatnonzero(comm >= 0)
    pos = pick_in_blocks(comms.member_cum, comms.member_start, comm[inside], u_pick[inside])
    picked[inside] = np.where(pos >= 0, comms.member_order[np.maximum(pos, 0)], -1)
    wide = np.flatnonzero(picked < 0)  # across the language (or another one)
    u_wide = (u_kind[wide] - P_HOME - P_SECOND) / (1.0 - P_HOME - P_SECOND)
    u_wide = np.clip(u_wide, 0.0, 1.0 - 1e-12)
    other = np.searchsorted(lang_cum, (u_wide - SAME_LANGUAGE) / (1.0 - SAME_LANGUAGE), "right")
    target = np.where(
        u_wide < SAME_LANGUAGE,
        lang[rows[wide]].astype(np.int64),
        np.minimum(other, len(LANG_CODES) - 1),
    )
    picked[wide] = pick_in_blocks(channels.cum_weight, channels.lang_start, target, u_pick[wide])
    for s in range(1, slots):  # a friend of the previous favourite (same viewer, slot - 1)
        at = np.flatnonzero((slot == s) & (u_friend < P_FRIEND))
        prev = picked[at - 1]
        size = comms.squad_size[np.maximum(prev, 0)].astype(np.int64)
        ok = (prev >= 0) & (size > 1)
        at, prev, size = at[ok], prev[ok], size[ok]
        mates = comms.squad_members[prev]
        k = np.floor(u_friend[at] / P_FRIEND * (size - 1)).astype(np.int64)
        k = k + (k >= np.argmax(mates == prev[:, None], axis=1))
        picked[at] = mates[np.arange(at.shape[0]), np.minimum(k, SQUAD_MAX - 1)]
    fav = np.full((n, slots), -1, dtype=np.int64)
    fav[rows, slot] = picked
    fav.sort(axis=1)
    dup = np.zeros_like(fav, dtype=np.bool_)
    dup[:, 1:] = fav[:, 1:] == fav[:, :-1]
    fav[dup] = -1
    return fav.astype(np.int32)


def build_viewers(seed: int, prof: ScaleProfile, channels: Channels) -> Viewers:
    """Viewer accounts with activity levels, lurker flags, home communities and favourite
    channels."""
    shares = [prof.viewer_language_share.get(code, 0.0) for code in LANG_CODES]
    counts = _split(prof.viewers, shares)
    n = prof.viewers
    gen = rng(seed, Purpose.VIEWERS)
    lang = np.repeat(np.arange(len(counts), dtype=np.uint8), counts)
    lurker = gen.random(n) < 0.12
    activity = gen.lognormal(0.0, 1.1, n) * np.where(lurker, 1.3, 1.0)
    activity *= prof.sessions_per_day / activity.mean()
    slots = prof.favourites
    nfav = np.minimum(1 + gen.poisson(2.5, n) + np.where(lurker, 2, 0), slots)
    explore = gen.uniform(0.03, 0.20, n).astype(np.float32)
    lang_cum = np.cumsum(np.asarray(shares) / sum(shares))
    comms = channels.communities
    hgen = rng(seed, Purpose.COMMUNITIES, 2)
    u_home, u_second, u_has = hgen.random((3, n))
    home = pick_in_blocks(comms.audience_cum, comms.lang_start, lang, u_home).astype(np.int16)
    drawn = pick_in_blocks(comms.audience_cum, comms.lang_start, lang, u_second)
    second = np.where((u_has < SECOND_HOME_SHARE) & (drawn != home), drawn, -1).astype(np.int16)
    fav = np.empty((n, slots), dtype=np.int32)
    fgen = rng(seed, Purpose.FAVOURITES)
    chunk = 250_000
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        fav[lo:hi] = _favourites(
            fgen, lang[lo:hi], home[lo:hi], second[lo:hi], nfav[lo:hi], channels, lang_cum, slots
        )
    affinity = fgen.integers(1, 256, (n, slots), dtype=np.uint8)
    return Viewers(
        n=n,
        lang=lang,
        lang_start=_blocks(counts),
        activity=activity.astype(np.float32),
        lurker=lurker,
        home=home,
        favourites=fav,
        affinity=affinity,
        explore=explore,
    )


def build_population(seed: int, prof: ScaleProfile, consent_share: float) -> Population:
    """The whole static population of a seed and scale."""
    if not 0.0 <= consent_share <= 1.0:
        raise ValueError(f"consent_share must be within [0, 1], got {consent_share!r}")
    channels = build_channels(seed, prof)
    viewers = build_viewers(seed, prof, channels)
    gen = rng(seed, Purpose.MODERATORS)
    n_mods = np.clip(1 + np.rint(3.0 * channels.size + gen.random(channels.n)), 1, MOD_SLOTS)
    lo = viewers.lang_start[channels.lang]
    width = np.maximum(viewers.lang_start[channels.lang + 1] - lo, 1)
    picks = lo[:, None] + (gen.random((channels.n, MOD_SLOTS)) * width[:, None]).astype(np.int64)
    mods = (picks + channels.n).astype(np.int32)
    mods[np.arange(MOD_SLOTS)[None, :] >= n_mods[:, None]] = -1
    # consent: the same share in every popularity rank, a fixed draw per seed
    consent = rng(seed, Purpose.OPERATOR).random(channels.n) < consent_share
    coverage = rng(seed, Purpose.BOTS).uniform(0.25, 0.9, prof.lurker_bots)
    return Population(
        profile=prof,
        channels=channels,
        viewers=viewers,
        bot_coverage=coverage,
        moderators=mods,
        consent=consent,
    )
