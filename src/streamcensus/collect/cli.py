"""`streamcensus collect`: one snapshot now, or one every interval."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from streamcensus.collect.metrics import collect_observed
from streamcensus.collect.runner import collect_once, parse_interval
from streamcensus.collect.session import open_collector
from streamcensus.context import AppContext, lake_url_option, pass_app
from streamcensus.logs import setup_logging
from streamcensus.metrics.probes import bind_socket


@click.command("collect")
@click.option(
    "--every", "every", metavar="INTERVAL", help="Collect on the grid, e.g. 5m, until stopped."
)
@click.option("--count", type=click.IntRange(min=1), help="With --every: stop after N snapshots.")
@click.option("--helix-url", help="Helix base URL (default: $STREAMCENSUS_HELIX_URL).")
@click.option("--auth-url", help="OAuth base URL (default: $STREAMCENSUS_AUTH_URL).")
@click.option("--language", help="Community language, e.g. fr.")
@click.option("--top-n", type=click.IntRange(min=1), help="Live channels listed per snapshot.")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="With --every: serve /metrics, /healthz and /readyz on this port of metrics_host "
    "(default: $STREAMCENSUS_COLLECTOR_METRICS_PORT; 0: off).",
)
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
    metrics_port: int | None,
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
        "collector_metrics_port": metrics_port,
    }
    settings = app.settings(**overrides)
    interval = parse_interval(every) if every else settings.interval_seconds
    if count is not None and every is None:
        raise click.UsageError("--count only applies with --every")
    if metrics_port is not None and every is None:
        raise click.UsageError("--metrics-port only applies with --every")
    port = settings.collector_metrics_port if every else 0
    sock = bind_socket(settings.metrics_host, port, "--metrics-port") if port else None
    setup_logging(settings.log_dir, verbose=verbose)

    async def main() -> None:
        async with open_collector(settings) as session:
            if every is None:
                await collect_once(session, interval)
            else:
                await collect_observed(
                    session, interval, sock, data_dir=settings.data_dir, max_snapshots=count
                )

    asyncio.run(main())
