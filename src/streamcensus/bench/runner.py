"""Run the chosen suites in one process, side by side, and gather one JSON document.

The simulator and chat suites start their own simulator child (rate limit lifted); the collector
suite starts one with Twitch's bucket and the chosen permissions (realistic by default); the
storage suite collects `repeat` snapshots of its own on an all-moderated child (a load
test: bytes per presence observation need every chat list). The
warehouse suite needs no child: it collects its demo day with the in-process simulator
and writes the `fr` day from the simulator's ground truth.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from streamcensus import __version__
from streamcensus.bench.measure import machine
from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.simulator.permissions import PermissionsMode
from streamcensus.timeutil import UTC, isoformat_z, utcnow

SUITES = ("simulator", "collector", "storage", "warehouse", "chat", "api", "communities")
# accuracy suites, run only when named: `privacy` (noise against exact counts) and `bots`
# (a week of ground truth loaded: minutes)
EXTRA_SUITES = ("privacy", "bots", "engines")
BENCH_GRID = dt.datetime(2026, 11, 27, 20, 30, tzinfo=UTC)  # a Friday evening (peak)
DEFAULT_SPEED = 10.0
DEFAULT_SNAPSHOTS = {"small": 10, "fr": 5}
DEFAULT_HOURS = 24.0  # the warehouse suite loads a whole day
DEFAULT_API_DAYS = 30  # the api suite serves a month

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    del message


def bench_command_line(
    suites: Sequence[str],
    scale: str,
    repeat: int,
    speed: float,
    snapshots: int,
    out: str | None,
    compare: bool = True,
    hours: float = DEFAULT_HOURS,
    days: int = DEFAULT_API_DAYS,
    baseline: Path | None = None,
    permissions: PermissionsMode = "realistic",
    replicate_to: int | None = None,
) -> str:
    """The command that reproduces a run (quoted in BENCHMARKS.md)."""
    suite = "all" if tuple(suites) == SUITES else ",".join(suites)
    parts = [
        "streamcensus bench",
        f"--suite {suite}",
        f"--scale {scale}",
        f"--repeat {repeat}",
        f"--speed {speed:g}",
        f"--snapshots {snapshots}",
    ]
    if permissions != "realistic":
        parts.append(f"--permissions {permissions}")
    if not compare:
        parts.append("--no-compare")
    if "warehouse" in suites or "privacy" in suites or "engines" in suites:
        parts.append(f"--hours {hours:g}")
    if "api" in suites or "communities" in suites:
        parts.append(f"--days {days}")
    if replicate_to is not None and "api" in suites:
        parts.append(f"--replicate-to {replicate_to}")
    if baseline is not None and "warehouse" in suites:
        parts.append(f"--baseline {baseline}")
    if out:
        parts.append(f"--out {out}")
    return " ".join(parts)


def run_bench(
    suites: Sequence[str],
    scale: str,
    repeat: int,
    *,
    speed: float = DEFAULT_SPEED,
    snapshots: int | None = None,
    compare: bool = True,
    hours: float = DEFAULT_HOURS,
    days: int = DEFAULT_API_DAYS,
    replicate_to: int | None = None,
    permissions: PermissionsMode = "realistic",
    seed: int = 42,
    grid: dt.datetime = BENCH_GRID,
    out: str | None = None,
    baseline: Path | None = None,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Run `suites` at `scale`; every figure in one dict (see BENCHMARKS.md for the keys)."""
    from streamcensus.bench.api_suite import run_api_suite
    from streamcensus.bench.bots_suite import HISTORY_DAYS, run_bots_suite
    from streamcensus.bench.chat_suite import run_chat_suite
    from streamcensus.bench.collector_suite import run_collector_suite
    from streamcensus.bench.communities_suite import run_communities_suite
    from streamcensus.bench.privacy_suite import run_privacy_suite
    from streamcensus.bench.simulator_suite import run_simulator_suite
    from streamcensus.bench.storage_suite import run_storage_suite
    from streamcensus.bench.warehouse_suite import run_warehouse_suite

    soak = DEFAULT_SNAPSHOTS.get(scale, 5) if snapshots is None else snapshots
    began = time.monotonic()
    result: dict[str, Any] = {
        "meta": {
            "command": bench_command_line(
                suites,
                scale,
                repeat,
                speed,
                soak,
                out,
                compare,
                hours,
                days,
                baseline,
                permissions,
                replicate_to,
            ),
            "date": isoformat_z(utcnow()),
            "version": __version__,
            "machine": machine(),
            "scale": scale,
            "seed": seed,
            "repeat": repeat,
            "grid_time": isoformat_z(grid),
            "speed": speed,
            "snapshots": soak,
            "hours": hours,
            "days": days,
            "permissions": permissions,
            "suites": list(suites),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
    }
    if "simulator" in suites:
        progress(f"simulator suite ({scale})")
        result["simulator"] = run_simulator_suite(scale, grid, repeat, seed=seed)
    if "collector" in suites:
        with (
            SimulatorProcess(scale, grid, seed=seed, permissions=permissions) as sim,
            tempfile.TemporaryDirectory(prefix="streamcensus-bench-") as tmp,
        ):
            progress(f"collector suite ({scale}, {permissions}, x{speed:g})")
            result["collector"] = run_collector_suite(
                sim,
                Path(tmp) / "series",
                grid,
                repeat,
                speed=speed,
                snapshots=soak,
                compare=compare,
            )
    if "storage" in suites:
        # bytes per presence observation need every chat list: the all-moderated load test
        with (
            SimulatorProcess(scale, grid, seed=seed, permissions="all-moderated") as sim,
            tempfile.TemporaryDirectory(prefix="streamcensus-bench-") as tmp,
        ):
            progress(f"storage suite ({scale})")
            result["storage"] = run_storage_suite(
                sim, Path(tmp) / "series", grid, repeat, speed=speed, study_repeats=min(repeat, 3)
            )
    if "warehouse" in suites:
        progress(f"warehouse suite ({scale}, {hours:g} h)")
        result["warehouse"] = run_warehouse_suite(
            scale,
            repeat,
            day=grid.date(),
            hours=hours,
            seed=seed,
            progress=progress,
            baseline=baseline,
        )
    if "engines" in suites:
        from streamcensus.bench.engines_suite import run_engines_suite

        progress(f"engines suite ({scale}, {hours:g} h, DuckDB and Spark local)")
        with tempfile.TemporaryDirectory(prefix="streamcensus-bench-") as tmp:
            result["engines"] = run_engines_suite(
                scale, repeat, root=Path(tmp), day=grid.date(), hours=hours, progress=progress
            )
    if "chat" in suites:
        progress(f"chat suite ({scale})")
        result["chat"] = run_chat_suite(scale, grid, repeat, seed=seed)
    if "api" in suites:
        progress(f"api suite ({scale}, {days} days)")
        result["api"] = run_api_suite(
            scale,
            first_day=grid.date() - dt.timedelta(days=days - 1),
            days=days,
            replicate_to=replicate_to,
            seed=seed,
            progress=progress,
        )
    if "privacy" in suites:
        progress(f"privacy suite ({scale}, {hours:g} h a day)")
        result["privacy"] = run_privacy_suite(
            scale, day=grid.date(), hours=hours, seed=seed, progress=progress
        )
    if "communities" in suites:
        progress(f"communities suite ({scale}, {days} days)")
        result["communities"] = run_communities_suite(
            scale,
            repeat,
            first_day=grid.date() - dt.timedelta(days=days - 1),
            days=days,
            seed=seed,
            progress=progress,
        )
    if "bots" in suites:
        progress(f"bots suite ({scale})")
        result["bots"] = run_bots_suite(
            scale,
            first_day=grid.date() - dt.timedelta(days=HISTORY_DAYS - 1),
            seed=seed,
            progress=progress,
        )
    result["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["meta"]["elapsed_s"] = round(time.monotonic() - began, 1)
    return result
