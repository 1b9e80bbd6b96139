"""Suite `warehouse`: load + transform of a whole day, against a bare DuckDB scan.

Two days of raw lake, each measured the same way:

- `demo`: a `small` day collected by the real collector (`demo.run_demo_collection`: the
  in-process simulator, 288 snapshots at the demo's clock speed-up), collected once;
- `fr` (with `--scale fr`): an `fr` day written from the simulator's ground truth
  (`bench/truthlake.py`), because collecting it over HTTP takes hours.

Each repeat loads the day into a fresh warehouse (`load.loader.load_days`, curated files
removed first) and then runs the bare query: the `viewing_sessions` model's own SQL (the
files of `stg_presence.sql` and `viewing_sessions.sql`, gaps-and-islands with one missed
snapshot allowed) on a fresh in-memory DuckDB over the same raw presence files, written as
zstd Parquet sorted by channel as the curated zone is. Its sessions must equal the load's.
Ratios (the load's sessionising, the whole load) to it are per repeat, side by side.
Bytes per presence observation come from the files on disk (raw chatters files, all raw
files, the curated viewing sessions) and from the warehouse's `pipeline_health`.

The small day is also written from the ground truth and loaded once: equal stream facts,
observations and viewing sessions show the ground-truth lake stands in for a collected one.

Before and after, side by side (`--baseline DIR`): DIR holds another version's package
(`DIR/streamcensus`, e.g. the `src/` of `git archive REV src`). Each repeat then loads the
same lake files twice, baseline first, each in a fresh child process (`LOAD_CHILD`: only
`load_days`, which every version has, is called, with the same settings, noise key and
clock), so the two versions are timed alike and alternately under the same machine load.
After the first repeat of each, every warehouse table is digested (rows sorted,
`load_seconds` left out) and the digests must be equal: the same results, faster or not.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from streamcensus.bench.measure import peak_rss_bytes, reset_peak_rss, summary, to_mb
from streamcensus.bench.truthlake import write_truth_day
from streamcensus.clock import SimClock
from streamcensus.collect.simulated import collect_simulated
from streamcensus.config import Settings
from streamcensus.lake.schema import CURATED, DATA_KINDS, KINDS, raw_day_dir
from streamcensus.load.loader import LoadReport, load_days, run_params
from streamcensus.simulator.permissions import Permissions
from streamcensus.timeutil import day_start
from streamcensus.transform.runner import MODELS_DIR, strip_comments
from streamcensus.warehouse import ddl
from streamcensus.warehouse.connection import connect, table_columns
from streamcensus.warehouse.curated import ROW_GROUP_ROWS, ZSTD_LEVEL

Progress = Callable[[str], None]
SLOWEST = 5  # models listed in the report
STREAM_FACT_MODELS = (
    "int_snapshot_channels",
    "community_timeseries",
    "community_timeseries_by_game",
    "stream_sessions",
    "stream_session_games",
)
# measurements, not results: left out of the tables' digests
MEASURED_COLUMNS = ("load_seconds",)
# One load in a fresh process: argv = data dir, day, result file (JSON; not stdout, where
# DuckDB may draw a progress bar); the version is whichever `streamcensus` package
# PYTHONPATH finds. Only the loader's public call is used, so older versions run it.
LOAD_CHILD = """
import datetime as dt, json, os, resource, sys, time
from streamcensus.clock import SimClock
from streamcensus.config import Settings
from streamcensus.load.loader import load_days
from streamcensus.timeutil import day_start
settings = Settings.model_validate({"data_dir": sys.argv[1], "chat_enabled": False})
day = dt.date.fromisoformat(sys.argv[2])
clock = SimClock(day_start(day + dt.timedelta(days=1)), speed=0.0)
wall, cpu = time.perf_counter(), time.process_time()
report = load_days(settings, [day], clock=clock)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
first = report.days[0]
# VmHWM: this process's own peak (ru_maxrss keeps the parent's from before the exec)
status = "/proc/self/status"
lines = open(status).read().splitlines() if os.path.exists(status) else []
peak = [line.split()[1] for line in lines if line.startswith("VmHWM:")]
open(sys.argv[3], "w").write(json.dumps({
    "wall_s": wall, "cpu_s": cpu,
    "peak_rss_mb": (
        int(peak[0]) if peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ) / 1024,
    "load_s": report.load_seconds, "transform_s": report.transform_seconds,
    "checks_s": report.check_seconds, "presence_pass_s": report.presence_pass_seconds,
    "snapshots": first.snapshots, "stream_facts": first.stream_facts,
    "presence_observations": first.presence_observations,
    "viewing_sessions": first.viewing_sessions, "curated_bytes": first.curated_bytes,
    "models": [
        {"name": m.name, "materialized": m.materialized, "rows": m.rows,
         "seconds": m.seconds, "cpu_seconds": m.cpu_seconds}
        for m in report.models
    ],
}))
"""
CHILD_TIMEOUT_S = 3600.0
HEALTH_COLUMNS = (
    "raw_bytes",
    "raw_chatters_bytes",
    "curated_bytes",
    "presence_observations",
    "viewing_sessions",
    "raw_bytes_per_observation",
    "curated_bytes_per_observation",
)


def _quiet(message: str) -> None:
    del message


def day_settings(data_dir: Path) -> Settings:
    """Default settings with everything under `data_dir` (the demo's defaults)."""
    # chat lists only: the ground-truth lake it is checked against has no chat activity
    return Settings.model_validate({"data_dir": data_dir, "chat_enabled": False})


def raw_files(lake_dir: Path, day: dt.date, kind: str) -> list[Path]:
    """The day's raw files of one kind (temporary files left out)."""
    folder = raw_day_dir(lake_dir, kind, day)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def raw_bytes(lake_dir: Path, day: dt.date) -> dict[str, int]:
    """Bytes on disk of the day's raw files, per kind (every kind of the registry)."""
    return {kind: sum(p.stat().st_size for p in raw_files(lake_dir, day, kind)) for kind in KINDS}


PRESENCE_KINDS = tuple(kind for kind in DATA_KINDS.values() if kind.presence)


def fresh_warehouse(settings: Settings) -> None:
    """Remove the warehouse and the curated zone, so the next load starts from nothing."""
    for path in (settings.warehouse_path, Path(f"{settings.warehouse_path}.wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(settings.lake_dir / CURATED, ignore_errors=True)


def _model_sql(name: str) -> str:
    return strip_comments((MODELS_DIR / f"{name}.sql").read_text()).strip().rstrip(";")


def bare_query(settings: Settings, files: dict[str, list[Path]], out: Path) -> dict[str, Any]:
    """The `viewing_sessions` SQL alone on a fresh in-memory DuckDB over the day's presence
    `files` (by kind), written to `out` as zstd Parquet sorted by channel: seconds and rows."""
    params = run_params(settings)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        began = time.perf_counter()
        for kind in PRESENCE_KINDS:
            ddl.attach_presence(con, kind, files.get(kind.name, []))
        for model in ("stg_chat_activity", "stg_presence"):
            con.execute(f"create temp view {model} as {_model_sql(model)}")
        con.execute(
            "create temp table run_params as select ? as bot_min_chats, ? as interval_minutes",
            [params.bot_min_chats, params.interval_minutes],
        )
        con.execute(
            f"copy (select * from ({_model_sql('viewing_sessions')}) as q "
            "order by channel_id, first_seen, viewer) "
            f"to '{out}' (format parquet, compression zstd, "
            f"compression_level {ZSTD_LEVEL}, row_group_size {ROW_GROUP_ROWS})"
        )
        seconds = time.perf_counter() - began
    finally:
        con.close()
    rows = pq.ParquetFile(out).metadata.num_rows
    out.unlink()
    return {"bare_query_s": seconds, "bare_query_rows": rows}


def distinct_viewers(files: list[Path]) -> int:
    """Distinct pseudonyms in `files` (not timed)."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            "select count(distinct viewer) from read_parquet(?)", [[str(p) for p in files]]
        ).fetchall()
        return int(rows[0][0])
    finally:
        con.close()


def pipeline_health(settings: Settings, day: dt.date) -> dict[str, Any]:
    """The day's bytes and observations as the warehouse records them: the bytes from
    `pipeline_health`, the rows from its bookkeeping (`loaded_files`, `curated_files`),
    since `pipeline_health` publishes the row counts noisy (sums over people, P3)."""
    con = connect(settings.warehouse_path, read_only=True)
    try:
        rows = con.execute(
            "select raw_bytes, raw_chatters_bytes, curated_bytes, "
            "(select coalesce(sum(rows), 0) from loaded_files where day = ? "
            "and kind = 'chatters'), "
            "(select coalesce(sum(rows), 0) from curated_files where day = ? "
            "and model = 'viewing_sessions') "
            "from pipeline_health where day = ?",
            [day, day, day],
        ).fetchall()
    finally:
        con.close()
    if not rows:
        return {}
    raw, chatters, curated, observations, sessions = (int(v) for v in rows[0])
    found: dict[str, Any] = dict(
        zip(HEALTH_COLUMNS[:5], (raw, chatters, curated, observations, sessions), strict=True)
    )
    found["raw_bytes_per_observation"] = round(chatters / observations, 3) if observations else None
    found["curated_bytes_per_observation"] = (
        round(curated / observations, 3) if observations else None
    )
    return found


def load_once(settings: Settings, day: dt.date) -> tuple[LoadReport, dict[str, Any]]:
    """Load `day` into a fresh warehouse: the report and the run's wall, CPU and memory."""
    fresh_warehouse(settings)
    gc.collect()
    reset_peak_rss()
    clock = SimClock(day_start(day + dt.timedelta(days=1)), speed=0.0)
    wall, cpu = time.perf_counter(), time.process_time()
    report = load_days(settings, [day], clock=clock)
    models = {m.name: m for m in report.models}
    exposure = models["exposure"]
    run = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "peak_rss_mb": to_mb(peak_rss_bytes()),
        "load_s": report.load_seconds,
        "transform_s": report.transform_seconds,
        "checks_s": report.check_seconds,
        "models_s": sum(m.seconds for m in report.models),
        "presence_pass_s": report.presence_pass_seconds,
        # sessionising: the pass while reading, then the curated write of the model
        "sessions_s": report.presence_pass_seconds + models["viewing_sessions"].seconds,
        "stream_fact_models_max_s": max(models[name].seconds for name in STREAM_FACT_MODELS),
        "exposure_s": exposure.seconds,
        "exposure_cores": exposure.cpu_seconds / exposure.seconds if exposure.seconds else 0.0,
        "warehouse_bytes": settings.warehouse_path.stat().st_size,
    }
    return report, run


def load_in_child(settings: Settings, day: dt.date, source: Path | None) -> dict[str, Any]:
    """Load `day` into a fresh warehouse in a child process running the package under
    `source` (None: this one): the child's figures (`LOAD_CHILD`), as `load_once` gives."""
    fresh_warehouse(settings)
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), *filter(None, [env.get("PYTHONPATH")])])
    figures = settings.data_dir / "load-child.json"
    figures.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_CHILD, str(settings.data_dir), day.isoformat(), str(figures)],
        capture_output=True,
        env=env,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0 or not figures.is_file():
        lines = done.stderr.decode(errors="replace").strip().splitlines() or ["no output"]
        raise RuntimeError(f"the load of {source or 'this version'} failed: {lines[-1]}")
    child: dict[str, Any] = json.loads(figures.read_text())
    figures.unlink()
    models = {m["name"]: m for m in child["models"]}
    exposure = models["exposure"]
    child.update(
        {
            "models_s": sum(m["seconds"] for m in child["models"]),
            "sessions_s": child["presence_pass_s"] + models["viewing_sessions"]["seconds"],
            "stream_fact_models_max_s": max(models[n]["seconds"] for n in STREAM_FACT_MODELS),
            "exposure_s": exposure["seconds"],
            "exposure_cores": (
                exposure["cpu_seconds"] / exposure["seconds"] if exposure["seconds"] else 0.0
            ),
            "warehouse_bytes": settings.warehouse_path.stat().st_size,
        }
    )
    return child


def table_digests(settings: Settings) -> dict[str, str]:
    """Every warehouse table's rows, sorted, as a SHA-256 (`MEASURED_COLUMNS` left out)."""
    con = connect(settings.warehouse_path, read_only=True)
    try:
        names = [
            str(r[0])
            for r in con.execute(
                "select table_name from information_schema.tables where table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        digests: dict[str, str] = {}
        for name in sorted(names):
            columns = [str(c) for c, _ in table_columns(con, name) if c not in MEASURED_COLUMNS]
            query = f"select {', '.join(columns)} from {name}"
            rows = sorted(repr(r) for r in con.execute(query).fetchall())
            digests[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digests
    finally:
        con.close()


def _model_seconds(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every model with its median seconds and CPU over the repeats, slowest first."""
    seconds: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    shape: dict[str, tuple[str, int]] = {}
    for models in runs:
        for model in models:
            seconds.setdefault(model["name"], []).append(model["seconds"])
            cpu.setdefault(model["name"], []).append(model["cpu_seconds"])
            shape[model["name"]] = (model["materialized"], model["rows"])
    rows = [
        {
            "name": name,
            "materialized": shape[name][0],
            "rows": shape[name][1],
            "seconds": summary(values),
            "cpu_seconds": summary(cpu[name]),
        }
        for name, values in seconds.items()
    ]
    return sorted(rows, key=lambda m: (-m["seconds"]["median"], m["name"]))


BASELINE_FIGURES = (
    "wall_s",
    "cpu_s",
    "load_s",
    "transform_s",
    "checks_s",
    "models_s",
    "presence_pass_s",
    "sessions_s",
    "stream_fact_models_max_s",
    "exposure_s",
    "peak_rss_mb",
    "sessions_over_bare_query",
    "wall_over_bare_query",
)


def side_by_side(
    settings: Settings, day: dt.date, repeat: int, baseline: Path, progress: Progress = _quiet
) -> dict[str, Any]:
    """The baseline's load and this version's, alternately on the same files: medians of
    each, per-repeat ratios (this / baseline), per-model seconds, and table equality."""
    presence = {kind.name: raw_files(settings.lake_dir, day, kind.name) for kind in PRESENCE_KINDS}
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    equal: dict[str, bool] = {}
    for index in range(repeat):
        progress(f"warehouse: baseline and this version, repeat {index + 1}/{repeat}")
        before.append(load_in_child(settings, day, baseline))
        digests = table_digests(settings) if index == 0 else {}
        after.append(load_in_child(settings, day, None))
        if index == 0:
            mine = table_digests(settings)
            equal = {
                name: digests.get(name) == mine.get(name)
                for name in sorted(set(digests) | set(mine))
            }
        bare.append(bare_query(settings, presence, settings.data_dir / "bare-sessions.parquet"))
    for runs in (before, after):
        for run, query in zip(runs, bare, strict=True):
            run["bare_query_s"] = query["bare_query_s"]
            run["sessions_over_bare_query"] = run["sessions_s"] / query["bare_query_s"]
            run["wall_over_bare_query"] = run["wall_s"] / query["bare_query_s"]
    figures: dict[str, Any] = {}
    for key in BASELINE_FIGURES:
        figures[key] = {
            "baseline": summary([r[key] for r in before]),
            "this": summary([r[key] for r in after]),
            "ratio": summary(
                [a[key] / b[key] if b[key] else 0.0 for a, b in zip(after, before, strict=True)]
            ),
        }
    return {
        "baseline": str(baseline),
        "presence_observations": after[-1]["presence_observations"],
        "viewing_sessions": after[-1]["viewing_sessions"],
        "same_sessions": all(
            r["viewing_sessions"] == q["bare_query_rows"] == before[0]["viewing_sessions"]
            for r, q in zip(after, bare, strict=True)
        ),
        "bare_query_s": summary([q["bare_query_s"] for q in bare]),
        "tables_equal": all(equal.values()) if equal else False,
        "tables_differing": [name for name, same in equal.items() if not same],
        "figures": figures,
        "models_baseline": _model_seconds([r["models"] for r in before]),
        "models_this": _model_seconds([r["models"] for r in after]),
        "runs_baseline": before,
        "runs_this": after,
    }


def _models(reports: list[LoadReport]) -> list[dict[str, Any]]:
    """Every model with its median seconds over the repeats, slowest first."""
    return _model_seconds(
        [
            [
                {
                    "name": m.name,
                    "materialized": m.materialized,
                    "rows": m.rows,
                    "seconds": m.seconds,
                    "cpu_seconds": m.cpu_seconds,
                }
                for m in report.models
            ]
            for report in reports
        ]
    )


def measure_day(
    settings: Settings, day: dt.date, repeat: int, label: str, progress: Progress = _quiet
) -> dict[str, Any]:
    """Load + transform `day` `repeat` times beside the bare query over its presence files."""
    lake = settings.lake_dir
    presence = {kind.name: raw_files(lake, day, kind.name) for kind in PRESENCE_KINDS}
    reports: list[LoadReport] = []
    runs: list[dict[str, Any]] = []
    for index in range(repeat):
        progress(f"warehouse: load {label}, repeat {index + 1}/{repeat}")
        report, run = load_once(settings, day)
        run.update(bare_query(settings, presence, settings.data_dir / "bare-sessions.parquet"))
        obs = report.days[0].presence_observations
        run["obs_per_s"] = obs / run["wall_s"]
        run["obs_per_s_load_transform"] = obs / (run["load_s"] + run["transform_s"])
        run["bare_query_obs_per_s"] = obs / run["bare_query_s"]
        run["sessions_over_bare_query"] = run["sessions_s"] / run["bare_query_s"]
        run["wall_over_bare_query"] = run["wall_s"] / run["bare_query_s"]
        reports.append(report)
        runs.append(run)
    first = reports[-1].days[0]
    sizes = raw_bytes(lake, day)
    obs = max(1, first.presence_observations)
    all_raw = sum(sizes.values())
    figures = {
        key: summary([r[key] for r in runs])
        for key in (
            "wall_s",
            "cpu_s",
            "load_s",
            "transform_s",
            "checks_s",
            "models_s",
            "peak_rss_mb",
            "obs_per_s",
            "obs_per_s_load_transform",
            "presence_pass_s",
            "sessions_s",
            "stream_fact_models_max_s",
            "exposure_s",
            "exposure_cores",
            "bare_query_s",
            "bare_query_obs_per_s",
            "sessions_over_bare_query",
            "wall_over_bare_query",
        )
    }
    return {
        "day": day.isoformat(),
        "snapshots": first.snapshots,
        "stream_facts": first.stream_facts,
        "presence_observations": first.presence_observations,
        "distinct_viewers": distinct_viewers(presence["chatters"]),
        "viewing_sessions": first.viewing_sessions,
        "bare_query_sessions_match": all(
            r["bare_query_rows"] == first.viewing_sessions for r in runs
        ),
        "raw_bytes": all_raw,
        "raw_chatters_bytes": sizes["chatters"],
        "curated_bytes": first.curated_bytes,
        "warehouse_bytes": runs[-1]["warehouse_bytes"],
        "chatters_bytes_per_obs": sizes["chatters"] / obs,
        "raw_bytes_per_obs": all_raw / obs,
        "curated_bytes_per_obs": first.curated_bytes / obs,
        "pipeline_health": pipeline_health(settings, day),
        "models": _models(reports),
        **figures,
        "runs": runs,
    }


def demo_day(
    data_dir: Path, day: dt.date, hours: float, seed: int, repeat: int, progress: Progress
) -> dict[str, Any]:
    """A `small` day collected by the real collector, then measured."""
    settings = day_settings(data_dir)
    progress(f"warehouse: collect the demo day (small, {hours:g} h)")
    report = collect_simulated(
        settings,
        first_day=day,
        hours=hours,
        scale="small",
        seed=seed,
        permissions=Permissions(mode="all-moderated"),  # LOAD TEST: every chat list read
    )
    result = measure_day(settings, day, repeat, "demo day (small)", progress)
    result["source"] = "collector (demo, in-process simulator)"
    result["scale"] = "small"
    result["prepare_s"] = report.wall_seconds
    result["snapshots_complete"] = report.snapshots_complete
    result["snapshots_partial"] = report.snapshots_partial
    return result


def truth_day(
    data_dir: Path,
    day: dt.date,
    hours: float,
    scale: str,
    seed: int,
    repeat: int,
    progress: Progress,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """A day written from the simulator's ground truth at `scale`, then measured (beside
    the `baseline` version's load, when given, instead of in this process)."""
    settings = day_settings(data_dir)
    progress(f"warehouse: write the {scale} day from the simulator's ground truth ({hours:g} h)")
    began = time.perf_counter()
    written = write_truth_day(
        settings.lake_dir,
        settings.state_dir,
        day,
        scale=scale,
        seed=seed,
        hours=hours,
        language=settings.language,
        top_n=settings.top_n,
        known_bots=settings.all_known_bots,
    )
    prepared = time.perf_counter() - began
    gc.collect()
    if baseline is not None:
        result = side_by_side(settings, day, repeat, baseline, progress)
        result["day"] = day.isoformat()
    else:
        result = measure_day(settings, day, repeat, f"{scale} day", progress)
    result["source"] = "simulator ground truth (bench/truthlake.py)"
    result["scale"] = scale
    result["prepare_s"] = prepared
    result["world_build_s"] = written.world_build_s
    result["peak_channels"] = written.peak_channels
    result["peak_observations"] = written.peak_observations
    return result


def truth_check(collected: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """How the ground-truth lake of the demo day compares with the collected one."""
    same = ("snapshots", "stream_facts", "presence_observations", "viewing_sessions")
    return {
        **{f"{key}_equal": collected[key] == truth[key] for key in same},
        "distinct_viewers_equal": collected["distinct_viewers"] == truth["distinct_viewers"],
        "chatters_bytes_ratio": (
            truth["raw_chatters_bytes"] / max(1, collected["raw_chatters_bytes"])
        ),
        "curated_bytes_ratio": truth["curated_bytes"] / max(1, collected["curated_bytes"]),
    }


def run_warehouse_suite(
    scale: str,
    repeat: int,
    *,
    day: dt.date,
    hours: float = 24.0,
    seed: int = 42,
    progress: Progress = _quiet,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """The demo day (always) and, at `fr`, the `fr` day: every figure in one dict. With
    `baseline` (another version's package folder), the ground-truth day of the scale is
    loaded by both versions side by side (`side_by_side`)."""
    with tempfile.TemporaryDirectory(prefix="streamcensus-bench-warehouse-") as tmp:
        root = Path(tmp)
        demo = demo_day(root / "demo", day, hours, seed, repeat, progress)
        check = truth_day(root / "demo-truth", day, hours, "small", seed, 1, progress)
        result: dict[str, Any] = {
            "day": day.isoformat(),
            "hours": hours,
            "whole_day": hours >= 24.0,
            "demo": demo,
            "truth_check": truth_check(demo, check),
        }
        shutil.rmtree(root / "demo-truth", ignore_errors=True)
        if scale == "fr":
            result["fr"] = truth_day(
                root / "fr", day, hours, "fr", seed, repeat, progress, baseline
            )
        elif baseline is not None:
            result["small"] = truth_day(
                root / "small", day, hours, "small", seed, repeat, progress, baseline
            )
    return result
