"""How much community structure the simulated audience has, measured on its overlap graph.

The graph is what the warehouse's `audience_overlap` builds from chat lists: channels of a
language, joined by the people seen in both chats over a window (7 days by default), pairs
with fewer than k shared people left out. On it we compute the modularity of the true
partition (`/_sim/truth/communities`) against partitions with the same community sizes
shuffled at random, and how much more two channels of one community share than two of
different communities. Modularity comes from networkx.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_schedule import TICKS_PER_DAY
from streamcensus.simulator.model_sessions import BLOCK_TICKS, MAX_TICKS
from streamcensus.simulator.population import LANG_CODES
from streamcensus.simulator.world import PopulationWorld

I64 = npt.NDArray[np.int64]
K_MIN = 10  # pairs sharing fewer people are suppressed, as published
RANDOM_PARTITIONS = 5


@dataclass(frozen=True)
class OverlapGraph:
    """Channel pairs of one language with the people they share over a window."""

    channels: I64  # channel indices with an audience in the window
    audience: I64  # distinct people per channel (same order)
    a: I64  # pair ends, as positions in `channels` (a < b)
    b: I64
    shared: I64


@dataclass(frozen=True)
class Structure:
    """Community structure figures of one overlap graph."""

    days: int
    channels: int  # in the graph (an edge of at least k shared people)
    edges: int
    communities: int  # true communities present in the graph
    modularity_true: float
    modularity_random: float  # mean over shuffled partitions of the same sizes
    within_jaccard: float  # mean Jaccard of two channels of one community (all pairs)
    cross_jaccard: float  # ... of two channels of different communities
    within_edge_weight_share: float  # shared people on edges inside a community / all


def presence_pairs(world: PopulationWorld, start_tick: int, days: int) -> I64:
    """Distinct (channel << 32 | viewer) pairs seen in chat over `days` from `start_tick`
    (every session covers at least one 5-minute tick, so every one is seen)."""
    hi_tick = start_tick + days * TICKS_PER_DAY
    parts: list[I64] = []
    for block in range((start_tick - MAX_TICKS) // BLOCK_TICKS, hi_tick // BLOCK_TICKS + 1):
        b = world.sessions.block(block)
        first = b.first.astype(np.int64) + b.first_tick
        end = b.end.astype(np.int64) + b.first_tick
        seen = (end > start_tick) & (first < hi_tick)
        keys = (b.channel[seen].astype(np.int64) << 32) | b.viewer[seen].astype(np.int64)
        parts.append(np.unique(keys))
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def overlap_graph(world: PopulationWorld, pairs: I64, language: str = "fr") -> OverlapGraph:
    """Shared people of every pair of the language's channels (no suppression yet)."""
    ch = world.population.channels
    lang = LANG_CODES.index(language)
    channel = pairs >> 32
    keep = ch.lang[channel] == lang
    channel, viewer = channel[keep], pairs[keep] & 0xFFFFFFFF
    nodes, pos = np.unique(channel, return_inverse=True)
    audience = np.bincount(pos, minlength=nodes.shape[0]).astype(np.int64)
    order = np.lexsort((pos, viewer))
    viewer, pos = viewer[order], pos[order]
    starts = np.flatnonzero(np.r_[True, viewer[1:] != viewer[:-1]])
    sizes = np.diff(np.r_[starts, viewer.shape[0]])
    group_start = np.repeat(starts, sizes)
    group_end = group_start + np.repeat(sizes, sizes)
    index = np.arange(viewer.shape[0])
    m = nodes.shape[0]
    keys: list[I64] = []
    for offset in range(1, int(sizes.max(initial=1))):
        ok = index + offset < group_end
        left = pos[index[ok]]
        right = pos[index[ok] + offset]
        keys.append(left.astype(np.int64) * m + right)
    flat = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    uniq, counts = np.unique(flat, return_counts=True)
    return OverlapGraph(nodes, audience, uniq // m, uniq % m, counts.astype(np.int64))


def structure(
    world: PopulationWorld, graph: OverlapGraph, days: int, seed: int = 0, k: int = K_MIN
) -> Structure:
    """Modularity of the true partition against random ones, and within/cross overlap."""
    label = world.population.channels.communities.primary[graph.channels].astype(np.int64)
    keep = graph.shared >= k
    a, b, w = graph.a[keep], graph.b[keep], graph.shared[keep]
    g = nx.Graph()
    g.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    nodes = np.asarray(sorted(g.nodes), dtype=np.int64)

    def modularity(labels: I64) -> float:
        groups: dict[int, set[int]] = {}
        for node, lab in zip(nodes.tolist(), labels.tolist(), strict=True):
            groups.setdefault(lab, set()).add(node)
        return float(nx.community.modularity(g, list(groups.values()), weight="weight"))

    truth = label[nodes] if nodes.shape[0] else np.zeros(0, dtype=np.int64)
    shuffler = np.random.default_rng(seed)
    randoms = [modularity(shuffler.permutation(truth)) for _ in range(RANDOM_PARTITIONS)]
    union = graph.audience[graph.a] + graph.audience[graph.b] - graph.shared
    jaccard = graph.shared / np.maximum(union, 1)
    same = label[graph.a] == label[graph.b]
    sizes = np.bincount(label)
    n = label.shape[0]
    within_pairs = float((sizes * (sizes - 1) // 2).sum())
    cross_pairs = n * (n - 1) / 2 - within_pairs
    same_kept = label[a] == label[b]
    return Structure(
        days=days,
        channels=int(nodes.shape[0]),
        edges=int(w.shape[0]),
        communities=int(np.unique(truth).shape[0]),
        modularity_true=round(modularity(truth), 3) if nodes.shape[0] else 0.0,
        modularity_random=round(float(np.mean(randoms)), 3) if nodes.shape[0] else 0.0,
        within_jaccard=round(float(jaccard[same].sum()) / max(within_pairs, 1.0), 4),
        cross_jaccard=round(float(jaccard[~same].sum()) / max(cross_pairs, 1.0), 4),
        within_edge_weight_share=round(float(w[same_kept].sum()) / max(float(w.sum()), 1.0), 3),
    )


def measure_structure(
    world: PopulationWorld, start: float, days: int = 7, language: str = "fr"
) -> Structure:
    """The structure of the language's overlap graph over `days` from `start`."""
    pairs = presence_pairs(world, int(start // 300), days)
    return structure(world, overlap_graph(world, pairs, language), days)


def structure_report_lines(result: Structure) -> list[str]:
    """The structure figures, one a line."""
    return [
        f"community structure: {result.days}-day overlap graph of French channels, pairs "
        f"sharing >= {K_MIN} people: {result.channels:,} channels, {result.edges:,} edges, "
        f"{result.communities} true communities",
        f"{'modularity of the true partition':<48}{result.modularity_true:>12}",
        f"{'... of random partitions of the same sizes':<48}{result.modularity_random:>12}",
        f"{'mean Jaccard, two channels of one community':<48}{result.within_jaccard:>12}",
        f"{'... of different communities':<48}{result.cross_jaccard:>12}",
        f"{'shared people on within-community edges':<48}{result.within_edge_weight_share:>12}",
    ]
