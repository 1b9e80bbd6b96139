"""The engines suite: the same day's models on DuckDB and on Spark local, side by side.

One ground-truth day (`bench/truthlake.py`) at the chosen scale and hours is written once;
each repeat loads it into a fresh warehouse with the models on DuckDB, then again on Spark
(local mode, `local[2]`: the machine's two cores), alternating so both see the same machine
state. The load step (reading, checking and sessionising the raw files) is the same code for
both engines; what differs is the models' time, reported apart. Before the timed repeats one
Spark run warms the JVM (Spark's start is reported on its own), and both engines' serving
tables are compared row for row.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from streamcensus.bench.measure import summary
from streamcensus.bench.truthlake import write_truth_day
from streamcensus.bench.warehouse_suite import day_settings, fresh_warehouse
from streamcensus.clock import SimClock
from streamcensus.config import Settings
from streamcensus.load.loader import load_days
from streamcensus.timeutil import day_start
from streamcensus.transform.engines import ENGINES, Engine
from streamcensus.transform.engines.spark import LOCAL_MASTER, spark_session
from streamcensus.transform.serving import SERVING_TABLES

Progress = Callable[[str], None]


def _load(settings: Settings, day: dt.date, engine: Engine) -> dict[str, float]:
    """Load `day` into a fresh warehouse on `engine`: wall, load and models seconds."""
    fresh_warehouse(settings)
    clock = SimClock(day_start(day + dt.timedelta(days=1)), speed=0.0)
    began = time.perf_counter()
    report = load_days(settings, [day], clock=clock, engine=engine)
    return {
        "wall_s": time.perf_counter() - began,
        "load_s": report.load_seconds,
        "transform_s": report.transform_seconds,
        "models_s": sum(m.seconds for m in report.models),
        "checks_s": report.check_seconds,
    }


def _tables(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return {
            name: sorted(con.execute(f"select * from {name}").fetchall(), key=repr)
            for name in SERVING_TABLES
        }
    finally:
        con.close()


def run_engines_suite(
    scale: str,
    repeat: int,
    *,
    root: Path,
    day: dt.date,
    hours: float,
    seed: int = 42,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Median seconds per engine over `repeat` alternating loads of one day, and ratios."""
    say = progress or (lambda message: None)
    settings = day_settings(root)
    say(f"engines: write the {scale} day from the simulator's ground truth ({hours:g} h)")
    truth = write_truth_day(
        settings.lake_dir, settings.data_dir / "state", day, scale=scale, seed=seed, hours=hours
    )
    say("engines: start Spark local")
    began = time.perf_counter()
    spark_session(LOCAL_MASTER)
    spark_start = time.perf_counter() - began
    say("engines: first load on each engine (Spark warm-up), serving tables compared")
    _load(settings, day, "duckdb")
    duck_tables = _tables(settings)
    _load(settings, day, "spark")
    equal = _tables(settings) == duck_tables
    runs: dict[str, list[dict[str, float]]] = {engine: [] for engine in ENGINES}
    for index in range(repeat):
        for engine in ENGINES:
            say(f"engines: {engine} load {index + 1}/{repeat}")
            runs[engine].append(_load(settings, day, engine))
    fresh_warehouse(settings)
    keys = ("wall_s", "load_s", "transform_s", "models_s", "checks_s")
    medians = {
        engine: {key: summary([r[key] for r in runs[engine]]) for key in keys} for engine in ENGINES
    }
    observations = truth.presence_observations
    duck_models = medians["duckdb"]["models_s"]["median"]
    spark_models = medians["spark"]["models_s"]["median"]
    return {
        "scale": scale,
        "hours": hours,
        "spark_master": LOCAL_MASTER,
        "stream_facts": truth.stream_facts,
        "presence_observations": observations,
        "spark_start_s": round(spark_start, 2),
        "serving_tables_equal": equal,
        "engines": medians,
        "models_ratio_spark_over_duckdb": round(spark_models / duck_models, 2)
        if duck_models
        else None,
        "wall_ratio_spark_over_duckdb": round(
            medians["spark"]["wall_s"]["median"] / medians["duckdb"]["wall_s"]["median"], 2
        ),
        "models_us_per_observation": {
            engine: round(medians[engine]["models_s"]["median"] / observations * 1e6, 3)
            if observations
            else None
            for engine in ENGINES
        },
    }
