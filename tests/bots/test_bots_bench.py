"""The bots benchmark suite on a small world: scores computed against the simulator's truth."""

from __future__ import annotations

import datetime as dt

import numpy as np

from streamcensus.bench.bots_suite import run_bots_suite, score


def test_score_counts_hits_and_misses() -> None:
    flagged = np.array([True, True, False, False, True])
    truth = np.array([True, False, True, False, True])
    assert score(flagged, truth) == {
        "flagged": 3,
        "true_positives": 2,
        "false_positives": 1,
        "false_negatives": 1,
        "precision": round(2 / 3, 4),
        "recall": round(2 / 3, 4),
    }


def test_rolling_window_keeps_lurker_bots_on_a_night() -> None:
    result = run_bots_suite(
        "small", first_day=dt.date(2026, 11, 27), history_days=1, night_hours=1.0
    )
    day, night = result["full_day"], result["night"]
    assert (result["lurker_bots"], result["service_bots"]) == (30, 10)
    # a whole day: every bot seen is flagged, no person is
    assert day["bots_seen"] == 40
    assert day["rolling_window"]["precision"] == day["rolling_window"]["recall"] == 1.0
    # the night: one night's peak misses lurker bots, the window keeps them
    assert night["lurker_bots_seen"] > 0
    assert night["rolling_window"]["recall"] == night["rolling_window"]["precision"] == 1.0
    assert night["lurker_recall_one_day"] < 1.0 == night["lurker_recall_rolling"]
    assert night["one_day"]["false_negatives"] > 0
