"""Clocks: the drivable simulated clock and the UTC helpers."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from streamcensus.clock import SimClock, WallClock
from streamcensus.timeutil import (
    UTC,
    floor_to_grid,
    isoformat_z,
    next_grid,
    parse_day,
    parse_utc,
    to_epoch,
)

START = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def test_frozen_clock_stands_still_and_advances() -> None:
    clock = SimClock(START, speed=0)
    first = clock.time()
    time.sleep(0.01)
    assert clock.time() == first == START.timestamp()
    clock.advance(90)
    assert clock.now() == START + dt.timedelta(seconds=90)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_speed_up_flows_faster_than_real_time() -> None:
    clock = SimClock(START, speed=1000)
    time.sleep(0.05)
    elapsed = clock.time() - START.timestamp()
    assert 40 <= elapsed <= 1000  # 0.05 s real at 1000x, with a generous upper bound


def test_set_speed_keeps_reading_and_state_round_trips() -> None:
    clock = SimClock(START, speed=0)
    clock.set_speed(0)
    state = clock.state()
    assert state.epoch == START.timestamp() and state.speed == 0
    mirror = SimClock()
    mirror.sync(state)
    assert mirror.time() == START.timestamp()
    assert state.to_json()["now"] == "2026-11-27T20:00:00+00:00"
    with pytest.raises(ValueError):
        SimClock(START, speed=-1)
    with pytest.raises(ValueError):
        clock.set_speed(float("nan"))


async def test_sleep_on_frozen_clock_advances_virtual_time() -> None:
    clock = SimClock(START, speed=0)
    await clock.sleep(30)
    assert clock.time() == START.timestamp() + 30


async def test_sleep_on_fast_clock_takes_scaled_real_time() -> None:
    clock = SimClock(START, speed=600)
    before = time.monotonic()
    await clock.sleep(6)  # 6 simulated seconds = 10 ms real
    assert time.monotonic() - before < 1.0
    assert clock.time() >= START.timestamp() + 6


def test_wall_clock_is_aware_utc() -> None:
    now = WallClock().now()
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)


def test_grid_and_parsing() -> None:
    moment = dt.datetime(2026, 11, 27, 20, 7, 31, tzinfo=UTC)
    assert floor_to_grid(moment) == dt.datetime(2026, 11, 27, 20, 5, tzinfo=UTC)
    assert next_grid(moment) == dt.datetime(2026, 11, 27, 20, 10, tzinfo=UTC)
    assert next_grid(START) == START + dt.timedelta(minutes=5)
    assert parse_utc("2026-11-27T20:00:00Z") == START
    assert parse_utc("2026-11-27T21:00:00+01:00") == START
    assert parse_utc("2026-11-27 20:00") == START
    assert isoformat_z(START) == "2026-11-27T20:00:00Z"
    assert parse_day("2026-11-27") == START.date()
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_day("27/11/2026")
    with pytest.raises(ValueError, match="naive"):
        to_epoch(dt.datetime(2026, 1, 1))
