"""The community map's layout: networkx's force-directed (Fruchterman–Reingold) placement.

Computed on the server so the page only draws points: deterministic for a seed, bounded
work (n ≤ a few hundred nodes, a fixed number of iterations), coordinates in [-1, 1].
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import networkx as nx
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def force_layout(
    n: int,
    edges: Sequence[tuple[int, int, float]],
    *,
    seed: int = 7,
    iterations: int = 200,
) -> FloatArray:
    """Positions (n × 2) for `n` nodes joined by weighted `edges` (i, j, weight > 0).

    Stronger overlaps pull harder. Layouts are cached: the same graph (a day's map asked
    again) is laid out once.
    """
    return _cached_layout(n, tuple(edges), seed, iterations).copy()


@functools.lru_cache(maxsize=64)
def _cached_layout(
    n: int, edges: tuple[tuple[int, int, float], ...], seed: int, iterations: int
) -> FloatArray:
    if n <= 1:
        return np.zeros((n, 2))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    top = max((w for _, _, w in edges), default=1.0) or 1.0
    graph.add_weighted_edges_from((i, j, 0.2 + 0.8 * w / top) for i, j, w in edges)
    placed = nx.spring_layout(graph, weight="weight", seed=seed, iterations=iterations)
    pos = np.array([placed[i] for i in range(n)], dtype=np.float64)
    pos -= pos.mean(axis=0)
    scale = float(np.abs(pos).max()) or 1.0
    result: FloatArray = np.round(pos / scale, 4)
    return result
