"""Clocks: the drivable simulated clock and the UTC helpers."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from streamcensus.clock import SimClock, VirtualClock, WallClock
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


class FakeMonotonic:
    """A real-time source the test moves by hand."""

    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


def test_speed_up_flows_faster_than_real_time() -> None:
    real = FakeMonotonic()
    clock = SimClock(START, speed=1000, monotonic=real)
    real.value += 0.05
    assert clock.time() - START.timestamp() == pytest.approx(50.0)
    clock.set_speed(10)
    real.value += 2
    assert clock.time() - START.timestamp() == pytest.approx(70.0)


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


async def test_sleep_on_fast_clock_takes_scaled_real_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    clock = SimClock(START, speed=600)
    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    await clock.sleep(6)  # 6 simulated seconds = 10 ms real
    assert waits == [pytest.approx(0.01)]


async def test_virtual_clock_jumps_to_each_deadline_in_order() -> None:
    clock = VirtualClock(START, actors=2)
    woke: list[tuple[str, float]] = []

    async def loop(name: str, every: float) -> None:
        while True:
            await clock.sleep(every)
            woke.append((name, clock.time() - START.timestamp()))

    tasks = [asyncio.create_task(loop("grid", 300)), asyncio.create_task(loop("daily", 1000))]
    while len(woke) < 6:
        await asyncio.sleep(0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert woke == [
        ("grid", 300),
        ("grid", 600),
        ("grid", 900),
        ("daily", 1000),
        ("grid", 1200),
        ("grid", 1500),
    ]
    assert clock.pending == 0  # cancelled sleeps leave the queue


async def test_virtual_clock_stands_still_while_an_actor_works() -> None:
    clock = VirtualClock(START, actors=2)
    sleeper = asyncio.create_task(clock.sleep(60))
    for _ in range(50):  # the other actor works for many loop turns: time stands still
        await asyncio.sleep(0)
        assert clock.time() == START.timestamp() and not sleeper.done()
    await clock.sleep(5)  # now both actors sleep: time jumps to the earliest deadline
    assert clock.time() == START.timestamp() + 5 and not sleeper.done()
    clock.advance(55)  # the test may also move it by hand
    await sleeper
    assert clock.time() == START.timestamp() + 60 and clock.pending == 0
    assert clock.state().speed == 0
    with pytest.raises(ValueError):
        clock.set(START)


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
