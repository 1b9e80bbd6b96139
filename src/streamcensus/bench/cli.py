"""`streamcensus bench`: the benchmarks behind BENCHMARKS.md, as JSON and tables."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from streamcensus.bench.report import print_report
from streamcensus.bench.runner import (
    DEFAULT_API_DAYS,
    DEFAULT_HOURS,
    DEFAULT_SNAPSHOTS,
    DEFAULT_SPEED,
    EXTRA_SUITES,
    SUITES,
    run_bench,
)
from streamcensus.bench.simproc import SimulatorError
from streamcensus.fsutil import atomic_write_bytes
from streamcensus.simulator.permissions import PERMISSION_MODES, PermissionsMode


@click.command("bench")
@click.option(
    "--suite",
    type=click.Choice([*SUITES, *EXTRA_SUITES, "all"]),
    default="all",
    show_default=True,
    help="Which benchmarks to run (`all`: every performance suite; `privacy` and `bots`, "
    "accuracy against the simulator's truth, and `engines`, the models on DuckDB and on "
    "Spark local side by side, run only when named).",
)
@click.option(
    "--scale",
    type=click.Choice(["small", "fr"]),
    default="small",
    show_default=True,
    help="Simulated population.",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 50),
    default=3,
    show_default=True,
    help="Repeats behind every median.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=1.0, max=100.0),
    default=DEFAULT_SPEED,
    show_default=True,
    help="Simulated seconds per real second while the collector works.",
)
@click.option(
    "--snapshots",
    type=click.IntRange(1, 500),
    default=None,
    help=(
        "Consecutive snapshots for the collector's memory series "
        f"(default: {DEFAULT_SNAPSHOTS['small']} at small, {DEFAULT_SNAPSHOTS['fr']} at fr)."
    ),
)
@click.option(
    "--hours",
    type=click.FloatRange(min=1.0, max=24.0),
    default=DEFAULT_HOURS,
    show_default=True,
    help="Hours of the warehouse, privacy and engines suites' days, from midnight UTC (24: whole).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 60),
    default=DEFAULT_API_DAYS,
    show_default=True,
    help="Days of ground-truth data the api and communities suites load.",
)
@click.option(
    "--replicate-to",
    type=click.IntRange(2, 60),
    default=None,
    help="api suite: after loading --days true days, copy their rows (dates shifted) to "
    "this many days of volume; the output says how many days were loaded and how many copied.",
)
@click.option(
    "--permissions",
    type=click.Choice(PERMISSION_MODES),
    default="realistic",
    show_default=True,
    help="Who may read chat lists in the collector suite: realistic (the simulator's "
    "default; chat activity on, as a user runs it) or all-moderated, a LOAD TEST Twitch "
    "never grants (every chat list read, Helix only).",
)
@click.option(
    "--no-compare",
    is_flag=True,
    help="Skip the general-purpose library (pyTwitchAPI) comparison.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Warehouse suite: another version's package folder (holding `streamcensus/`, e.g. "
    "the `src/` of `git archive REV src`); its load and this one's run side by side on the "
    "same ground-truth day, and their tables must be equal.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every figure as JSON to this file.",
)
def bench_command(
    suite: str,
    scale: str,
    repeat: int,
    speed: float,
    snapshots: int | None,
    hours: float,
    days: int,
    replicate_to: int | None,
    permissions: PermissionsMode,
    no_compare: bool,
    baseline: Path | None,
    out: Path | None,
) -> None:
    """Measure the simulator, the collector, the raw lake, the warehouse and the API; print
    tables.

    The simulator runs in a child process on 127.0.0.1 (the warehouse suite's demo day uses
    the in-process one); everything lands in a temporary directory that is removed
    afterwards.
    """
    suites = SUITES if suite == "all" else (suite,)
    if replicate_to is not None and replicate_to <= days:
        raise click.UsageError(
            f"--replicate-to {replicate_to} must be more than --days {days} (the loaded days)"
        )
    console = Console(stderr=True)
    try:
        result = run_bench(
            suites,
            scale,
            repeat,
            speed=speed,
            snapshots=snapshots,
            compare=not no_compare,
            hours=hours,
            days=days,
            replicate_to=replicate_to,
            baseline=baseline,
            permissions=permissions,
            out=str(out) if out else None,
            progress=lambda message: console.print(f"[bold]bench[/] {message}..."),
        )
    except SimulatorError as exc:
        raise click.ClickException(str(exc)) from None
    if out is not None:
        atomic_write_bytes(out, (json.dumps(result, indent=2) + "\n").encode())
    print_report(result, Console())
