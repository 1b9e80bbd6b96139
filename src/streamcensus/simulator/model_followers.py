"""Follower totals of the simulated channels: what Get Channel Followers answers.

A channel's total is a deterministic function of the seed, the channel and the time, so
two readings at the same moment agree and a reading never goes down:

    total(t) = base · (1 + rate · days(t))

with `days(t)` the days since 2024-01-01 UTC, and each day's gain spread over the day by
an evening-peaked rhythm (people follow while watching). `base` grows with popularity:
a few dozen followers for the smallest channels, around a million for the top of a
language (the largest French channels have one to several million). `rate` is 0.03 % to
0.2 % a day (a top channel gains about a thousand followers a day). Accounts that are
not channels have no followers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_random import Purpose, rng

ANCHOR = 1_704_067_200.0  # 2024-01-01T00:00:00Z
DAY = 86_400.0
# Share of a day's new followers by UTC hour: quiet at night, most in the evening (Europe).
_HOURLY = np.asarray(
    [3, 2, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 7, 9, 10, 10, 9, 7, 5], dtype=np.float64
)
_CUMULATIVE = np.concatenate([[0.0], np.cumsum(_HOURLY / _HOURLY.sum())])


class Followers:
    """Per-channel follower bases and growth rates, drawn once per seed."""

    def __init__(self, seed: int, size: npt.NDArray[np.float64]) -> None:
        gen = rng(seed, Purpose.CHANNELS, 1)  # its own stream: other channel draws unchanged
        n = size.shape[0]
        log_base = 4.0 + 10.0 * size**1.3 + gen.normal(0.0, 0.6, n)
        self.base = np.asarray(np.maximum(1.0, np.round(np.exp(log_base))), dtype=np.float64)
        self.rate = np.asarray(0.0003 + 0.0017 * gen.random(n), dtype=np.float64)

    def total(self, channel: int, t: float) -> int:
        """The follower total of a channel index at time t (epoch seconds)."""
        elapsed = (t - ANCHOR) / DAY
        whole = np.floor(elapsed)
        hour = (elapsed - whole) * 24.0
        h = int(min(23, max(0, np.floor(hour))))
        within = _CUMULATIVE[h] + (_CUMULATIVE[h + 1] - _CUMULATIVE[h]) * (hour - h)
        days = whole + within
        value = float(self.base[channel]) * (1.0 + float(self.rate[channel]) * float(days))
        return max(0, int(value))
