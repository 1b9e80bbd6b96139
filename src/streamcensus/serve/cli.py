"""`streamcensus serve` (the dashboard and JSON API) and `streamcensus export --static DIR`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from streamcensus.config import Settings
from streamcensus.context import AppContext
from streamcensus.metrics.probes import bind_socket
from streamcensus.timeutil import parse_day

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI


def dashboard_url(host: str, port: int) -> str:
    """The address a person opens in a browser."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def make_server(settings: Settings, app: FastAPI | None = None) -> uvicorn.Server:
    """A uvicorn server for the dashboard (or `app`), quiet, ready to `run(sockets=...)`."""
    import uvicorn

    from streamcensus.serve.app import create_app

    config = uvicorn.Config(
        app or create_app(settings, warm=True),
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


def run_server(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    announce: Callable[[str], None] = click.echo,
) -> None:
    """Serve the dashboard until Ctrl-C, after announcing its URL."""
    host = host or settings.host
    port = port or settings.port
    sock = bind_socket(host, port)
    server = make_server(settings.model_copy(update={"host": host, "port": port}))
    announce(f"streamcensus dashboard on {dashboard_url(host, port)} (Ctrl-C to stop)")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def serve_until_interrupted(settings: Settings, console: Console) -> None:
    """Serve the dashboard on the configured host and port until Ctrl-C (for `demo`)."""
    run_server(settings, announce=lambda line: console.print(line, highlight=False))


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: 8000).")
@click.pass_obj
def serve_command(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the dashboard and JSON API over the warehouse (read-only)."""
    settings = app.settings(host=host, port=port)
    run_server(settings)


def _day_option(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


@click.command("export")
@click.option(
    "--static",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the static dashboard to (empty, or an earlier export).",
)
@click.option("--from", "first", metavar="YYYY-MM-DD", help="First day (default: the first).")
@click.option("--to", "last", metavar="YYYY-MM-DD", help="Last day (default: the latest).")
@click.option(
    "--channels",
    "channel_limit",
    type=click.IntRange(0, 1000),
    default=50,
    show_default=True,
    help="Channel pages exported: the channels with the most viewer-hours.",
)
@click.pass_obj
def export_command(
    app: AppContext, out_dir: Path, first: str | None, last: str | None, channel_limit: int
) -> None:
    """Write the dashboard as static files with precomputed data for a range of days."""
    from streamcensus.serve.export import export_static

    first_day = _day_option(first, "--from")
    last_day = _day_option(last, "--to")
    report = export_static(app.settings(), out_dir, first_day, last_day, channel_limit)
    span = (
        report.days[0].isoformat()
        if len(report.days) == 1
        else f"{report.days[0]} to {report.days[-1]}"
    )
    click.echo(
        f"exported {span} ({len(report.days)} days, {report.channels} channel pages): "
        f"{report.files} files, {report.bytes / 1e6:.1f} MB in {out_dir}"
    )
    click.echo(f"open {out_dir / 'index.html'} in a browser, or serve the directory as it is")
