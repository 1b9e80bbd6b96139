"""The long-running service's scheduling: daily load times and the load loop."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from streamcensus.clock import SimClock, VirtualClock
from streamcensus.config import Settings, load_settings
from streamcensus.errors import UserError
from streamcensus.lake.reader import day_status
from streamcensus.run import daily_loads, next_load_time, parse_load_at, serve_and_collect
from streamcensus.timeutil import UTC


def test_next_load_time() -> None:
    at = parse_load_at("02:00")
    assert next_load_time(dt.datetime(2026, 11, 27, 1, 0, tzinfo=UTC), at) == dt.datetime(
        2026, 11, 27, 2, 0, tzinfo=UTC
    )
    assert next_load_time(dt.datetime(2026, 11, 27, 2, 0, tzinfo=UTC), at) == dt.datetime(
        2026, 11, 28, 2, 0, tzinfo=UTC
    )
    with pytest.raises(UserError, match="HH:MM"):
        parse_load_at("2am")


async def test_daily_loads_load_yesterday_each_day(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path, "load_at": "02:00"}, environ={})
    clock = SimClock(dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC), speed=0)
    stop = asyncio.Event()
    loaded: list[dt.date] = []

    def load(_settings: Settings, days: list[dt.date]) -> None:
        loaded.extend(days)
        if len(loaded) == 3:
            stop.set()
        if len(loaded) == 2:
            raise RuntimeError("a failing load is logged and does not stop the service")

    count = await asyncio.wait_for(daily_loads(settings, clock, stop, load), timeout=10)
    assert loaded == [dt.date(2026, 11, 27), dt.date(2026, 11, 28), dt.date(2026, 11, 29)]
    assert count == 2
    assert clock.now() == dt.datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


async def test_a_run_across_midnight_publishes_only_the_finished_day(
    tmp_path: Path, running_simulator: Callable[..., Any]
) -> None:
    """The service on virtual time from 23:30 to 00:45: the collector takes a snapshot every
    five minutes on both days, the daily load at 00:20 publishes the day that ended, and
    the new day's snapshots wait in the lake."""
    day = dt.date(2026, 1, 1)
    start = dt.datetime(2026, 1, 1, 23, 31, tzinfo=UTC)
    stop_at = dt.datetime(2026, 1, 2, 0, 45, tzinfo=UTC)
    clock = VirtualClock(start, actors=3)  # the collector, the daily load, this test
    handle = running_simulator(clock=clock)
    settings = load_settings(
        overrides={"data_dir": tmp_path, "load_at": "00:20", "language": "en", "top_n": 10},
        environ={},
    )
    stop = asyncio.Event()

    async def stopper() -> None:
        await clock.sleep((stop_at - start).total_seconds())
        stop.set()

    await asyncio.wait_for(
        asyncio.gather(
            serve_and_collect(
                settings,
                serve=False,
                clock=clock,
                stop=stop,
                helix_url=handle.helix_url,
                auth_url=handle.auth_url,
            ),
            stopper(),
        ),
        timeout=120,
    )
    lake = day_status(settings.lake_dir)
    assert lake[day.isoformat()]["snapshots_complete"] == 5  # 23:35 ... 23:55
    assert lake["2026-01-02"]["snapshots_complete"] == 9  # 00:00 ... 00:40
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert con.execute("select day, complete from loaded_days").fetchall() == [(day, True)]
        days = con.execute("select distinct day from community_timeseries").fetchall()
        assert days == [(day,)]
        assert con.execute("select count(*) from community_timeseries").fetchall() == [(5,)]
    finally:
        con.close()
