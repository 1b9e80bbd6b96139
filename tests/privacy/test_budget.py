"""The budget docs/privacy.md states is the one the code spends (`transform/budget.py`),
at the default settings, and OpenDP's map agrees with basic composition."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamcensus.config import Settings
from streamcensus.transform.budget import (
    Family,
    bounded_families,
    epsilon,
    loss,
    series_buckets,
    series_families,
    typical_series_figures,
)
from streamcensus.transform.context import RunParams
from streamcensus.transform.noise import calibrate, family_loss
from streamcensus.transform.protect import SERIES_MINUTES, unicity_sensitivity

DOC = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


def _number(text: str) -> float:
    return float(text.replace("*", "").replace(",", "").strip())


def _table(header: str) -> list[list[str]]:
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header}"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _check_table(header: str, params: RunParams, families: list[Family]) -> None:
    *rows, total = _table(header)
    assert [r[0] for r in rows] == [f.name for f in families]
    for row, family in zip(rows, families, strict=True):
        assert int(row[1]) == family.figures, family.name
        assert row[2] == family.rule
        assert _number(row[3]) == pytest.approx(loss(params, family)), family.name
    assert int(_number(total[1])) == sum(f.figures for f in families)
    assert _number(total[3]) == pytest.approx(epsilon(params, families))


def test_the_defaults_are_the_budget_s() -> None:
    settings = Settings()
    params = RunParams()
    assert (settings.privacy_epsilon, settings.privacy_contribution_bound) == (
        params.epsilon,
        params.contribution_bound,
    )
    assert (settings.k, settings.bot_min_chats) == (params.k, params.bot_min_chats)


def test_the_page_states_the_bounded_budget_the_code_spends() -> None:
    params = RunParams()
    _check_table("family (bounded)", params, bounded_families(params))
    text = " ".join(DOC.read_text().split())
    week = epsilon(params, bounded_families(params), all_days=True)
    series = epsilon(params, series_families(params))
    assert f"all publications is {week:g} in the worst case, {week + series:g} with" in text


def test_the_page_states_the_series_budget_the_code_spends() -> None:
    params = RunParams()
    families = series_families(params)
    _check_table("family (series, per hour)", params, families)
    # hourly buckets: a person moves a chat's day by at most 24, in each of her C chats
    assert SERIES_MINUTES == 60 and series_buckets() == 24
    worst = {f.name: f.figures for f in families}
    assert worst["a chat's people by hour"] == 24 * params.contribution_bound == 144
    assert worst["community people by hour"] == 24
    text = " ".join(DOC.read_text().split())
    day = epsilon(params, bounded_families(params)) + epsilon(params, families)
    assert f"large but finite: {epsilon(params, families):g} a day, {day:g} with" in text
    typical = typical_series_figures(2)
    assert f"moves them by {typical} (two hours" in text
    assert f"ε = {family_loss(calibrate(params.epsilon), typical):g}, and" in text


def test_sampled_unicity_is_budgeted_at_its_sensitivity() -> None:
    params = RunParams()
    sampled = [f for f in bounded_families(params) if f.kinds in ("exposure_sample",)]
    assert [f.moved for f in sampled] == [unicity_sensitivity(params)] == [1000]
    # noise calibrated for moving each figure by 1,000, moved by 16 × 1,000: 16 × ε
    assert loss(params, sampled[0]) == pytest.approx(16 * params.epsilon)
    assert calibrate(params.epsilon, 1000) == pytest.approx(1000 * calibrate(params.epsilon))


def test_composition_is_the_sum_under_opendp_s_map() -> None:
    scale = calibrate(0.5)
    assert family_loss(scale, 1) == pytest.approx(0.5)
    assert family_loss(scale, 3) == pytest.approx(1.5)
    assert family_loss(scale, 0) == 0.0
    # the budget grows with the bound (the pairs quadratically): the page's comparison
    costs = {
        c: epsilon(
            RunParams(contribution_bound=c), bounded_families(RunParams(contribution_bound=c))
        )
        for c in (3, 6, 10)
    }
    assert costs == {3: 51.0, 6: 76.5, 10: 124.5}
    text = " ".join(DOC.read_text().split())
    assert "a worst-case budget of 124.5 instead of 76.5" in text
    assert "C = 3's (51)" in text
