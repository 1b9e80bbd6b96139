"""Deterministic randomness for the population model.

Two tools, both keyed by the world's seed:
- `rng(seed, purpose, *keys)`: a numpy Generator for one purpose and one counter (a day),
  so a day's draws never depend on which other days were computed before;
- `mix(seed, purpose, *arrays)`: a counter-based hash (splitmix64 finaliser) of integer
  arrays, for draws keyed by several indices at once (bot x channel x day) that must be
  computed for any subset without generating the rest.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
_OFFSET = 1 << 40  # keeps negative counters (days before 1970) non-negative

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


class Purpose:
    """Stream identifiers for the independent random draws of the model."""

    CHANNELS = 1
    VIEWERS = 2
    FAVOURITES = 3
    LOGINS = 4
    MODERATORS = 5
    BROADCASTS = 6
    SESSIONS = 7
    BOTS = 8
    ACCOUNTS = 9
    OPERATOR = 10
    TITLES = 11
    VIEWER_COUNT = 12
    STREAM_ID = 13
    IDS = 14
    COMMUNITIES = 15
    RAIDS = 16
    EVENTS = 17


def rng(seed: int, purpose: int, *keys: int) -> np.random.Generator:
    """A Generator for (seed, purpose, keys...), independent of every other combination."""
    entropy = [int(seed) % (1 << 63), purpose, *(int(k) + _OFFSET for k in keys)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def _finalise(z: U64) -> U64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def mix(seed: int, purpose: int, *parts: npt.ArrayLike) -> U64:
    """A 64-bit hash of (seed, purpose, parts...), element-wise over broadcast arrays."""
    key = np.array([(int(seed) * 1_000_003 + purpose) % (1 << 64)], dtype=np.uint64)
    h = _finalise(key + _GOLDEN)
    with np.errstate(over="ignore"):
        for part in parts:
            value = np.asarray(part).astype(np.int64).astype(np.uint64)
            h = _finalise(h ^ (value + _GOLDEN))
    return h


def uniform(h: U64) -> npt.NDArray[np.float64]:
    """Map 64-bit hashes to floats in [0, 1)."""
    return (h >> _S11).astype(np.float64) * (1.0 / (1 << 53))
