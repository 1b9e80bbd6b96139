"""The warehouse suite's side-by-side mode (`--baseline`): two versions load the same day.

Here the "baseline" is this very package, so the two loads must give equal tables and
equal sessions; a changed row must change the digest (the equality check can fail).
Timings are reported, never asserted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

import streamcensus
from streamcensus.bench.truthlake import write_truth_day
from streamcensus.bench.warehouse_suite import (
    BASELINE_FIGURES,
    day_settings,
    side_by_side,
    table_digests,
)

DAY = dt.date(2026, 11, 27)
PACKAGE_ROOT = Path(streamcensus.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    root = tmp_path_factory.mktemp("baseline")
    settings = day_settings(root)
    write_truth_day(
        settings.lake_dir,
        settings.state_dir,
        DAY,
        scale="small",
        hours=1,
        top_n=settings.top_n,
        known_bots=settings.all_known_bots,
    )
    return side_by_side(settings, DAY, 1, PACKAGE_ROOT), root


def test_the_same_version_gives_equal_tables(compared: tuple[dict[str, object], Path]) -> None:
    result, _ = compared
    assert result["tables_equal"] is True and result["tables_differing"] == []
    assert result["same_sessions"] is True
    assert isinstance(result["viewing_sessions"], int) and result["viewing_sessions"] > 0
    assert isinstance(result["presence_observations"], int)
    assert result["presence_observations"] >= result["viewing_sessions"]


def test_every_figure_has_both_sides_and_a_ratio(compared: tuple[dict[str, object], Path]) -> None:
    result, _ = compared
    figures = result["figures"]
    assert isinstance(figures, dict) and set(figures) == set(BASELINE_FIGURES)
    for name, figure in figures.items():
        before, after = figure["baseline"]["median"], figure["this"]["median"]
        if before:
            # the medians and the ratio are each rounded to 4 decimals (the ratio is taken
            # before rounding): they agree within what that rounding can move
            half = 0.5e-4
            slack = half * (1 / before + after / before**2) + half + 1e-12
            assert abs(figure["ratio"]["median"] - after / before) <= slack, name
    runs = result["runs_this"]
    assert isinstance(runs, list) and len(runs) == 1
    (run,) = runs
    assert run["presence_observations"] == result["presence_observations"]
    assert 0 < run["load_s"] + run["transform_s"] <= run["wall_s"]
    models = result["models_this"]
    assert isinstance(models, list)
    names = {m["name"] for m in models}
    assert {"viewing_sessions", "int_snapshot_channels", "audience_overlap"} <= names
    medians = [m["seconds"]["median"] for m in models]
    assert medians == sorted(medians, reverse=True)
    assert all(m["cpu_seconds"]["median"] >= 0 for m in models)


def test_a_changed_row_changes_the_digest(compared: tuple[dict[str, object], Path]) -> None:
    _, root = compared
    settings = day_settings(root)
    before = table_digests(settings)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute("update channel_day set airtime_hours = airtime_hours + 1")
    finally:
        con.close()
    after = table_digests(settings)
    assert {name for name in before if before[name] != after[name]} == {"channel_day"}
