"""A small force-directed layout (Fruchterman–Reingold) for the community map.

Computed on the server so the page only draws points: deterministic for a seed, bounded
work (n ≤ a few hundred nodes, a fixed number of iterations), coordinates in [-1, 1].
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

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

    Layouts are cached: the same graph (a day's map asked again) is laid out once.
    """
    return _cached_layout(n, tuple(edges), seed, iterations).copy()


@functools.lru_cache(maxsize=64)
def _cached_layout(
    n: int, edges: tuple[tuple[int, int, float], ...], seed: int, iterations: int
) -> FloatArray:
    if n == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pos = np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0, 0.05, (n, 2))
    if n == 1:
        return np.zeros((1, 2))
    weights = np.zeros((n, n))
    top = max((w for _, _, w in edges), default=1.0) or 1.0
    for i, j, w in edges:
        weights[i, j] = weights[j, i] = 0.2 + 0.8 * w / top
    ideal = np.sqrt(4.0 / n)
    temperature = 0.2
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=-1), 0.01)
        np.fill_diagonal(dist, 1.0)
        strength = ideal * ideal / dist**2 - weights * dist / ideal
        np.fill_diagonal(strength, 0.0)
        move = (strength[:, :, None] * delta).sum(axis=1) - 0.05 * pos
        length = np.maximum(np.linalg.norm(move, axis=1, keepdims=True), 1e-9)
        pos += move / length * np.minimum(length, temperature)
        temperature -= cooling
    pos -= pos.mean(axis=0)
    scale = float(np.abs(pos).max()) or 1.0
    result: FloatArray = np.round(pos / scale, 4)
    return result
