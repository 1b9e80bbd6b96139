"""The same lake through both engines gives the same serving tables, row for row.

Two demo days (one simulated hour from each midnight, `small` scale, collected over HTTP from
the simulator with every chat list readable) are loaded twice: once with the models on DuckDB,
once on Spark local. Every serving table must hold the same columns, the same types and the
same rows: counts exactly, the seeded exposure sample exactly, shares to the last digit.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

import duckdb
import httpx
import pytest

from privacy.expect import EXACT_EPSILON
from streamcensus import noisekey
from streamcensus.clock import SimClock
from streamcensus.collect.simulated import collect_simulated
from streamcensus.config import Settings
from streamcensus.load.loader import LoadReport, load_days
from streamcensus.serve.app import create_app
from streamcensus.simulator.permissions import Permissions
from streamcensus.timeutil import day_start
from streamcensus.transform.serving import SERVING_TABLES

DAYS = (dt.date(2026, 3, 2), dt.date(2026, 3, 3))
# a hang guard, not a speed check: Spark local on two shared cores runs ~25 models twice
pytestmark = pytest.mark.timeout(1800)
Tables = dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]


def serving_tables(settings: Settings) -> Tables:
    """Each serving table's columns (name, type) and rows, sorted."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        out: Tables = {}
        for name in SERVING_TABLES:
            columns = [
                (str(r[0]), str(r[1]))
                for r in con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
            ]
            rows = sorted(con.execute(f"select * from {name}").fetchall(), key=repr)
            out[name] = (columns, rows)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def loads(
    spark_master: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Settings, LoadReport]]:
    """The demo lake loaded by each engine (the Spark warehouse from a copy of the lake)."""
    root = tmp_path_factory.mktemp("engines")
    # ε large enough that exposure's sampled rows are published (at the default ε their
    # noise, calibrated for the sample a person can move, leaves nothing to compare)
    duck = Settings(data_dir=root / "duckdb", privacy_epsilon=EXACT_EPSILON)
    for day in DAYS:
        collect_simulated(
            duck,
            first_day=day,
            hours=1.0,
            scale="small",
            seed=42,
            permissions=Permissions(mode="all-moderated"),
        )
    spark = Settings(
        data_dir=root / "spark", spark_master=spark_master, privacy_epsilon=EXACT_EPSILON
    )
    # one installation's keys: the pseudonym keys and the noise key, made before the copy
    noisekey.load_or_create(duck.key_store_dir)
    shutil.copytree(duck.lake_dir, spark.lake_dir)
    shutil.copytree(duck.data_dir / "state", spark.data_dir / "state")
    clock = SimClock(day_start(DAYS[-1] + dt.timedelta(days=1)), speed=0.0)
    return {
        "duckdb": (duck, load_days(duck, None, clock=clock, engine="duckdb")),
        "spark": (spark, load_days(spark, None, clock=clock, engine="spark")),
    }


def test_both_engines_load_the_same_days(loads: dict[str, tuple[Settings, LoadReport]]) -> None:
    for _, report in loads.values():
        assert [d.day for d in report.days] == list(DAYS)
        assert all(d.presence_observations > 5_000 for d in report.days)
    duck, spark = loads["duckdb"][1], loads["spark"][1]
    assert [(m.name, m.rows) for m in duck.models] == [(m.name, m.rows) for m in spark.models]


def test_every_serving_table_is_equal_row_for_row(
    loads: dict[str, tuple[Settings, LoadReport]],
) -> None:
    duck = serving_tables(loads["duckdb"][0])
    spark = serving_tables(loads["spark"][0])
    for name in SERVING_TABLES:
        assert spark[name][0] == duck[name][0], f"{name}: columns differ"
        assert spark[name][1] == duck[name][1], f"{name}: rows differ"
    # the comparison has something to compare: every table the demo feeds has rows
    empty = {name for name in SERVING_TABLES if not duck[name][1]}
    assert not empty, f"no rows to compare in {sorted(empty)}"


def test_the_seeded_exposure_sample_is_the_same(
    loads: dict[str, tuple[Settings, LoadReport]],
) -> None:
    duck = serving_tables(loads["duckdb"][0])["exposure"][1]
    spark = serving_tables(loads["spark"][0])["exposure"][1]
    sampled = [r for r in duck if r[7] == "sample"]
    assert sampled, "the demo days have windows of at least k people"
    assert [r for r in spark if r[7] == "sample"] == sampled


async def _answers(settings: Settings) -> dict[str, Any]:
    app = create_app(settings, idle_seconds=0.2)
    transport = httpx.ASGITransport(app=app)
    answers: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for day in DAYS:
                for route in ENDPOINTS:
                    response = await client.get(f"/api/{route}", params={"day": day.isoformat()})
                    assert response.status_code == 200, (route, response.text)
                    answers[f"{route} {day}"] = response.json()
    finally:
        app.state.serve.pool.close()
    return answers


ENDPOINTS = ("overview", "schedules", "map", "habits", "exposure", "chat-lists", "followers")


async def test_the_dashboard_shows_the_same_numbers_over_either_engine(
    loads: dict[str, tuple[Settings, LoadReport]],
) -> None:
    duck = await _answers(loads["duckdb"][0])
    spark = await _answers(loads["spark"][0])
    assert spark == duck
    assert duck[f"overview {DAYS[0]}"]["top_channels"], "the overview has channels to compare"
