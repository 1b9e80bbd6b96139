"""The daily load as a long-running service: `streamcensus load --every-day-at HH:MM`.

It loads every finished day not loaded yet when it starts (a missed load is caught up)
and then once a day at the given UTC time, until SIGINT/SIGTERM. It is a process of its
own, so a service manager supervises it apart from the collector and the dashboard; it
may run on another machine than the collector, reading the same lake. The current day
is never loaded: it is published once it is over.

While the dashboard (another process) holds the warehouse open for a request, DuckDB
refuses the loader's write lock: the load is tried again every `BUSY_WAIT` seconds, up to
`BUSY_TRIES` times; the dashboard answers 503 for the few seconds a load holds the lock.
A load that fails is logged and retried at the next one: the service goes on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from streamcensus.clock import Clock
from streamcensus.config import Settings
from streamcensus.errors import UserError
from streamcensus.load.loader import LoadReport, load_days

log = logging.getLogger("streamcensus.load")

BUSY_WAIT = 10.0  # seconds between tries while the dashboard holds the warehouse
BUSY_TRIES = 30

Loader = Callable[[Settings, Clock], LoadReport | None]


def parse_load_at(text: str) -> dt.time:
    """`HH:MM` (UTC) → time; a clear error otherwise."""
    try:
        moment = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"the daily load time must be HH:MM in UTC, got {text!r}") from None
    return moment.replace(tzinfo=dt.UTC)


def next_load_time(now: dt.datetime, load_at: dt.time) -> dt.datetime:
    """The first `load_at` strictly after `now`."""
    candidate = dt.datetime.combine(now.date(), load_at.replace(tzinfo=None), tzinfo=dt.UTC)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


def load_pending(settings: Settings, clock: Clock) -> LoadReport:
    """Load every complete day not loaded yet (yesterday, and any missed): today is left
    for tomorrow's load, so only finished days are published."""
    return load_days(settings, None, clock=clock)


async def _sleep_until(clock: Clock, due: dt.datetime, stop: asyncio.Event) -> bool:
    """Sleep on `clock` until `due`; False if `stop` was set first."""
    waiter = asyncio.ensure_future(clock.sleep(max(0.0, (due - clock.now()).total_seconds())))
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (waiter, stopper):
        task.cancel()
    return not stop.is_set()


async def load_once(
    settings: Settings, clock: Clock, stop: asyncio.Event, load: Loader = load_pending
) -> bool:
    """One load in a worker thread, tried again while the warehouse is busy; True if done."""
    for attempt in range(1, BUSY_TRIES + 1):
        try:
            await asyncio.to_thread(load, settings, clock)
            return True
        except UserError as exc:
            if "in use by another process" not in str(exc) or attempt == BUSY_TRIES:
                log.error("load failed: %s", exc)
                return False
            log.info("warehouse busy (%s); trying again in %.0f s", exc, BUSY_WAIT)
        except Exception:  # logged; the service goes on and the next load catches up
            log.exception("load failed; the next daily load (or `load --all`) retries it")
            return False
        if not await _sleep_until(clock, clock.now() + dt.timedelta(seconds=BUSY_WAIT), stop):
            return False
    return False


async def daily_loads(
    settings: Settings,
    clock: Clock,
    stop: asyncio.Event,
    load_at: dt.time,
    *,
    load: Loader = load_pending,
    catch_up: bool = True,
) -> int:
    """Load pending days now (with `catch_up`), then daily at `load_at` until `stop`;
    return the number of loads that succeeded."""
    loads = 0
    if catch_up and not stop.is_set():
        log.info("catching up: loading every finished day not loaded yet")
        loads += await load_once(settings, clock, stop, load)
    while not stop.is_set():
        due = next_load_time(clock.now(), load_at)
        log.info("next daily load at %s", due.isoformat())
        if not await _sleep_until(clock, due, stop):
            break
        log.info("daily load (every finished day not loaded yet)")
        loads += await load_once(settings, clock, stop, load)
    return loads
