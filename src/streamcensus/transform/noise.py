"""The mechanism behind every published people count (P3): seeded discrete Laplace noise.

Each published figure that counts people (a channel's people on a day, the people two chats
share in a week, a bucket of the habits heatmap, ...) gets noise drawn from the discrete
Laplace (two-sided geometric) distribution, P(noise = x) ∝ exp(-|x| / scale). The scale is
calibrated with OpenDP: `make_laplace` over integers is its discrete Laplace measurement, and
`binary_search_param` finds the smallest scale whose privacy map gives at most ε for a
sensitivity of 1 (one person changes one figure by at most 1: every figure counts distinct
people, so a person counts at most once in it); figures a person moves by more (the rows of
a day's presence files) are calibrated for their own sensitivity. How many figures one
person is in is bounded where they are computed (`bounded_sessions`), and
`family_loss` gives what a family of figures spends on her (`transform/budget.py`).

The noise of a figure is a function of the figure's identity (`figure_id`: what it counts,
for which day, window, signal and channel) under a secret key (`noisekey.py`): two uniforms
from HMAC-SHA256(key, identity) are turned into two geometric variables by inverse
transform, and their difference is the discrete Laplace noise. So a figure reads the same in
every endpoint, in the export and after a reload, and asking again averages nothing out.
OpenDP's own samplers draw from the system's randomness and cannot be seeded, hence this
sampler; the distribution is the one OpenDP's map is computed for (the tests check it).

k is applied to the noisy value, and ratios are computed from noisy counts only
(`transform/protect.py`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import math
import secrets
from collections.abc import Iterable, Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import opendp.prelude as dp
import pyarrow as pa

DEFAULT_EPSILON = 0.5  # ε per published figure (the budget per day is in docs/privacy.md)
SENSITIVITY = 1  # a person changes a distinct count by at most 1
_U53 = float(2**53)

# OpenDP marks its measurements "contrib" (vetted, not yet proven in a paper of its own)
dp.enable_features("contrib")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
# Figure identities: Python strings (or their UTF-8 bytes), or an Arrow string array
# (millions of them, read from its buffers without making Python strings)
Ids: TypeAlias = Iterable[str | bytes] | pa.Array

# A key for runs that were given none (tests that build a RunContext by hand): random per
# process, so the noise is never predictable; `load` always passes the stored key.
_PROCESS_KEY = secrets.token_bytes(32)


def _measurement(scale: float) -> dp.Measurement:
    return dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale)


@functools.cache
def calibrate(epsilon: float, sensitivity: int = SENSITIVITY) -> float:
    """The discrete Laplace scale that spends `epsilon` on a figure of this sensitivity."""
    if not epsilon > 0:
        raise ValueError("epsilon must be positive")
    return float(dp.binary_search_param(_measurement, d_in=sensitivity, d_out=epsilon))


def privacy_loss(scale: float, sensitivity: int = SENSITIVITY) -> float:
    """ε spent by one figure with this noise scale (OpenDP's privacy map)."""
    return float(_measurement(scale).map(sensitivity))  # type: ignore[no-untyped-call]


def family_loss(scale: float, figures: int) -> float:
    """ε spent on one person by a family of figures she changes by at most 1 each, in at
    most `figures` of them: OpenDP's map of the family's noise at an L1 distance of
    `figures` (basic composition: the sum over the figures)."""
    return privacy_loss(scale, figures) if figures > 0 else 0.0


def contribution_salt(key: bytes | None) -> str:
    """The secret that orders a person's chats for the contribution bound: derived from the
    noise key, so the chats a person counts in are chosen the same way every run and cannot
    be predicted without the key (hex, used by the SQL as a prefix of an md5 draw)."""
    secret = _PROCESS_KEY if key is None else key
    return hmac.new(secret, b"contribution bound", hashlib.sha256).hexdigest()[:32]


def accuracy(scale: float, alpha: float) -> float:
    """The bound `a` with P(|noise| > a) <= alpha (OpenDP's accuracy of discrete Laplace)."""
    return float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha))


def _messages(ids: Ids) -> Iterable[str | bytes | memoryview]:
    """Each identity as something hashlib reads: an Arrow string array's values are
    views of its data buffer, in order."""
    if not isinstance(ids, pa.Array):
        return ids
    if ids.null_count:
        raise ValueError("a figure identity is null")
    values = ids.cast(pa.large_string())
    _, offsets, data = values.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[values.offset : values.offset + len(values) + 1]
    text = memoryview(data if data is not None else b"")
    bounds = ends.tolist()
    return (text[start:end] for start, end in itertools.pairwise(bounds))


def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 states after the key's inner and outer pads (RFC 2104's HMAC)."""
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
    return inner, outer


class FigureNoise:
    """Noise for figures by identity, under a key, at one ε per figure."""

    def __init__(
        self, key: bytes | None, epsilon: float = DEFAULT_EPSILON, sensitivity: int = SENSITIVITY
    ) -> None:
        self._key = _PROCESS_KEY if key is None else key
        self.epsilon = epsilon
        self.sensitivity = sensitivity
        self.scale = calibrate(epsilon, sensitivity)
        self._log_q = -1.0 / self.scale  # ln of the geometric ratio q = exp(-1/scale)
        self._pads = _hmac_pads(self._key)

    def __repr__(self) -> str:  # the key stays out of logs
        return f"FigureNoise(epsilon={self.epsilon}, scale={self.scale})"

    def with_sensitivity(self, sensitivity: int) -> FigureNoise:
        """The same key and ε per figure, for figures a person moves by up to `sensitivity`."""
        return FigureNoise(self._key, self.epsilon, sensitivity)

    def _uniforms(self, ids: Ids) -> tuple[FloatArray, FloatArray]:
        # HMAC-SHA256 of each identity (RFC 2104, from the key's two padded states, copied
        # per figure: several times faster than `hmac.digest` building its context anew),
        # the digests read as big-endian 64-bit words by numpy: 53 random bits each,
        # mapped onto (0, 1]
        inner, outer = self._pads
        parts: list[bytes] = []
        for figure in _messages(ids):
            state = inner.copy()
            state.update(figure.encode() if isinstance(figure, str) else figure)
            final = outer.copy()
            final.update(state.digest())
            parts.append(final.digest())
        words = np.frombuffer(b"".join(parts), dtype=">u8").reshape(-1, 4)
        first = ((words[:, 0] >> 11) + 1).astype(np.float64) / _U53
        second = ((words[:, 1] >> 11) + 1).astype(np.float64) / _U53
        return first, second

    def draw(self, ids: Ids) -> IntArray:
        """The noise of each figure: discrete Laplace, a difference of two geometrics (an
        identity given as bytes is its UTF-8 encoding: the same figure, the same noise)."""
        u1, u2 = self._uniforms(ids)
        if len(u1) == 0:
            return np.zeros(0, dtype=np.int64)
        g1 = np.floor(np.log(u1) / self._log_q)
        g2 = np.floor(np.log(u2) / self._log_q)
        return (g1 - g2).astype(np.int64)

    def noisy(self, ids: Ids, exact: npt.ArrayLike) -> IntArray:
        """Noisy counts of figures whose exact counts are all known, as an array (never
        below 0): the same values as `counts`, for callers that hold numpy columns."""
        values = np.asarray(exact, dtype=np.int64)
        noisy: IntArray = np.maximum(values + self.draw(ids), 0)
        return noisy

    def counts(self, ids: Sequence[str], exact: Sequence[int | None]) -> list[int | None]:
        """Noisy counts (never below 0; None stays None)."""
        noise = self.draw(ids)
        return [
            None if e is None else max(0, int(e) + int(n))
            for e, n in zip(exact, noise.tolist(), strict=True)
        ]

    def means(self, ids: Sequence[str], exact: Sequence[float | None]) -> list[float | None]:
        """Noisy averages of people over snapshots: a person is in a snapshot at most once,
        so the average moves by at most 1 (sensitivity 1, same scale as a count)."""
        noise = self.draw(ids)
        return [
            None if e is None else max(0.0, float(e) + float(n))
            for e, n in zip(exact, noise.tolist(), strict=True)
        ]


def figure_id(kind: str, *parts: object) -> str:
    """A figure's identity: what it counts and for what (day, window, signal, channel...)."""
    return "|".join([kind, *(str(p) for p in parts)])


def expected_abs(scale: float) -> float:
    """Mean absolute noise of the discrete Laplace of this scale."""
    q = math.exp(-1.0 / scale)
    return 2 * q / (1 - q * q)
