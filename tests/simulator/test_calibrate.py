"""The calibration report: the dataset's figures computed on the simulated population."""

from __future__ import annotations

import datetime as dt

import numpy as np

from streamcensus.simulator.calibrate import POLL_SECONDS, calibrate, report_lines
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import day_start


def test_calibration_figures_are_consistent_and_of_the_dataset_order(
    small_world: PopulationWorld,
) -> None:
    day = dt.date(2026, 11, 2)
    result = calibrate(small_world, day, 1.0)
    assert result.polls == 144
    assert result.interactions >= result.users > 1000
    # every interaction lasts a whole number of polls
    assert result.median_minutes_per_interaction % (POLL_SECONDS / 60) == 0
    # same order as the public dataset (~31 minutes per stay)
    assert 15 <= result.minutes_per_interaction <= 62
    assert 0 <= result.repeat_share < 1
    assert result.channels_per_user >= 1

    # at least everyone in a chat at the first poll is a user
    state = small_world.tick_state(day_start(day).timestamp())
    assert result.users >= int(state.humans.max())
    assert np.isfinite(result.interactions_per_user_43d)
    lines = report_lines(result)
    assert any(line.startswith("minutes per interaction (mean)") for line in lines)


def test_calibration_is_deterministic() -> None:
    world = PopulationWorld(scale="small", seed=3)
    first = calibrate(world, dt.date(2026, 11, 3), 0.5)
    again = calibrate(PopulationWorld(scale="small", seed=3), dt.date(2026, 11, 3), 0.5)
    assert first == again
