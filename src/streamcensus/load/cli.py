"""`streamcensus load [--day YYYY-MM-DD | --all | --every-day-at HH:MM]`: raw lake →
warehouse → serving tables, once or as the daily load service."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import (
    Progress as RichProgress,
)

from streamcensus.clock import WallClock
from streamcensus.config import Settings
from streamcensus.context import AppContext, lake_url_option
from streamcensus.errors import StreamcensusError, UserError
from streamcensus.lake.stores import open_lake
from streamcensus.load.daily import parse_load_at
from streamcensus.load.loader import LoadReport, load_days
from streamcensus.load.metrics import load_observed
from streamcensus.logs import setup_logging
from streamcensus.metrics.probes import bind_socket
from streamcensus.timeutil import parse_day
from streamcensus.transform.context import Progress
from streamcensus.transform.engines import ENGINES, Engine


@contextmanager
def rich_progress() -> Iterator[Progress]:
    """A progress callback drawing one bar on stderr (hidden when stderr is not a terminal)."""
    console = Console(stderr=True)
    with RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("load", total=None)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield report


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def format_report(report: LoadReport) -> list[str]:
    """The lines `load` prints: one per day, quarantined files, retention, timings."""
    lines: list[str] = []
    for day in report.days:
        per_obs = (
            f", {day.curated_bytes / day.presence_observations:.2f} B/observation curated"
            if day.presence_observations
            else ""
        )
        lines.append(
            f"{day.day}  {day.status:<9} {day.files} files ({_mb(day.raw_bytes)}), "
            f"{day.snapshots} snapshots, {day.presence_observations:,} presence observations "
            f"→ {day.viewing_sessions:,} viewing sessions{per_obs}"
            + ("" if day.complete else " (partial: the day is not over)")
        )
        for q in day.quarantined:
            lines.append(f"  quarantined {q.path} → {q.quarantine_path}: {q.reason}")
        if day.orphaned:
            lines.append(
                f"  {len(day.orphaned)} data file(s) without a manifest listing them "
                "(orphaned, e.g. a collector killed mid-snapshot): not loaded"
            )
    if not report.days and not report.skipped and not report.not_over:
        lines.append(
            "nothing to load: the lake has no snapshots yet "
            "(run `streamcensus collect` or `streamcensus demo --no-serve`)"
        )
    elif not report.days and not report.not_over:
        lines.append("nothing to load: every day in the lake is loaded and unchanged")
    elif report.skipped:
        lines.append(f"{len(report.skipped)} days unchanged or final, not reloaded")
    for waiting in report.not_over:
        lines.append(
            f"{waiting} is not over: not loaded (only complete UTC days are; "
            "`streamcensus load --day today` loads it as partial)"
        )
    retention = report.retention
    if retention is not None and retention.days:
        lines.append(
            f"retention: deleted the presence of {len(retention.days)} days before "
            f"{retention.cutoff} ({retention.files_deleted} files, {_mb(retention.bytes_deleted)})"
        )
    if retention is not None and retention.unloaded_expired:
        lines.append(
            f"retention: {len(retention.unloaded_expired)} day(s) past retention are not loaded "
            "yet and were kept: run `streamcensus load --all`"
        )
    if retention is not None and retention.keys_deleted:
        lines.append(f"retention: deleted {len(retention.keys_deleted)} expired pseudonym key(s)")
    if report.days:
        lines.append(
            f"load {report.load_seconds:.1f} s, transform {report.transform_seconds:.1f} s "
            f"(checks {report.check_seconds:.1f} s)"
        )
    return lines


@click.command("load")
@click.option(
    "--day",
    "day_text",
    metavar="YYYY-MM-DD|today",
    help="Load one UTC day (default: yesterday); `today` loads the current day as partial.",
)
@click.option(
    "--all",
    "all_days",
    is_flag=True,
    help="Load every complete day not loaded yet, and reload days whose files changed.",
)
@click.option(
    "--bot-min-chats",
    type=click.IntRange(min=2),
    default=None,
    help="Accounts in at least this many chats at one snapshot count as bots (default 20).",
)
@click.option(
    "--every-day-at",
    "every_day_at",
    metavar="HH:MM",
    is_flag=False,
    flag_value="",
    default=None,
    help="Run as the daily load service: load every finished day not loaded yet now, then "
    "daily at HH:MM UTC (alone: the load_at setting, 02:00), until SIGINT/SIGTERM.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="With --every-day-at: serve /metrics, /healthz and /readyz on this port of "
    "metrics_host (default: $STREAMCENSUS_LOADER_METRICS_PORT; 0: off).",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="Engine the models run on (default: the engine setting, duckdb); spark runs them "
    "on the spark_master setting (local[2] by default, needs Java 17+).",
)
@lake_url_option
@click.option("-v", "--verbose", is_flag=True, help="Debug logging (with --every-day-at).")
@click.pass_obj
def load_command(
    app: AppContext,
    day_text: str | None,
    all_days: bool,
    bot_min_chats: int | None,
    every_day_at: str | None,
    metrics_port: int | None,
    engine: Engine | None,
    lake_url: str | None,
    verbose: bool,
) -> None:
    """Load raw lake days into the warehouse, build the serving tables, and check them."""
    if sum((day_text is not None, all_days, every_day_at is not None)) > 1:
        raise click.UsageError("give one of --day, --all and --every-day-at")
    if metrics_port is not None and every_day_at is None:
        raise click.UsageError("--metrics-port only applies with --every-day-at")
    settings = app.settings(lake_url=lake_url, loader_metrics_port=metrics_port)
    if engine is not None:
        settings = settings.model_copy(update={"engine": engine})
    if every_day_at is not None:
        try:
            load_at = parse_load_at(every_day_at or settings.load_at)
        except UserError as exc:
            raise click.BadParameter(str(exc), param_hint="--every-day-at") from None
        open_lake(settings, check=True)  # a lake it cannot read: one line now, not at 02:00
        port = settings.loader_metrics_port
        sock = bind_socket(settings.metrics_host, port, "--metrics-port") if port else None
        setup_logging(settings.log_dir, verbose=verbose)
        asyncio.run(load_service(settings, load_at, sock))
        return
    if all_days:
        days: list[dt.date] | None = None
    else:
        today = WallClock().now().date()
        try:
            if day_text is None:
                days = [today - dt.timedelta(days=1)]
            elif day_text.strip().lower() == "today":
                days = [today]
            else:
                days = [parse_day(day_text)]
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--day") from None
    try:
        with rich_progress() as progress:
            report = load_days(settings, days, progress, bot_min_chats=bot_min_chats)
    except UserError:
        raise
    except StreamcensusError as exc:
        raise click.ClickException(str(exc)) from None
    for line in format_report(report):
        click.echo(line)


async def load_service(
    settings: Settings, load_at: dt.time, sock: socket.socket | None = None
) -> None:
    """The daily load on the wall clock until SIGINT/SIGTERM (a load under way finishes);
    `/metrics`, `/healthz` and `/readyz` on `sock` when given."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    await load_observed(settings, WallClock(), stop, load_at, sock)
