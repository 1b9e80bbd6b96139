"""The budget docs/privacy.md states is the one the code spends (`transform/budget.py`),
at the default settings, and OpenDP's map agrees with basic composition."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamcensus.config import Settings
from streamcensus.transform.budget import (
    bounded_families,
    epsilon,
    snapshot_families,
    typical_snapshot_figures,
)
from streamcensus.transform.context import RunParams
from streamcensus.transform.noise import calibrate, family_loss

DOC = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


def _number(text: str) -> float:
    return float(text.replace("*", "").replace(",", "").strip())


def _bounded_table() -> list[list[str]]:
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| family (bounded)"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


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
    families = bounded_families(params)
    *rows, total = _bounded_table()
    assert [r[0] for r in rows] == [f.name for f in families]
    scale = calibrate(params.epsilon)
    for row, family in zip(rows, families, strict=True):
        assert int(row[1]) == family.figures, family.name
        assert row[2] == family.rule
        assert _number(row[3]) == pytest.approx(family_loss(scale, family.figures)), family.name
    assert int(_number(total[1])) == sum(f.figures for f in families)
    assert _number(total[3]) == pytest.approx(epsilon(params, families))
    text = DOC.read_text()
    week = epsilon(params, families, all_days=True)
    assert f"all publications is {week:g} in the worst case" in text


def test_the_page_states_the_snapshot_series_cost() -> None:
    params = RunParams()
    typical = typical_snapshot_figures(24)
    scale = calibrate(params.epsilon)
    text = DOC.read_text()
    assert f"they add {typical} figures, ε = {family_loss(scale, typical):g}" in text
    worst = {f.name: f.figures for f in snapshot_families(params)}
    assert worst["a chat's people at a snapshot"] == 288 * 19
    assert worst["community people at a snapshot"] == 288


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
