"""`streamcensus demo`: the whole pipeline on embedded parts, with no account and no network.

The simulator runs in this process on 127.0.0.1; its clock is set to each 5-minute grid
time of the chosen days in turn and flows at a speed-up during each snapshot, so the
rate limit is honoured on simulated time while a day is collected in minutes. Snapshots
already in the lake are kept (raw files are never rewritten), so a second run resumes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from streamcensus.cli import AppContext, pass_app
from streamcensus.clock import SimClock
from streamcensus.collect.session import open_collector
from streamcensus.collect.snapshot import summary_line
from streamcensus.config import Settings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import raw_path, snapshot_id
from streamcensus.logs import setup_logging
from streamcensus.simulator.permissions import Permissions, PermissionsMode
from streamcensus.timeutil import GRID_SECONDS, day_start, parse_day, utcnow

log = logging.getLogger("streamcensus.demo")

DEMO_SPEED = 120.0  # simulated seconds per real second during a snapshot


@dataclass
class DemoReport:
    """What the lake holds for the demo's days, and what this run added."""

    collected: int = 0
    skipped_existing: int = 0
    snapshots_complete: int = 0
    snapshots_partial: int = 0
    channels: int = 0
    presence_observations: int = 0
    raw_bytes: int = 0
    chatters_bytes: int = 0
    wall_seconds: float = 0.0
    token_refreshes: int = 0
    token_validations: int = 0
    chat_lists_by_ground: dict[str, int] = field(default_factory=dict)
    follower_readings: int = 0

    def per_observation(self, size: int) -> float:
        return size / self.presence_observations if self.presence_observations else 0.0

    def lines(self) -> list[str]:
        return [
            f"snapshots         {self.snapshots_complete:,} complete, "
            f"{self.snapshots_partial:,} partial "
            f"({self.collected:,} collected now, {self.skipped_existing:,} already in the lake)",
            f"channels seen     {self.channels:,}",
            f"presence obs.     {self.presence_observations:,}",
            f"raw lake bytes    {self.raw_bytes:,}",
            f"bytes/observation {self.per_observation(self.chatters_bytes):.2f} in chatters files, "
            f"{self.per_observation(self.raw_bytes):.2f} with stream facts and manifests",
            f"user tokens       {self.token_refreshes:,} refreshes, "
            f"{self.token_validations:,} validations (device code flow, hourly validation)",
            "chat lists read   "
            + (
                ", ".join(f"{n:,} by {g}" for g, n in sorted(self.chat_lists_by_ground.items()))
                or "none"
            ),
            f"follower totals   {self.follower_readings:,} (hourly)",
            f"wall time         {self.wall_seconds:.1f} s",
        ]


def summarise_lake(lake_dir: Path, days: list[dt.date], report: DemoReport) -> None:
    """Fill `report` from the manifests and files of `days` (what is on disk, not in memory)."""
    import duckdb

    raw = lake_dir / "raw"
    for day in days:
        for kind in ("streams", "chatters", "manifest"):
            folder = raw / kind / f"date={day.isoformat()}"
            if folder.exists():
                size = sum(p.stat().st_size for p in folder.iterdir() if not p.name.startswith("."))
                report.raw_bytes += size
                if kind == "chatters":
                    report.chatters_bytes += size
    parts = [raw / "streams" / f"date={d.isoformat()}" for d in days]
    files = [str(p / "*.parquet") for p in parts if any(p.glob("*.parquet"))]
    manifests = [raw / "manifest" / f"date={d.isoformat()}" for d in days]
    for folder in manifests:
        for path in folder.glob("*.json") if folder.exists() else []:
            record = ManifestRecord.from_bytes(path.read_bytes())
            report.snapshots_complete += record.status == "complete"
            report.snapshots_partial += record.status == "partial"
            report.presence_observations += record.presence_observations
            report.token_refreshes += record.token_refreshes
            report.token_validations += record.token_validations
            report.follower_readings += record.followers_channels
            for ground in record.chat_list_grounds.values():
                report.chat_lists_by_ground[ground] = report.chat_lists_by_ground.get(ground, 0) + 1
    if files:
        con = duckdb.connect()
        rows = con.execute(
            "select count(distinct channel_id) from read_parquet(?)", [files]
        ).fetchall()
        report.channels = int(rows[0][0])
        con.close()


def grid_times(first_day: dt.date, hours: float) -> list[dt.datetime]:
    """The 5-minute grid times from midnight UTC of `first_day`, over `hours`."""
    start = day_start(first_day)
    count = int(hours * 3600 // GRID_SECONDS)
    return [start + dt.timedelta(seconds=GRID_SECONDS * i) for i in range(count)]


async def _collect_days(
    settings: Settings,
    world_scale: str,
    seed: int,
    times: list[dt.datetime],
    speed: float,
    on_record: Callable[[ManifestRecord | None], None],
    permissions: Permissions | None = None,
) -> None:
    from streamcensus.simulator.server import running_simulator
    from streamcensus.simulator.world import PopulationWorld

    world = PopulationWorld(scale=world_scale, seed=seed, permissions=permissions)
    clock = SimClock(times[0], speed=0)
    with running_simulator(world, clock) as handle:
        async with open_collector(
            settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=clock
        ) as session:
            for grid_time in times:
                if raw_path(settings.lake_dir, "manifest", snapshot_id(grid_time)).exists():
                    on_record(None)
                    continue
                if clock.time() < grid_time.timestamp():
                    clock.set(grid_time, speed=speed)
                else:
                    clock.set_speed(speed)
                record = await session.collector.collect(grid_time)
                clock.set_speed(0)
                log.info(summary_line(record))
                on_record(record)


def run_demo_collection(
    settings: Settings,
    *,
    first_day: dt.date,
    hours: float,
    scale: str,
    seed: int,
    speed: float = DEMO_SPEED,
    console: Console | None = None,
    permissions: Permissions | None = None,
) -> DemoReport:
    """Simulate and collect `hours` from midnight of `first_day`; return the summary.

    `permissions` defaults to the realistic ones (`simulator.permissions.Permissions`).
    """
    console = console or Console(stderr=True)
    times = grid_times(first_day, hours)
    report = DemoReport()
    began = time.monotonic()
    progress = Progress(
        TextColumn("[bold]collect[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task("building the simulated population...", total=len(times))

        def on_record(record: ManifestRecord | None) -> None:
            if record is None:
                report.skipped_existing += 1
                progress.update(task, advance=1, description="already in the lake")
                return
            report.collected += 1
            progress.update(
                task,
                advance=1,
                description=f"{record.snapshot_id} {record.status}, "
                f"{record.channels_listed} channels, {record.presence_observations:,} chatters",
            )
            if record.status != "complete":
                progress.console.print(summary_line(record))

        asyncio.run(_collect_days(settings, scale, seed, times, speed, on_record, permissions))
    report.wall_seconds = time.monotonic() - began
    summarise_lake(settings.lake_dir, sorted({t.date() for t in times}), report)
    return report


def run_demo_load(settings: Settings, last_day: dt.date, console: Console) -> list[str]:
    """Load every pending day into the warehouse, as of the end of the simulated period."""
    from streamcensus.load.cli import format_report, rich_progress
    from streamcensus.load.loader import load_days

    # retention counts days back from the clock's date: use the simulated one
    clock = SimClock(day_start(last_day) + dt.timedelta(days=1), speed=0)
    with rich_progress() as progress:
        report = load_days(settings, None, progress, clock=clock)
    return [*format_report(report), *headlines(settings)]


def headlines(settings: Settings) -> list[str]:
    """Each serving table with its row count, and a few headline numbers."""
    import duckdb

    from streamcensus.transform.serving import SERVING_TABLES

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        lines = ["", "serving tables (rows):"]
        for table in SERVING_TABLES:
            rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]
            lines.append(f"  {table:<30} {rows:>10,}")
        peak = con.execute(
            "select snapshot_ts, viewers, live_channels, viewers_per_live_channel "
            "from community_timeseries order by viewers desc, snapshot_ts limit 1"
        ).fetchall()
        if peak and peak[0][1]:
            moment, viewers, live, ratio = peak[0]
            lines += [
                "",
                f"peak viewers      {viewers:,} at {moment:%Y-%m-%d %H:%M} UTC "
                f"({live:,} live channels, {ratio:,.1f} viewers per live channel)",
            ]
        overlaps = con.execute(
            "select channel_login_a, channel_login_b, shared_chatters, jaccard "
            "from audience_overlap where window_days = 1 "
            "and day = (select max(day) from audience_overlap) "
            "order by shared_chatters desc, channel_login_a, channel_login_b limit 3"
        ).fetchall()
        for a, b, shared, jaccard in overlaps:
            lines.append(
                f"top overlap       {a} & {b}: {shared:,} shared chatters, J={jaccard:.3f}"
            )
    finally:
        con.close()
    return lines


def serve_dashboard(settings: Settings, console: Console) -> None:
    """Serve the dashboard until Ctrl-C."""
    from streamcensus.serve.cli import serve_until_interrupted

    serve_until_interrupted(settings, console)


@click.command("demo")
@click.option("--scale", type=click.Choice(["small", "fr"]), default="small", show_default=True)
@click.option("--days", type=click.IntRange(1, 31), default=1, show_default=True)
@click.option(
    "--hours",
    type=click.FloatRange(min=0.1, max=24 * 31),
    help="Collect only this many hours from the first day's midnight (overrides --days).",
)
@click.option(
    "--start",
    "start_day",
    metavar="YYYY-MM-DD",
    help="First simulated UTC day (default: yesterday).",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--speed",
    type=click.FloatRange(min=1),
    default=DEMO_SPEED,
    show_default=True,
    help="Simulated seconds per real second during a snapshot.",
)
@click.option(
    "--permissions",
    type=click.Choice(["realistic", "all-moderated"]),
    help="Who may read chat lists (default: the sim_permissions setting, realistic). "
    "all-moderated is a LOAD-TEST mode Twitch never grants.",
)
@click.option("--no-serve", is_flag=True, help="Build everything, print the summary and exit.")
@pass_app
def demo_command(
    app: AppContext,
    scale: str,
    days: int,
    hours: float | None,
    start_day: str | None,
    seed: int,
    speed: float,
    permissions: PermissionsMode | None,
    no_serve: bool,
) -> None:
    """Simulate Twitch, collect every 5 minutes, and summarise (embedded defaults)."""
    settings = app.settings()
    try:
        first = parse_day(start_day) if start_day else utcnow().date() - dt.timedelta(days=1)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--start") from None
    if not dt.date(2000, 1, 1) <= first <= dt.date(2999, 1, 1):
        raise click.BadParameter(
            "must be a day between 2000-01-01 and 2999-01-01", param_hint="--start"
        )
    setup_logging(settings.log_dir, to_stderr=False)
    console = Console(stderr=True)
    span = hours if hours is not None else 24.0 * days
    console.print(
        f"streamcensus demo: simulated Twitch ({scale}, seed {seed}), {span:g} h from "
        f"{first.isoformat()} 00:00 UTC, data in {settings.data_dir}"
    )
    report = run_demo_collection(
        settings,
        first_day=first,
        hours=span,
        scale=scale,
        seed=seed,
        speed=speed,
        console=console,
        permissions=Permissions(
            permissions or settings.sim_permissions,
            tuple(settings.sim_operator_moderates),
            settings.sim_consent_share,
        ),
    )
    for line in report.lines():
        click.echo(line)
    last_day = first + dt.timedelta(days=max(0, math.ceil(span / 24) - 1))
    load_lines = run_demo_load(settings, last_day, console)
    for line in load_lines:
        click.echo(line)
    if not no_serve:
        serve_dashboard(settings, console)
