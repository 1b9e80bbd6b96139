"""Accounts of the simulated Twitch: one id space, logins, display names, creation dates.

Account indices are laid out as [channels | viewers | lurker bots | service bots |
operator]. The public user id is a numeric string derived from the index by a fixed
bijection (an affine permutation spread over 9-digit numbers), so ids look like Twitch's,
channel and viewer ids interleave, and both directions are a few integer operations on
whole arrays.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_random import Purpose, mix, rng, uniform
from streamcensus.simulator.names import (
    LOGIN_RE,
    PATTERN_SHARES,
    SuffixTable,
    build_stems,
    display_variant,
    split_login,
)

I64 = npt.NDArray[np.int64]
ID_BASE = 100_000_000
ID_SPAN = 800_000_000
_CREATED_FROM = 1_306_886_400.0  # 2011-06-01, Twitch's launch
_CREATED_TO = 1_735_689_600.0  # 2025-01-01


class Accounts:
    """Every account: id <-> index, logins, display names, and login lookup."""

    def __init__(
        self,
        seed: int,
        n_channels: int,
        n_viewers: int,
        n_lurker_bots: int,
        named: list[tuple[str, str]],
    ) -> None:
        """`named` are accounts with fixed logins (service bots, then the operator), last."""
        self.seed = seed
        self.n_channels = n_channels
        self.n_viewers = n_viewers
        self.n_lurker_bots = n_lurker_bots
        self.first_named = n_channels + n_viewers + n_lurker_bots
        self.n = self.first_named + len(named)
        self._init_ids()
        self._init_logins(named)

    # -- ids --------------------------------------------------------------------------

    def _init_ids(self) -> None:
        n = self.n
        gen = rng(self.seed, Purpose.IDS)
        mult = int(gen.integers(n // 3 + 1, max(n // 3 + 2, n - 1)))
        while np.gcd(mult, n) != 1:
            mult += 1
        self._mult = mult % n if n > 1 else 1
        self._add = int(gen.integers(0, n))
        self._inv = pow(self._mult, -1, n) if n > 1 else 0
        self._stride = max(1, ID_SPAN // n)

    def _jitter(self, p: I64) -> I64:
        return (p * 2_654_435_761) % self._stride

    def ids(self, index: npt.ArrayLike) -> I64:
        """Numeric user ids of account indices."""
        idx = np.asarray(index, dtype=np.int64)
        p = (idx * self._mult + self._add) % self.n
        return ID_BASE + p * self._stride + self._jitter(p)

    def index_of(self, ids: npt.ArrayLike) -> I64:
        """Account indices of numeric ids; -1 where an id is not an account."""
        q = np.asarray(ids, dtype=np.int64) - ID_BASE
        p = np.floor_divide(q, self._stride)
        valid = (q >= 0) & (p < self.n)
        p = np.where(valid, p, 0)
        valid &= q % self._stride == self._jitter(p)
        idx = ((p - self._add) % self.n * self._inv) % self.n
        return np.where(valid, idx, -1)

    def index_of_strings(self, ids: list[str]) -> I64:
        """Account indices of id strings; -1 for malformed or unknown ones."""
        values = [int(s) if s.isascii() and s.isdigit() and len(s) <= 12 else -1 for s in ids]
        arr = np.asarray(values, dtype=np.int64)
        out = self.index_of(np.where(arr >= 0, arr, 0))
        return np.where(arr >= 0, out, -1)

    # -- logins -----------------------------------------------------------------------

    def _init_logins(self, named: list[tuple[str, str]]) -> None:
        table = build_stems()
        self._stems = table.stems
        self._stem_display = table.display
        self._stem_index = table.index
        gen = rng(self.seed, Purpose.LOGINS)
        n = self.n
        shares = np.asarray(PATTERN_SHARES, dtype=np.float64)
        pattern = np.searchsorted(np.cumsum(shares / shares.sum()), gen.random(n), side="right")
        pattern = np.minimum(pattern, len(shares) - 1)
        starts = table.pattern_starts
        size = starts[pattern + 1] - starts[pattern]
        stem = (starts[pattern] + (gen.random(n) * size).astype(np.int64)).astype(np.int32)
        order = np.argsort(stem, kind="stable").astype(np.int32)
        sorted_stem = stem[order]
        counts = np.bincount(sorted_stem, minlength=len(self._stems)).astype(np.int64)
        offsets = np.zeros(len(self._stems) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        rank = np.empty(n, dtype=np.int32)
        rank[order] = (np.arange(n, dtype=np.int64) - offsets[sorted_stem]).astype(np.int32)
        self._stem = stem
        self._rank = rank
        self._members = order
        self._offsets = offsets
        self._suffix = SuffixTable(int(rank.max()) + 1 if n else 1)
        styles = np.array([0] * 8 + [1] * 5 + [2] * 6 + [3], dtype=np.uint8)
        self._style = styles[mix(self.seed, Purpose.LOGINS, np.arange(n)) % np.uint64(20)]
        self._override: dict[int, tuple[str, str]] = {}
        self._override_login: dict[str, int] = {}
        for offset, (login, shown) in enumerate(named):
            self._set_override(self.first_named + offset, login, shown)

    def _generated(self, index: int) -> str:
        return self._stems[int(self._stem[index])] + self._suffix.text[int(self._rank[index])]

    def _set_override(self, index: int, login: str, shown: str) -> None:
        login = login.lower()
        if not LOGIN_RE.match(login):
            raise ValueError(f"not a valid Twitch login: {login!r} (4-25 of a-z, 0-9, _)")
        if login in self._override_login:
            raise ValueError(f"login {login!r} is used twice")
        clash = self._lookup_generated(login)
        if clash >= 0 and clash not in self._override:
            renamed = self._generated(clash)
            renamed = (renamed[:24] if len(renamed) >= 25 else renamed) + "x"
            self._override[clash] = (renamed, renamed)
            self._override_login[renamed] = clash
        self._override[index] = (login, shown)
        self._override_login[login] = index

    def rename(self, index: int, login: str) -> None:
        """Give an account a new login (as a Twitch name change); its id stays."""
        login = login.lower()
        if not LOGIN_RE.match(login):
            raise ValueError(f"not a valid Twitch login: {login!r} (4-25 of a-z, 0-9, _)")
        if self.lookup_login(login) >= 0:
            raise ValueError(f"login {login!r} is taken")
        old = self._override.pop(index, None)
        if old is not None:
            del self._override_login[old[0]]
        self._override[index] = (login, login)
        self._override_login[login] = index

    def _lookup_generated(self, login: str) -> int:
        stem, digits = split_login(login)
        s = self._stem_index.get(stem)
        k = self._suffix.rank.get(digits)
        if s is None or k is None or k >= self._offsets[s + 1] - self._offsets[s]:
            return -1
        return int(self._members[self._offsets[s] + k])

    def logins(self, index: npt.ArrayLike) -> list[str]:
        """Logins of account indices (same order)."""
        idx = np.asarray(index, dtype=np.int64)
        stems, texts, ov = self._stems, self._suffix.text, self._override
        out = [
            stems[s] + texts[k]
            for s, k in zip(self._stem[idx].tolist(), self._rank[idx].tolist(), strict=True)
        ]
        if ov:
            for pos, i in enumerate(idx.tolist()):
                hit = ov.get(i)
                if hit is not None:
                    out[pos] = hit[0]
        return out

    def display_names(self, index: npt.ArrayLike) -> list[str]:
        """Display names: each login with the capitals its owner chose."""
        idx = np.asarray(index, dtype=np.int64)
        logins = self.logins(idx)
        shown = self._stem_display
        out = []
        for login, i, s, style in zip(
            logins, idx.tolist(), self._stem[idx].tolist(), self._style[idx].tolist(), strict=True
        ):
            hit = self._override.get(i)
            if hit is not None:
                out.append(hit[1])
            else:
                out.append(display_variant(login, shown[s], style))
        return out

    def lookup_login(self, login: str) -> int:
        """The account index of a login (case-insensitive), or -1."""
        login = login.strip().lower()
        hit = self._override_login.get(login)
        if hit is not None:
            return hit
        index = self._lookup_generated(login)
        return -1 if index < 0 or index in self._override else index

    def created_at(self, index: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Account creation times (epoch seconds); channel accounts tend to be older."""
        idx = np.asarray(index, dtype=np.int64)
        u = uniform(mix(self.seed, Purpose.ACCOUNTS, idx))
        u = np.where(idx < self.n_channels, u**1.6, u)
        return np.floor(_CREATED_FROM + u * (_CREATED_TO - _CREATED_FROM))
