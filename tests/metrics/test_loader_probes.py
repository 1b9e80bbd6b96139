"""The daily load service's /metrics, /healthz and /readyz over real HTTP, beside a collector
on one virtual clock across midnight: the newest loaded day, rows and phases after the load."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from metrics.scrape import promtool_check_metrics, value, wait_until_up
from streamcensus.clock import VirtualClock
from streamcensus.collect.runner import collect_every
from streamcensus.collect.session import open_collector
from streamcensus.config import load_settings
from streamcensus.load.daily import parse_load_at
from streamcensus.load.metrics import load_observed
from streamcensus.metrics.probes import bind_socket
from streamcensus.timeutil import GRID_SECONDS, UTC

DAY = dt.date(2026, 1, 1)
START = dt.datetime(2026, 1, 1, 23, 31, tzinfo=UTC)


def _at(hour: int, minute: int) -> float:
    day = DAY if hour >= 12 else DAY + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=UTC).timestamp()


async def test_loader_series_follow_the_daily_load(
    tmp_path: Path, running_simulator: Callable[..., Any]
) -> None:
    clock = VirtualClock(START, actors=3)  # the collector, the load service, this test
    handle = running_simulator(clock=clock)
    settings = load_settings(
        overrides={"data_dir": tmp_path, "load_at": "00:20", "language": "en", "top_n": 10},
        environ={},
    )
    sock = bind_socket("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop = asyncio.Event()

    async def collector() -> None:
        async with open_collector(
            settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=clock
        ) as session:
            await collect_every(session, GRID_SECONDS, stop=stop)

    collecting = asyncio.create_task(collector())
    loading = asyncio.create_task(
        load_observed(settings, clock, stop, parse_load_at(settings.load_at), sock)
    )
    async with httpx.AsyncClient(timeout=30) as http:
        await wait_until_up(http, base)
        await clock.sleep(_at(23, 40) - clock.time())
        text = (await http.get(f"{base}/metrics")).text
        assert value(text, "streamcensus_load_attempts_total", result="ok") == 1  # catch-up
        assert value(text, "streamcensus_load_attempts_total", result="failed") == 0
        assert value(text, "streamcensus_last_loaded_day_timestamp_seconds") == 0
        assert value(text, "streamcensus_loaded_rows_total", kind="snapshots") == 0
        ready = await http.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"lake": "ok", "warehouse": "ok"}

        # the 00:20 load publishes the day that ended (23:35 ... 23:55: five snapshots)
        await clock.sleep(_at(0, 25) - clock.time())
        text = (await http.get(f"{base}/metrics")).text
        assert value(text, "streamcensus_load_attempts_total", result="ok") == 2
        midnight = dt.datetime.combine(DAY, dt.time(), tzinfo=UTC).timestamp()
        assert value(text, "streamcensus_last_loaded_day_timestamp_seconds") == midnight
        assert value(text, "streamcensus_last_load_success_timestamp_seconds") == _at(0, 20)
        assert value(text, "streamcensus_loaded_rows_total", kind="snapshots") == 5
        assert value(text, "streamcensus_loaded_rows_total", kind="stream_facts") > 0
        assert value(text, "streamcensus_loaded_partitions_total", status="loaded") == 1
        assert value(text, "streamcensus_load_duration_seconds_count", phase="load") == 1
        assert value(text, "streamcensus_load_duration_seconds_count", phase="transform") == 1
        assert value(text, "streamcensus_data_dir_size_bytes") > 0
        promtool_check_metrics(text)
        ready = await http.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text

        # a warehouse that no longer opens: not ready, with the reason
        settings.warehouse_path.write_bytes(b"not a database" * 100)
        ready = await http.get(f"{base}/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["lake"] == "ok"
        assert "cannot be opened" in ready.json()["checks"]["warehouse"]
        stop.set()
    await asyncio.wait_for(collecting, 60)
    assert await asyncio.wait_for(loading, 60) == 2


async def test_a_restarted_loader_reads_the_newest_day_from_the_warehouse(
    tmp_path: Path,
) -> None:
    """The newest loaded day comes from `loaded_days` at start: a restart is no missed load."""
    import duckdb

    from streamcensus.load.metrics import LoaderMetrics

    settings = load_settings(overrides={"data_dir": tmp_path}, environ={})
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create table loaded_days (day date, complete boolean)")
    con.execute("insert into loaded_days values ('2026-03-01', true), ('2026-03-02', false)")
    con.close()
    metrics = LoaderMetrics(settings, VirtualClock(START))
    from prometheus_client import generate_latest

    text = generate_latest(metrics.registry).decode()
    march_1 = dt.datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    assert value(text, "streamcensus_last_loaded_day_timestamp_seconds") == march_1
