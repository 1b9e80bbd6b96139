"""`streamcensus collect`: one snapshot now, or one every interval."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from streamcensus.collect.runner import collect_every, collect_once, parse_interval
from streamcensus.collect.session import open_collector
from streamcensus.context import AppContext, lake_url_option, pass_app
from streamcensus.logs import setup_logging


@click.command("collect")
@click.option(
    "--every", "every", metavar="INTERVAL", help="Collect on the grid, e.g. 5m, until stopped."
)
@click.option("--count", type=click.IntRange(min=1), help="With --every: stop after N snapshots.")
@click.option("--helix-url", help="Helix base URL (default: $STREAMCENSUS_HELIX_URL).")
@click.option("--auth-url", help="OAuth base URL (default: $STREAMCENSUS_AUTH_URL).")
@click.option("--language", help="Community language, e.g. fr.")
@click.option("--top-n", type=click.IntRange(min=1), help="Live channels listed per snapshot.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@lake_url_option
@pass_app
def collect_command(
    app: AppContext,
    every: str | None,
    count: int | None,
    helix_url: str | None,
    auth_url: str | None,
    language: str | None,
    top_n: int | None,
    verbose: bool,
    lake_url: str | None,
) -> None:
    """Take a snapshot of the community now (or one every INTERVAL with --every)."""
    overrides: dict[str, Any] = {
        "helix_url": helix_url,
        "auth_url": auth_url,
        "language": language,
        "top_n": top_n,
        "lake_url": lake_url,
    }
    settings = app.settings(**overrides)
    interval = parse_interval(every) if every else settings.interval_seconds
    if count is not None and every is None:
        raise click.UsageError("--count only applies with --every")
    setup_logging(settings.log_dir, verbose=verbose)

    async def main() -> None:
        async with open_collector(settings) as session:
            if every is None:
                await collect_once(session, interval)
            else:
                await collect_every(session, interval, max_snapshots=count)

    asyncio.run(main())
