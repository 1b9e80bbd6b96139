"""The `fr` profile against the public figures it is calibrated on (docs/calibration.md):
each simulated figure within a factor of about 2 of the public one, measured as
`streamcensus calibrate` measures it, on the session's `fr` world."""

from __future__ import annotations

import numpy as np
import pytest

from streamcensus.simulator.calibrate_public import (
    PUBLIC,
    PollAggregates,
    broadcast_hours,
    local_hours,
    monthly_chatters,
    record_viewers,
    top_shares,
)
from streamcensus.simulator.world import PopulationWorld

pytestmark = pytest.mark.slow

DAY0 = 1_795_046_400.0  # 2026-11-19T00:00:00Z, a Thursday
POLL = 1800  # every 30 minutes for the day's figures


def within(value: float, public: float, factor: float = 2.0) -> bool:
    return public / factor <= value <= public * factor


@pytest.fixture(scope="module")
def day(fr_world: PopulationWorld) -> PollAggregates:
    """A day of the `fr` world polled every 30 minutes."""
    agg = PollAggregates(fr_world.n_channels, 0)
    for k in range(86_400 // POLL):
        agg.add(fr_world, DAY0 + k * POLL, POLL)
    return agg


def test_concentration_of_hours_watched(day: PollAggregates) -> None:
    top100, top1000, top10000 = top_shares(day.viewer_hours)
    assert within(top100, float(PUBLIC["top100_share"]))  # public 20%
    assert within(top1000, float(PUBLIC["top1000_share"]))  # public 46%
    assert within(top10000, float(PUBLIC["top10000_share"]))  # public 76%
    assert top100 < top1000 < top10000


def test_french_hours_watched(day: PollAggregates, fr_world: PopulationWorld) -> None:
    french = fr_world.population.channels.lang == 0
    per_day = float(day.viewer_hours[french].sum())
    assert within(per_day, float(PUBLIC["fr_viewer_hours_per_day"]))  # public 3.3M
    assert within(per_day / 24, float(PUBLIC["fr_average_viewers"]))  # public 140k


def test_daily_rhythm_and_night_floor(day: PollAggregates) -> None:
    live, viewers = local_hours(day)
    assert 18 <= int(np.argmax(viewers)) <= 23  # evening peak, local time
    assert 5 <= int(np.argmin(viewers)) <= 9  # lowest in the morning
    assert day.min_live >= 50  # French channels live all night
    assert 0.03 <= viewers.min() / viewers.max() <= 0.3
    assert live.max() >= 1_900  # about 2,000 French channels live at the peak


def test_broadcast_length_grows_with_channel_size(fr_world: PopulationWorld) -> None:
    small, large = broadcast_hours(fr_world, int(DAY0 // 86_400), 3)
    assert within(small, float(PUBLIC["broadcast_hours_small"]), 1.3)  # public 2.7 h
    assert within(large, float(PUBLIC["broadcast_hours_large"]), 1.3)  # public 4.3 h
    assert large > small + 0.6


def test_record_of_the_year_is_an_event_evening(fr_world: PopulationWorld) -> None:
    first = fr_world.schedule.events.between(int(DAY0 // 86_400), 365)
    french = [e for e in first if e.language == 0]
    assert french, "no French event in a year"
    record = record_viewers(fr_world, french[0].start - 86_400, days=2)  # the first one
    assert within(record, float(PUBLIC["record_viewers"]))  # public ~1.0-1.16M


@pytest.fixture(scope="module")
def month(fr_world: PopulationWorld) -> list[int]:
    """30 days of chat lists read every 30 minutes, as TwitchOverlap did (a few minutes):
    distinct people per French channel, largest first."""
    return monthly_chatters(fr_world, DAY0)


def test_monthly_chatters_of_the_largest_channel(month: list[int]) -> None:
    public = PUBLIC["fr_monthly_chatters_top5"]
    assert isinstance(public, tuple)
    assert within(month[0], public[0])  # public 280k
    assert month[0] > month[4] > 0


def test_unique_monthly_chatters_of_the_top_channels(month: list[int]) -> None:
    public = PUBLIC["fr_monthly_chatters_top5"]
    assert isinstance(public, tuple)
    for mine, theirs in zip(month[:5], public, strict=True):
        assert within(mine, theirs), (month[:5], public)
