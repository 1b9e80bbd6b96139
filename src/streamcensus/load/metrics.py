"""The daily load service's series and readiness, from each load's report.

`LoaderMetrics.wrap(load)` returns the same load function, counted: the service
(`load/daily.py`) is unchanged, the report of each load becomes the series (attempts,
duration by phase, rows and days loaded, files quarantined, the newest loaded day). The
newest loaded day is read from the warehouse when the service starts, so a restart does
not look like a missed load.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import uuid

from prometheus_client import Counter, Gauge, Histogram

from streamcensus.clock import Clock
from streamcensus.config import Settings
from streamcensus.fsutil import private_dir
from streamcensus.lake.storage import LakeStorage
from streamcensus.lake.stores import open_lake
from streamcensus.load.daily import Loader, daily_loads, load_pending
from streamcensus.load.loader import LoadReport
from streamcensus.metrics.probes import Check, Probes, probe_server
from streamcensus.metrics.registry import new_registry
from streamcensus.warehouse.connection import connect, table_exists

LOAD_PHASES = ("load", "transform", "check")
LOADED_ROWS = (
    "snapshots",
    "stream_facts",
    "presence_observations",
    "activity_observations",
    "viewing_sessions",
)
LOAD_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0)


def _midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()


def newest_loaded_day(settings: Settings) -> dt.date | None:
    """The newest complete day in the warehouse's `loaded_days` (None: none, no warehouse)."""
    if not settings.warehouse_path.is_file():
        return None
    con = connect(settings.warehouse_path, read_only=True)
    try:
        if not table_exists(con, "loaded_days"):
            return None
        rows = con.execute("select max(day) from loaded_days where complete").fetchall()
    finally:
        con.close()
    day = rows[0][0] if rows else None
    return day if isinstance(day, dt.date) else None


class LoaderMetrics:
    """The load service's registry, series and readiness checks."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.registry = r = new_registry("loader", settings.data_dir)
        self._clock = clock
        self._busy = threading.Lock()  # held by a load, so a readiness probe never blocks it
        self.attempts = Counter(
            "streamcensus_load_attempts",
            "Load attempts by result (ok, failed; a try while the dashboard held the "
            "warehouse counts as failed and is tried again)",
            ["result"],
            registry=r,
        )
        for result in ("ok", "failed"):
            self.attempts.labels(result)
        self.last_success = Gauge(
            "streamcensus_last_load_success_timestamp_seconds",
            "When the latest load succeeded (Unix time; 0 before the first)",
            registry=r,
        )
        self.last_day = Gauge(
            "streamcensus_last_loaded_day_timestamp_seconds",
            "Midnight UTC of the newest complete day in the warehouse (Unix time; 0: none)",
            registry=r,
        )
        self.duration = Histogram(
            "streamcensus_load_duration_seconds",
            "Seconds each phase of a load took (load, transform, check)",
            ["phase"],
            buckets=LOAD_BUCKETS,
            registry=r,
        )
        self.rows = Counter(
            "streamcensus_loaded_rows",
            "Rows loaded, by kind (snapshots, stream facts, presence and activity "
            "observations, viewing sessions)",
            ["kind"],
            registry=r,
        )
        for kind in LOADED_ROWS:
            self.rows.labels(kind)
        self.days = Counter(
            "streamcensus_loaded_partitions",
            "Days (lake partitions) loaded, by status (loaded, reloaded, refreshed)",
            ["status"],
            registry=r,
        )
        self.quarantined = Counter(
            "streamcensus_quarantined_files",
            "Raw files quarantined by loads (corrupt or not as the contract says)",
            registry=r,
        )
        newest = newest_loaded_day(settings)
        self._newest = _midnight(newest) if newest is not None else 0.0
        self.last_day.set(self._newest)

    def observe_load(self, report: LoadReport) -> None:
        """Count one successful load from its report."""
        self.attempts.labels("ok").inc()
        self.last_success.set(self._clock.time())
        if report.days:
            for phase, seconds in zip(
                LOAD_PHASES,
                (report.load_seconds, report.transform_seconds, report.check_seconds),
                strict=True,
            ):
                self.duration.labels(phase).observe(seconds)
        for day in report.days:
            self.days.labels(day.status).inc()
            for kind in LOADED_ROWS:
                self.rows.labels(kind).inc(getattr(day, kind))
            self.quarantined.inc(len(day.quarantined))
        complete = [d.day for d in report.days if d.complete]
        if complete:
            self._newest = max(self._newest, _midnight(max(complete)))
            self.last_day.set(self._newest)

    def wrap(self, load: Loader) -> Loader:
        """`load`, counted: its report observed, a failure counted and raised again."""

        def counted(settings: Settings, clock: Clock) -> LoadReport | None:
            with self._busy:
                try:
                    report = load(settings, clock)
                except BaseException:
                    self.attempts.labels("failed").inc()
                    raise
            if report is not None:
                self.observe_load(report)
            else:
                self.attempts.labels("ok").inc()
                self.last_success.set(self._clock.time())
            return report

        return counted

    def warehouse_check(self) -> Check:
        """Ready while the data directory takes a file and the warehouse opens (skipped
        while a load holds it: that load is the proof)."""
        settings = self.settings

        def probe() -> str | None:
            folder = settings.warehouse_path.parent
            scratch = folder / f".readyz-{uuid.uuid4().hex}"
            try:
                private_dir(folder)
                scratch.write_bytes(b"")
                scratch.unlink()
            except OSError as exc:
                return f"cannot write in {folder}: {exc.strerror or exc}"
            if not self._busy.acquire(blocking=False):
                return None
            try:
                if settings.warehouse_path.exists():
                    connect(settings.warehouse_path, read_only=True).close()
            except Exception as exc:
                return f"the warehouse {settings.warehouse_path} cannot be opened: {exc}"
            finally:
                self._busy.release()
            return None

        async def check() -> str | None:
            return await asyncio.to_thread(probe)

        return check


def lake_readable_check(storage: LakeStorage) -> Check:
    """Ready while the lake can be reached and its raw zone listed."""

    def probe() -> None:
        storage.check()
        storage.list_dirs("raw/")

    async def check() -> str | None:
        try:
            await asyncio.to_thread(probe)
        except Exception as exc:
            return f"lake {storage.url} cannot be listed: {exc}"
        return None

    return check


async def load_observed(
    settings: Settings,
    clock: Clock,
    stop: asyncio.Event,
    load_at: dt.time,
    sock: socket.socket | None,
    *,
    load: Loader = load_pending,
) -> int:
    """`daily_loads`, with `/metrics`, `/healthz` and `/readyz` on `sock` (when given)."""
    if sock is None:
        return await daily_loads(settings, clock, stop, load_at, load=load)
    metrics = LoaderMetrics(settings, clock)
    probes = Probes(
        metrics.registry,
        {
            "lake": lake_readable_check(open_lake(settings)),
            "warehouse": metrics.warehouse_check(),
        },
    )
    async with probe_server(probes, sock):
        return await daily_loads(settings, clock, stop, load_at, load=metrics.wrap(load))
