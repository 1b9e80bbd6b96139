"""`load --engine`: bad input and a Spark that cannot start, without starting Spark."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from load.lakebuilder import DAY, LakeBuilder, Stream, at, grid


def _lake(root: Path) -> None:
    builder = LakeBuilder(root / "lake")
    start = at(DAY, "20:00")
    for moment in grid(start, at(DAY, "20:30")):
        builder.snapshot(moment, [Stream("8001", 500, start)], {"8001": list(range(30))})


def _load(root: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamcensus", "--data-dir", str(root), "load", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_spark_without_java_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    _lake(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path / "no-java-here")
    done = _load(tmp_path, "--day", DAY.isoformat(), "--engine", "spark", env=env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Java 17" in lines[0] and "JAVA_HOME" in lines[0]
    assert "Traceback" not in done.stderr
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from loaded_days").fetchall() == [(0,)]
        assert con.execute("select count(*) from raw_streams").fetchall() == [(0,)]
    finally:
        con.close()
    assert not list((tmp_path / "lake" / "curated").rglob("*.parquet"))


def test_an_unknown_engine_is_refused(tmp_path: Path) -> None:
    done = _load(tmp_path, "--all", "--engine", "bigquery", env=dict(os.environ))
    assert done.returncode == 2
    assert "'bigquery' is not one of 'duckdb', 'spark'" in done.stderr


def test_the_engine_setting_is_checked(tmp_path: Path) -> None:
    env = dict(os.environ, STREAMCENSUS_ENGINE="bigquery")
    done = _load(tmp_path, "--all", env=env)
    assert done.returncode != 0
    assert "engine" in done.stderr and "Traceback" not in done.stderr
