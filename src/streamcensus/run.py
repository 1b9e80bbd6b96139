"""`streamcensus run`: the long-running service — collect every 5 minutes, load daily, serve.

One process, one event loop: the collector on the grid, a daily load at `load_at` (UTC)
of every finished day not loaded yet, in a worker thread, and the dashboard. The current
day is never loaded by the service: it is published once it is over. With `source = "simulator"` a
simulated Twitch runs in the same process at real time, so the service can be tried
without an account; with `source = "helix"` it talks to `helix_url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import click

from streamcensus.clock import Clock, SimClock, WallClock
from streamcensus.collect.runner import collect_every
from streamcensus.collect.session import open_collector
from streamcensus.config import Settings
from streamcensus.context import AppContext, pass_app
from streamcensus.errors import UserError
from streamcensus.load.loader import load_days
from streamcensus.logs import setup_logging
from streamcensus.timeutil import GRID_SECONDS

log = logging.getLogger("streamcensus.run")


def parse_load_at(text: str) -> dt.time:
    """`HH:MM` (UTC) → time; a clear error otherwise."""
    try:
        moment = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"load_at must be HH:MM in UTC, got {text!r}") from None
    return moment.replace(tzinfo=dt.UTC)


def next_load_time(now: dt.datetime, load_at: dt.time) -> dt.datetime:
    """The first `load_at` strictly after `now`."""
    candidate = dt.datetime.combine(now.date(), load_at.replace(tzinfo=None), tzinfo=dt.UTC)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


async def daily_loads(
    settings: Settings,
    clock: Clock,
    stop: asyncio.Event,
    load: Callable[[Settings, list[dt.date]], Any],
) -> int:
    """Load yesterday at `load_at` every day until `stop`; return the number of loads."""
    load_at = parse_load_at(settings.load_at)
    loads = 0
    while not stop.is_set():
        due = next_load_time(clock.now(), load_at)
        waiter = asyncio.ensure_future(clock.sleep((due - clock.now()).total_seconds()))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()
        if stop.is_set():
            break
        day = due.date() - dt.timedelta(days=1)
        log.info("daily load of %s", day)
        try:
            await asyncio.to_thread(load, settings, [day])
            loads += 1
        except Exception:  # a failed load is logged; collection goes on (it is re-run later)
            log.exception("daily load of %s failed; `streamcensus load --all` retries it", day)
    return loads


def load_pending(settings: Settings, clock: Clock) -> None:
    """Load every complete day not loaded yet (yesterday, and any missed): today is left
    for tomorrow's load, so only finished days are published."""
    load_days(settings, None, clock=clock)


@contextlib.contextmanager
def _simulator(settings: Settings) -> Iterator[tuple[str | None, str | None, Clock]]:
    if settings.source != "simulator":
        yield None, None, WallClock()
        return
    from streamcensus.simulator.server import running_simulator
    from streamcensus.simulator.world import PopulationWorld

    clock = SimClock(speed=1.0)
    world = PopulationWorld(scale=settings.sim_scale, seed=settings.sim_seed)
    with running_simulator(world, clock) as handle:
        log.info("simulated Twitch (%s) on %s", settings.sim_scale, handle.base_url)
        yield handle.helix_url, handle.auth_url, clock


LoadPause = Callable[[], contextlib.AbstractContextManager[None]]


@contextlib.asynccontextmanager
async def _dashboard(settings: Settings, enabled: bool) -> AsyncIterator[LoadPause]:
    """Serve the dashboard in this loop; yield how to pause its reads during a load."""
    if not enabled:
        yield contextlib.nullcontext
        return
    from streamcensus.serve.app import create_app
    from streamcensus.serve.cli import bind_socket, dashboard_url, make_server

    sock = bind_socket(settings.host, settings.port)
    app = create_app(settings)
    server = make_server(settings, app)
    # the service owns SIGINT/SIGTERM (they stop the collector first)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    log.info("dashboard on %s", dashboard_url(settings.host, settings.port))
    # DuckDB allows no read-write open while this process holds a read-only connection
    pool = app.state.serve.pool
    try:
        yield pool.paused
    finally:
        server.should_exit = True
        await task
        sock.close()


async def serve_and_collect(
    settings: Settings,
    *,
    serve: bool,
    clock: Clock,
    stop: asyncio.Event,
    helix_url: str | None = None,
    auth_url: str | None = None,
) -> None:
    """The service's loops on `clock` until `stop`: collect on the grid, load daily, serve.

    With a clock passed in (a simulator's, or a test's `VirtualClock`), the collector, the
    daily load and retention all keep that time."""
    async with (
        open_collector(settings, helix_url=helix_url, auth_url=auth_url, clock=clock) as session,
        _dashboard(settings, serve) as pause,
    ):

        def load(settings: Settings, days: list[dt.date]) -> None:
            del days  # yesterday is among the pending days
            with pause():
                load_pending(settings, clock)

        loader = asyncio.create_task(daily_loads(settings, clock, stop, load))
        await collect_every(session, GRID_SECONDS, stop=stop)
        stop.set()
        await loader


async def run_service(settings: Settings, *, serve: bool) -> None:
    """Collect, load and serve until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with _simulator(settings) as (helix_url, auth_url, clock):
        await serve_and_collect(
            settings, serve=serve, clock=clock, stop=stop, helix_url=helix_url, auth_url=auth_url
        )


@click.command("run")
@click.option("--no-serve", is_flag=True, help="Collect and load only; no dashboard.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@pass_app
def run_command(app: AppContext, no_serve: bool, verbose: bool) -> None:
    """Run the service: collect every interval, load yesterday daily, serve the dashboard."""
    settings = app.settings()
    parse_load_at(settings.load_at)
    setup_logging(settings.log_dir, verbose=verbose)
    asyncio.run(run_service(settings, serve=not no_serve))
