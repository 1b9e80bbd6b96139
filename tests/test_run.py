"""The long-running service's scheduling: daily load times and the load loop."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from streamcensus.clock import SimClock
from streamcensus.config import Settings, load_settings
from streamcensus.errors import UserError
from streamcensus.run import daily_loads, next_load_time, parse_load_at
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
