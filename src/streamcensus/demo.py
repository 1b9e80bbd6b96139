"""`streamcensus demo`: the whole pipeline on embedded parts, with no account and no network.

The simulator runs in this process on 127.0.0.1 (`collect.simulated`); the demo adds the
progress bar, the load, the headline numbers and the dashboard.
"""

from __future__ import annotations

import datetime as dt
import math

import click
import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from streamcensus.clock import SimClock
from streamcensus.collect.simulated import DEFAULT_SPEED, CollectionReport, collect_simulated
from streamcensus.collect.snapshot import summary_line
from streamcensus.config import Settings
from streamcensus.context import AppContext, lake_url_option, pass_app
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.load.cli import format_report, rich_progress
from streamcensus.load.loader import load_days
from streamcensus.logs import setup_logging
from streamcensus.serve.cli import serve_until_interrupted
from streamcensus.simulator.permissions import Permissions, PermissionsMode
from streamcensus.timeutil import day_start, grid_times, parse_day, utcnow
from streamcensus.transform.serving import SERVING_TABLES


def run_demo_collection(
    settings: Settings,
    *,
    first_day: dt.date,
    hours: float,
    scale: str,
    seed: int,
    speed: float = DEFAULT_SPEED,
    console: Console | None = None,
    permissions: Permissions | None = None,
) -> CollectionReport:
    """Simulate and collect `hours` from midnight of `first_day`, with a progress bar.

    `permissions` defaults to the realistic ones (`simulator.permissions.Permissions`).
    """
    console = console or Console(stderr=True)
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
        task = progress.add_task(
            "building the simulated population...", total=len(grid_times(first_day, hours))
        )

        def on_record(record: ManifestRecord | None) -> None:
            if record is None:
                progress.update(task, advance=1, description="already in the lake")
                return
            progress.update(
                task,
                advance=1,
                description=f"{record.snapshot_id} {record.status}, "
                f"{record.channels_listed} channels, {record.presence_observations:,} chatters",
            )
            if record.status != "complete":
                progress.console.print(summary_line(record))

        return collect_simulated(
            settings,
            first_day=first_day,
            hours=hours,
            scale=scale,
            seed=seed,
            speed=speed,
            on_record=on_record,
            permissions=permissions,
        )


def run_demo_load(settings: Settings, last_day: dt.date, console: Console) -> list[str]:
    """Load every pending day into the warehouse, as of the end of the simulated period."""
    # retention counts days back from the clock's date: use the simulated one
    clock = SimClock(day_start(last_day) + dt.timedelta(days=1), speed=0)
    with rich_progress() as progress:
        report = load_days(settings, None, progress, clock=clock)
    return [*format_report(report), *headlines(settings)]


def headlines(settings: Settings) -> list[str]:
    """Each serving table with its row count, and a few headline numbers."""
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
        # per presence signal: who posted (every joined chat) and who was in the chat list
        # (only the channels whose chat list may be read)
        for signal, label in (("chat_activity", "posted"), ("chat_list", "in chat lists")):
            overlaps = con.execute(
                "select channel_login_a, channel_login_b, shared_chatters, jaccard "
                "from audience_overlap where window_days = 1 and signal = ? "
                "and day = (select max(day) from audience_overlap) "
                "order by shared_chatters desc, channel_login_a, channel_login_b limit 3",
                [signal],
            ).fetchall()
            for a, b, shared, jaccard in overlaps:
                lines.append(
                    f"top overlap       {a} & {b}: {shared:,} people {label} in both, "
                    f"J={jaccard:.3f}"
                )
        lines += signal_lines(con)
    finally:
        con.close()
    return lines


SIGNAL_LABELS = {"chat_activity": "people who posted", "chat_list": "people in chat lists"}


def signal_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Per presence signal, on the latest day: the channel-days it rests on, their median
    bot share, the habit figures and the share singled out by two points (exposure)."""
    lines: list[str] = []
    for signal, label in SIGNAL_LABELS.items():
        rows = con.execute(
            "select count(*), median(bot_share) from bot_share "
            "where signal = ? and day = (select max(day) from bot_share)",
            [signal],
        ).fetchall()
        channel_days, bots = rows[0]
        habits = con.execute(
            "select count(*) from viewer_habits "
            "where signal = ? and day = (select max(day) from viewer_habits)",
            [signal],
        ).fetchall()[0][0]
        unicity = con.execute(
            "select population, unique_share from exposure where signal = ? "
            "and measure = 'unicity' and points = 2 and window_days = 1 "
            "and day = (select max(day) from exposure)",
            [signal],
        ).fetchall()
        if not channel_days and not habits and not unicity:
            continue
        line = (
            f"{signal:<17} {label}: {channel_days:,} channel-days"
            + (f" (median bot share {bots:.1%})" if bots is not None else "")
            + f", {habits:,} habit figures"
        )
        if unicity:
            population, share = unicity[0]
            line += f", {share:.0%} of {population:,} people singled out by 2 points"
        lines.append(line)
    return lines


def serve_dashboard(settings: Settings, console: Console) -> None:
    """Serve the dashboard until Ctrl-C."""
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
    default=DEFAULT_SPEED,
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
@lake_url_option
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
    lake_url: str | None,
) -> None:
    """Simulate Twitch, collect every 5 minutes, and summarise (embedded defaults)."""
    settings = app.settings(lake_url=lake_url)
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
