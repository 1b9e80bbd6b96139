"""`streamcensus run`: the whole service on one machine, as supervised child processes.

The long-running parts are separate commands that a service manager (systemd, see
`deploy/`) can run on one machine or several:

    streamcensus collect --every 5m        the collector, writing to the lake
    streamcensus load --every-day-at 02:00 the daily load, reading the lake
    streamcensus serve                     the dashboard, reading the warehouse

`run` starts the same three commands as child processes (plus `streamcensus simulator`
when `source = "simulator"`, with the collector pointed at it), restarts one that stops
unexpectedly after a backoff (1 s, doubling, at most `MAX_BACKOFF`), gives up on all of
them when one exits with a usage or configuration error (code 2: restarting would not
help), and on SIGINT/SIGTERM sends SIGTERM to each child and waits for it: a snapshot or
a load under way finishes first. No part runs as a thread of another any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import click

from streamcensus.clock import Clock, WallClock
from streamcensus.config import Settings
from streamcensus.context import AppContext, lake_url_option, pass_app
from streamcensus.load.daily import parse_load_at
from streamcensus.logs import setup_logging

log = logging.getLogger("streamcensus.run")

MAX_BACKOFF = 60.0
STOP_GRACE = 120.0  # seconds a child gets to finish after SIGTERM (a snapshot, a load)
USAGE_ERROR = 2  # `streamcensus: error:` on bad input or configuration


@dataclass
class Child:
    """One supervised command."""

    name: str
    argv: list[str]
    ready_port: int | None = None  # the children after it start once this port answers
    starts: int = 0
    exit_codes: list[int] = field(default_factory=list)


class Process(Protocol):
    """What the supervisor needs of a child process (asyncio's, or a test's)."""

    @property
    def pid(self) -> int: ...

    async def wait(self) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


Spawn = Callable[[Sequence[str]], Awaitable[Process]]


async def spawn_process(argv: Sequence[str]) -> Process:
    return await asyncio.create_subprocess_exec(*argv)


READY_TRIES = 600  # polls of a child's port, READY_POLL apart (building an fr population)
READY_POLL = 0.2


async def _port_answers(port: int, stop: asyncio.Event) -> bool:
    for _ in range(READY_TRIES):
        if stop.is_set():
            return False
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(READY_POLL)
            continue
        writer.close()
        return True
    return False


async def _run_child(
    child: Child,
    spawn: Spawn,
    clock: Clock,
    stop: asyncio.Event,
    fatal: asyncio.Event,
    started: asyncio.Event,
) -> None:
    """Keep one child running until `stop`; a usage error (exit 2) sets `fatal`;
    `started` is set once it runs (and its `ready_port` answers)."""
    backoff = 1.0
    while not stop.is_set():
        process = await spawn(child.argv)
        child.starts += 1
        log.info("started %s (pid %d): %s", child.name, process.pid, " ".join(child.argv))
        if child.ready_port is not None and not started.is_set():
            await _port_answers(child.ready_port, stop)
        started.set()
        waiter = asyncio.ensure_future(process.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not waiter.done():  # stopping: ask the child to finish, then insist
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), STOP_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await waiter
            child.exit_codes.append(waiter.result())
            return
        code = waiter.result()
        child.exit_codes.append(code)
        if code == USAGE_ERROR:
            log.error("%s exited with a usage or configuration error: stopping", child.name)
            fatal.set()
            stop.set()
            return
        log.warning("%s exited with code %d; restarting in %.0f s", child.name, code, backoff)
        sleeper = asyncio.ensure_future(clock.sleep(backoff))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, stopper):
            task.cancel()
        backoff = min(MAX_BACKOFF, backoff * 2)


async def supervise(
    children: Sequence[Child],
    stop: asyncio.Event,
    *,
    clock: Clock | None = None,
    spawn: Spawn = spawn_process,
) -> int:
    """Run every child until `stop`, each started once the one before it runs; return 2
    if one gave a usage error, else 0."""
    fatal = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    for child in children:
        started = asyncio.Event()
        tasks.append(
            asyncio.create_task(
                _run_child(child, spawn, clock or WallClock(), stop, fatal, started)
            )
        )
        waiter = asyncio.ensure_future(started.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()
        if stop.is_set():
            break
    await asyncio.gather(*tasks)
    return USAGE_ERROR if fatal.is_set() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_commands(
    settings: Settings, app: AppContext, *, serve: bool, simulator_port: int | None = None
) -> list[Child]:
    """The children of `run`: [simulator,] collector, daily load [, dashboard]."""
    base = [sys.executable, "-m", "streamcensus"]
    if app.config_file is not None:
        base += ["--config", str(app.config_file)]
    base += ["--data-dir", str(settings.data_dir)]
    lake = ["--lake-url", settings.lake_url] if settings.lake_url else []
    children: list[Child] = []
    collect = [*base, "collect", "--every", "5m", *lake]
    if settings.source == "simulator":
        port = simulator_port or _free_port()
        children.append(
            Child(
                "simulator",
                [
                    *base,
                    "simulator",
                    "--port",
                    str(port),
                    "--scale",
                    settings.sim_scale,
                    "--seed",
                    str(settings.sim_seed),
                    "--permissions",
                    settings.sim_permissions,
                    "--operator-moderates",
                    ",".join(settings.sim_operator_moderates),
                    "--consent-share",
                    str(settings.sim_consent_share),
                ],
                ready_port=port,
            )
        )
        url = f"http://127.0.0.1:{port}"
        collect += ["--helix-url", f"{url}/helix", "--auth-url", f"{url}/oauth2"]
    children.append(Child("collector", collect))
    children.append(Child("loader", [*base, "load", "--every-day-at", settings.load_at, *lake]))
    if serve:
        children.append(Child("dashboard", [*base, "serve"]))
    return children


async def run_service(children: Sequence[Child]) -> int:
    """Supervise `children` until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await supervise(children, stop)


@click.command("run")
@click.option("--no-serve", is_flag=True, help="Collect and load only; no dashboard.")
@lake_url_option
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@pass_app
def run_command(app: AppContext, no_serve: bool, lake_url: str | None, verbose: bool) -> None:
    """Run the service on this machine: the collector, the daily load and the dashboard as
    supervised child processes (each is also a command of its own)."""
    settings = app.settings(lake_url=lake_url)
    parse_load_at(settings.load_at)
    setup_logging(settings.log_dir, verbose=verbose)
    children = service_commands(settings, app, serve=not no_serve)
    code = asyncio.run(run_service(children))
    if code:
        raise SystemExit(code)
