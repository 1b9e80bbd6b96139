"""The calibration report: the dataset's figures computed on the simulated population."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from streamcensus.cli import main
from streamcensus.simulator.calibrate import POLL_SECONDS, calibrate, report_lines
from streamcensus.simulator.calibrate_public import (
    PUBLIC_FIGURES,
    PollAggregates,
    finish,
    monthly_chatters,
    public_report_lines,
    record_viewers,
)
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


def test_public_figures_on_the_small_world(small_world: PopulationWorld) -> None:
    """Every public figure is computed, consistently with the ground truth it comes from."""
    day = dt.date(2026, 11, 19)
    aggregates = PollAggregates(small_world.n_channels, 0)
    calibrate(small_world, day, 1.0, aggregates)
    start = day_start(day).timestamp()
    month = monthly_chatters(small_world, start, days=30)
    week = monthly_chatters(small_world, start, days=7)
    assert month == sorted(month, reverse=True) and len(month) >= 5
    assert all(m >= w for m, w in zip(month, week, strict=True))  # a month holds its week
    record = record_viewers(small_world, start)
    result = finish(small_world, aggregates, 1.0, int(start // 86_400), month, record)
    assert 0 < result.top100_share <= result.top1000_share <= result.top10000_share == 1.0
    assert result.fr_viewer_hours_per_day == pytest.approx(24 * result.fr_average_viewers, 1e-3)
    assert result.fr_peak_viewers > result.fr_average_viewers > result.fr_min_viewers > 0
    # the record is an event evening, far above the day's largest stream
    assert result.record_viewers == record > 3 * max(result.fr_viewers_by_local_hour) / 10
    assert 18 <= result.fr_peak_local_hour <= 23 and 5 <= result.fr_trough_local_hour <= 9
    assert result.fr_min_live_channels >= 1
    assert 2.0 <= result.broadcast_hours_small < result.broadcast_hours_large <= 6.0
    lines = public_report_lines(result)
    assert {f.label for f in PUBLIC_FIGURES} <= {line[:48].strip() for line in lines}


def test_calibrate_command_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        main(["calibrate", "--scale", "small", "--days", "0.5", "--json"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, _ = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"simulated", "dataset", "public", "structure", "chat"}
    assert set(doc["public"]["figures"]) == {f.key for f in PUBLIC_FIGURES}
    simulated = doc["public"]["simulated"]
    assert all(key in simulated for key in doc["public"]["figures"])
    assert doc["structure"]["modularity_true"] > doc["structure"]["modularity_random"] + 0.15


def test_calibrate_command_refuses_a_bad_start(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["calibrate", "--start", "19/11/2026"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--start" in err[0]
