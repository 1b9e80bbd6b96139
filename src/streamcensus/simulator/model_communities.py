"""Audience communities of the simulated Twitch: scenes, genres and streamer friendships.

Every channel belongs to one true community of its language (a genre or a sub-scene:
"esport FPS", "GTA RP", "IRL Paris", "Québec", ...) and a quarter of them to a secondary
one. A community says what its channels stream (its games), and inside it streamers form
small friend groups (*squads*) of similar popularity who co-stream (shared days and start
hours, `population`) and raid each other (`model_sessions`). Viewers draw most favourite
channels inside one or two home communities and a few across the language, so the
audience-overlap graph is modular without being separable. The true partition is served
at `/_sim/truth/communities`.

Members of community k are contiguous in `member_order`, with cumulative popularity
`member_cum` spanning [k, k + 1), so "a channel of community k by popularity" is one
`searchsorted`, as for languages in `population`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_random import Purpose, rng
from streamcensus.simulator.names import CATEGORIES

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

MIN_CHANNELS = 15  # a scene smaller than this in a language is left out at that scale
MIN_COMMUNITIES = 2  # per language with channels
SECONDARY_SHARE = 0.25  # channels that also belong to a second community
SECONDARY_WEIGHT = 0.5  # their popularity counts half in the second community
SQUAD_MAX = 6  # friend group size, at most
SQUAD_MEAN_EXTRA = 1.6  # friend group size = 1 + Poisson(this), clipped


@dataclass(frozen=True, slots=True)
class Scene:
    """A kind of community: what it is called, its scene and genre, what it streams."""

    label: str
    scene: str
    genre: str
    share: float  # of the language's channels
    games: tuple[tuple[str, float], ...]  # category name, weight


# The French community's scenes: genres, esport, IRL and regional scenes.
FR_SCENES: tuple[Scene, ...] = (
    Scene(
        "variety & reactions",
        "variety",
        "Just Chatting",
        0.11,
        (
            ("Just Chatting", 0.45),
            ("Games + Demos", 0.15),
            ("Among Us", 0.1),
            ("Elden Ring", 0.1),
            ("Grand Theft Auto V", 0.1),
            ("Minecraft", 0.1),
        ),
    ),
    Scene(
        "League of Legends",
        "esport",
        "MOBA",
        0.10,
        (("League of Legends", 0.75), ("Teamfight Tactics", 0.2), ("Dota 2", 0.05)),
    ),
    Scene(
        "esport FPS",
        "esport",
        "FPS",
        0.09,
        (("VALORANT", 0.5), ("Counter-Strike", 0.35), ("Overwatch 2", 0.15)),
    ),
    Scene(
        "IRL Paris",
        "IRL",
        "Just Chatting",
        0.08,
        (("Just Chatting", 0.8), ("Talk Shows & Podcasts", 0.1), ("Sports", 0.1)),
    ),
    Scene(
        "battle royale",
        "esport",
        "battle royale",
        0.08,
        (("Fortnite", 0.6), ("Call of Duty: Warzone", 0.25), ("Apex Legends", 0.15)),
    ),
    Scene(
        "GTA RP",
        "roleplay",
        "roleplay",
        0.07,
        (("Grand Theft Auto V", 0.85), ("Just Chatting", 0.15)),
    ),
    Scene(
        "Minecraft & sandbox",
        "variety",
        "sandbox",
        0.06,
        (("Minecraft", 0.75), ("Rust", 0.15), ("Games + Demos", 0.1)),
    ),
    Scene(
        "survival & horror",
        "variety",
        "survival",
        0.05,
        (("Dead by Daylight", 0.4), ("Rust", 0.3), ("Escape from Tarkov", 0.3)),
    ),
    Scene(
        "MMO & RPG",
        "variety",
        "RPG",
        0.05,
        (("World of Warcraft", 0.5), ("Elden Ring", 0.3), ("Hearthstone", 0.2)),
    ),
    Scene(
        "music & creative",
        "creative",
        "music & art",
        0.05,
        (("Music", 0.5), ("Art", 0.4), ("Science & Technology", 0.1)),
    ),
    Scene(
        "IRL Marseille & Sud",
        "regional",
        "Just Chatting",
        0.04,
        (
            ("Just Chatting", 0.6),
            ("Sports", 0.15),
            ("Grand Theft Auto V", 0.15),
            ("Fortnite", 0.1),
        ),
    ),
    Scene(
        "talk & podcasts",
        "IRL",
        "talk shows",
        0.04,
        (
            ("Talk Shows & Podcasts", 0.6),
            ("Just Chatting", 0.25),
            ("Science & Technology", 0.15),
        ),
    ),
    Scene(
        "football & Rocket League",
        "esport",
        "sports games",
        0.04,
        (("Rocket League", 0.5), ("Sports", 0.5)),
    ),
    Scene(
        "strategy & cards",
        "esport",
        "strategy",
        0.04,
        (("Teamfight Tactics", 0.35), ("Hearthstone", 0.35), ("Chess", 0.3)),
    ),
    Scene(
        "Québec",
        "regional",
        "variety",
        0.03,
        (
            ("Just Chatting", 0.4),
            ("Fortnite", 0.2),
            ("Grand Theft Auto V", 0.2),
            ("Minecraft", 0.2),
        ),
    ),
    Scene(
        "Belgique",
        "regional",
        "variety",
        0.02,
        (("Just Chatting", 0.5), ("League of Legends", 0.25), ("Minecraft", 0.25)),
    ),
    Scene(
        "retro & speedrun",
        "variety",
        "retro",
        0.02,
        (("Retro", 0.7), ("Games + Demos", 0.3)),
    ),
    Scene("slots", "gambling", "slots", 0.01, (("Slots", 1.0),)),
)

# The other languages' scenes (their communities are not the ones streamcensus studies).
OTHER_SCENES: tuple[Scene, ...] = (
    Scene(
        "Just Chatting & IRL",
        "IRL",
        "Just Chatting",
        0.22,
        (("Just Chatting", 0.85), ("Talk Shows & Podcasts", 0.15)),
    ),
    Scene(
        "esport FPS",
        "esport",
        "FPS",
        0.15,
        (("VALORANT", 0.45), ("Counter-Strike", 0.4), ("Overwatch 2", 0.15)),
    ),
    Scene(
        "variety",
        "variety",
        "variety",
        0.13,
        (("Just Chatting", 0.4), ("Elden Ring", 0.2), ("Games + Demos", 0.2), ("Among Us", 0.2)),
    ),
    Scene(
        "League of Legends",
        "esport",
        "MOBA",
        0.12,
        (("League of Legends", 0.8), ("Teamfight Tactics", 0.1), ("Dota 2", 0.1)),
    ),
    Scene(
        "battle royale",
        "esport",
        "battle royale",
        0.12,
        (("Fortnite", 0.6), ("Apex Legends", 0.25), ("Call of Duty: Warzone", 0.15)),
    ),
    Scene(
        "GTA RP",
        "roleplay",
        "roleplay",
        0.10,
        (("Grand Theft Auto V", 0.9), ("Just Chatting", 0.1)),
    ),
    Scene(
        "Minecraft & sandbox",
        "variety",
        "sandbox",
        0.08,
        (("Minecraft", 0.75), ("Rust", 0.25)),
    ),
    Scene(
        "MMO & RPG",
        "variety",
        "RPG",
        0.08,
        (("World of Warcraft", 0.6), ("Elden Ring", 0.2), ("Hearthstone", 0.2)),
    ),
)


def scenes_of(language: str) -> tuple[Scene, ...]:
    """The scene table a language's communities are drawn from."""
    return FR_SCENES if language == "fr" else OTHER_SCENES


def slug(text: str) -> str:
    """A community id fragment: lowercase ASCII words joined by dashes."""
    plain = text.replace("é", "e").replace("&", " ").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


_CATEGORY_INDEX = {c.name: i for i, c in enumerate(CATEGORIES)}


@dataclass(slots=True)
class Communities:
    """The true communities of a population and each channel's place in them."""

    n: int
    scene: list[Scene]  # per community
    lang: npt.NDArray[np.uint8]  # per community
    lang_start: I64  # communities of language i are [lang_start[i], lang_start[i + 1])
    audience: F64  # per community: popularity of its primary members; sums to 1 per language
    audience_cum: F64  # 0, then cumulative audience: language i spans [i, i + 1)
    primary: npt.NDArray[np.int16]  # per channel
    secondary: npt.NDArray[np.int16]  # per channel; -1 when none
    member_order: I32  # channels by community (primary members, then secondary ones)
    member_start: I64  # community k's members are member_order[start[k]:start[k + 1]]
    member_weight: F64  # popularity of each entry of member_order
    member_cum: F64  # 0, then cumulative weight within each community: k spans [k, k + 1)
    squad: I32  # per channel: its friend group
    squad_members: I32  # (channels, SQUAD_MAX): every member of the channel's squad, -1 pad
    squad_size: npt.NDArray[np.int8]  # per channel

    def ids(self, languages: tuple[str, ...]) -> list[str]:
        """Stable community ids, e.g. `fr-esport-fps`."""
        return [
            f"{languages[int(self.lang[k])]}-{slug(self.scene[k].label)}" for k in range(self.n)
        ]

    def games(self, k: int) -> tuple[npt.NDArray[np.int16], F64]:
        """Category indices of community k and their cumulative weights (ending at 1)."""
        names = [name for name, _ in self.scene[k].games]
        weights = np.asarray([w for _, w in self.scene[k].games], dtype=np.float64)
        index = np.asarray([_CATEGORY_INDEX[name] for name in names], dtype=np.int16)
        return index, np.cumsum(weights / weights.sum())


def _scenes_by_language(
    languages: tuple[str, ...], lang_start: I64
) -> tuple[list[Scene], list[int], list[float]]:
    """The scenes kept in each language at this scale, and their renormalised shares."""
    scenes: list[Scene] = []
    langs: list[int] = []
    shares: list[float] = []
    for i, code in enumerate(languages):
        count = int(lang_start[i + 1] - lang_start[i])
        if count == 0:
            continue
        table = sorted(scenes_of(code), key=lambda s: -s.share)
        kept = [s for s in table if s.share * count >= MIN_CHANNELS] or []
        if len(kept) < MIN_COMMUNITIES:
            kept = table[:MIN_COMMUNITIES]
        total = sum(s.share for s in kept)
        for s in kept:
            scenes.append(s)
            langs.append(i)
            shares.append(s.share / total)
    return scenes, langs, shares


def pick_in_blocks(cum: F64, starts: I64, block: npt.ArrayLike, u: npt.ArrayLike) -> I64:
    """Entries drawn in proportion to their weight within their block: `cum` is the
    cumulative weight with block b spanning [b, b + 1), `starts` the blocks' first entries;
    -1 where the block is empty."""
    b = np.asarray(block, dtype=np.int64)
    lo, hi = starts[b], starts[b + 1] - 1
    found = np.searchsorted(cum, b + np.asarray(u), side="right") - 1
    return np.where(hi >= lo, np.clip(found, lo, np.maximum(hi, lo)), -1)


def _squads(gen: np.random.Generator, primary: npt.NDArray[np.int16], rank: I64) -> I32:
    """Friend groups: consecutive runs of channels of one community, in an order close to
    popularity (streamers befriend peers of their size), of 1 to SQUAD_MAX channels."""
    n = primary.shape[0]
    noisy = np.log(rank.astype(np.float64)) + gen.normal(0.0, 0.6, n)
    order = np.lexsort((noisy, primary))
    sizes = np.clip(1 + gen.poisson(SQUAD_MEAN_EXTRA, n), 1, SQUAD_MAX)
    starts = np.cumsum(sizes) - sizes  # a new group every `size` positions
    begins = np.zeros(n, dtype=np.bool_)
    begins[starts[starts < n]] = True
    comm = primary[order]
    begins[1:] |= comm[1:] != comm[:-1]
    begins[0] = True
    # a group cut by a community boundary also restarts after SQUAD_MAX members
    group = np.cumsum(begins) - 1
    squad = np.empty(n, dtype=np.int32)
    squad[order] = group.astype(np.int32)
    return squad


def _squad_table(squad: I32) -> tuple[I32, npt.NDArray[np.int8]]:
    """Every channel's squad members (itself included), padded with -1, and squad sizes."""
    n = squad.shape[0]
    order = np.argsort(squad, kind="stable").astype(np.int32)
    sorted_squad = squad[order]
    first = np.searchsorted(sorted_squad, np.arange(int(squad.max()) + 2 if n else 1))
    size = np.diff(first)
    members = np.full((n, SQUAD_MAX), -1, dtype=np.int32)
    start = first[squad]
    for k in range(SQUAD_MAX):
        inside = k < size[squad]
        members[inside, k] = order[start[inside] + k]
    return members, size[squad].astype(np.int8)


def build_communities(
    seed: int,
    languages: tuple[str, ...],
    lang: npt.NDArray[np.uint8],
    lang_start: I64,
    rank: I64,
    weight: F64,
) -> Communities:
    """Draw every channel's communities and squads (channels in language blocks, by rank)."""
    gen = rng(seed, Purpose.COMMUNITIES)
    n = lang.shape[0]
    scenes, langs, shares = _scenes_by_language(languages, lang_start)
    n_comm = len(scenes)
    comm_lang = np.asarray(langs, dtype=np.uint8)
    comm_start = np.searchsorted(comm_lang, np.arange(len(languages) + 1)).astype(np.int64)
    # shares sum to 1 within a language, so language i's communities tile [i, i + 1)
    share_cum = np.zeros(n_comm + 1)
    np.cumsum(shares, out=share_cum[1:])
    primary = pick_in_blocks(share_cum, comm_start, lang, gen.random(n)).astype(np.int16)
    other = pick_in_blocks(share_cum, comm_start, lang, gen.random(n)).astype(np.int16)
    has_second = (gen.random(n) < SECONDARY_SHARE) & (other != primary)
    secondary = np.where(has_second, other, -1).astype(np.int16)

    entries = np.concatenate([np.arange(n), np.flatnonzero(secondary >= 0)]).astype(np.int32)
    entry_comm = np.concatenate([primary, secondary[secondary >= 0]]).astype(np.int64)
    entry_weight = weight[entries] * np.where(
        np.arange(entries.shape[0]) < n, 1.0, SECONDARY_WEIGHT
    )
    order = np.lexsort((entries, entry_comm))
    member_order = entries[order]
    member_weight = entry_weight[order]
    member_start = np.searchsorted(entry_comm[order], np.arange(n_comm + 1)).astype(np.int64)
    totals = np.bincount(entry_comm, weights=entry_weight, minlength=n_comm)
    scaled = member_weight / np.maximum(totals[entry_comm[order]], 1e-300)
    member_cum = np.zeros(member_order.shape[0] + 1)
    np.cumsum(scaled, out=member_cum[1:])
    raw = np.bincount(primary, weights=weight, minlength=n_comm).astype(np.float64)
    lang_total = np.bincount(comm_lang, weights=raw, minlength=len(languages))
    audience = raw / np.maximum(lang_total[comm_lang], 1e-300)
    audience_cum = np.zeros(n_comm + 1)
    np.cumsum(audience, out=audience_cum[1:])

    squad = _squads(gen, primary, rank)
    members, size = _squad_table(squad)
    return Communities(
        n=n_comm,
        scene=scenes,
        lang=comm_lang,
        lang_start=comm_start,
        audience=audience,
        audience_cum=audience_cum,
        primary=primary,
        secondary=secondary,
        member_order=member_order,
        member_start=member_start,
        member_weight=member_weight,
        member_cum=member_cum,
        squad=squad,
        squad_members=members,
        squad_size=size,
    )
