"""The service as separate processes: the daily load service's schedule, the collector and
the loader side by side on one virtual clock, and `run`'s supervisor of child processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from streamcensus.clock import SimClock, VirtualClock
from streamcensus.collect.runner import collect_every
from streamcensus.collect.session import open_collector
from streamcensus.config import Settings, load_settings
from streamcensus.context import AppContext
from streamcensus.errors import UserError
from streamcensus.lake.reader import day_status
from streamcensus.load import daily
from streamcensus.load.daily import daily_loads, load_pending, next_load_time, parse_load_at
from streamcensus.logs import LOG_FILE
from streamcensus.run import Child, service_commands, supervise
from streamcensus.timeutil import GRID_SECONDS, UTC


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


async def test_the_load_service_catches_up_then_loads_daily(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path}, environ={})
    clock = SimClock(dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC), speed=0)
    stop = asyncio.Event()
    times: list[dt.datetime] = []

    def load(_settings: Settings, at_clock: Any) -> None:
        times.append(at_clock.now())
        if len(times) == 4:
            stop.set()
        if len(times) == 2:
            raise RuntimeError("a failing load is logged and does not stop the service")

    count = await asyncio.wait_for(
        daily_loads(settings, clock, stop, parse_load_at("02:00"), load=load), timeout=10
    )
    assert times == [
        dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC),  # catching up when it starts
        dt.datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 29, 2, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
    ]
    assert count == 3


async def test_a_busy_warehouse_is_tried_again(tmp_path: Path) -> None:
    """The dashboard (another process) holds the warehouse: the load waits and retries."""
    settings = load_settings(overrides={"data_dir": tmp_path}, environ={})
    start = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    clock = SimClock(start, speed=0)
    tries: list[dt.datetime] = []

    def load(_settings: Settings, at_clock: Any) -> None:
        tries.append(at_clock.now())
        if len(tries) < 3:
            raise UserError("the warehouse w is in use by another process; stop it")

    assert await daily.load_once(settings, clock, asyncio.Event(), load) is True
    step = dt.timedelta(seconds=daily.BUSY_WAIT)
    assert tries == [start, start + step, start + 2 * step]

    def broken(_settings: Settings, _clock: Any) -> None:
        raise UserError("no raw files")

    assert await daily.load_once(settings, clock, asyncio.Event(), broken) is False


async def test_collector_and_loader_side_by_side_across_midnight(
    tmp_path: Path, running_simulator: Callable[..., Any]
) -> None:
    """The collector loop and the daily load service (separate processes in production)
    on one virtual clock from 23:31 to 00:45: a snapshot every five minutes on both days,
    the load at 00:20 publishes the day that ended, the new day's snapshots wait."""
    day = dt.date(2026, 1, 1)
    start = dt.datetime(2026, 1, 1, 23, 31, tzinfo=UTC)
    stop_at = dt.datetime(2026, 1, 2, 0, 45, tzinfo=UTC)
    clock = VirtualClock(start, actors=3)  # the collector, the load service, this test
    handle = running_simulator(clock=clock)
    settings = load_settings(
        overrides={"data_dir": tmp_path, "load_at": "00:20", "language": "en", "top_n": 10},
        environ={},
    )
    stop = asyncio.Event()

    async def stopper() -> None:
        await clock.sleep((stop_at - start).total_seconds())
        stop.set()

    async def collector() -> None:
        async with open_collector(
            settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=clock
        ) as session:
            await collect_every(session, GRID_SECONDS, stop=stop)

    loads = asyncio.create_task(
        daily_loads(settings, clock, stop, parse_load_at(settings.load_at), load=load_pending)
    )
    await asyncio.wait_for(asyncio.gather(collector(), stopper()), timeout=120)
    assert await asyncio.wait_for(loads, timeout=60) == 2  # the catch-up (nothing), 00:20
    lake = day_status(settings.lake_dir)
    assert lake[day.isoformat()]["snapshots_complete"] == 5  # 23:35 ... 23:55
    assert lake["2026-01-02"]["snapshots_complete"] == 9  # 00:00 ... 00:40
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert con.execute("select day, complete from loaded_days").fetchall() == [(day, True)]
        assert con.execute("select count(*) from community_timeseries").fetchall() == [(5,)]
    finally:
        con.close()


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


LONG_LIVED = "import signal, time\nwhile True: time.sleep(0.05)"


async def _stop_when(stop: asyncio.Event, condition: Callable[[], bool]) -> None:
    for _ in range(2000):  # bounded: 100 s of polls at most
        if condition():
            stop.set()
            return
        await asyncio.sleep(0.05)
    stop.set()
    raise AssertionError("condition not reached")


async def test_the_supervisor_restarts_a_crashed_child_with_backoff() -> None:
    clock = SimClock(dt.datetime(2026, 1, 1, tzinfo=UTC), speed=0)  # sleeps advance it
    crashy = Child("crashy", _python("raise SystemExit(1)"))
    steady = Child("steady", _python(LONG_LIVED))
    stop = asyncio.Event()
    code, _ = await asyncio.wait_for(
        asyncio.gather(
            supervise([steady, crashy], stop, clock=clock),
            _stop_when(stop, lambda: crashy.starts >= 4),
        ),
        timeout=120,
    )
    assert code == 0
    assert crashy.exit_codes[:3] == [1, 1, 1]
    # backoffs of 1, 2 and 4 seconds on the supervisor's clock before the 2nd-4th starts
    assert clock.now() >= dt.datetime(2026, 1, 1, 0, 0, 7, tzinfo=UTC)
    assert steady.starts == 1
    assert steady.exit_codes == [-signal.SIGTERM]  # stopped by the supervisor, once


async def test_a_usage_error_stops_everything() -> None:
    clock = SimClock(dt.datetime(2026, 1, 1, tzinfo=UTC), speed=0)
    steady = Child("steady", _python(LONG_LIVED))
    misconfigured = Child("misconfigured", _python("raise SystemExit(2)"))
    code = await asyncio.wait_for(
        supervise([steady, misconfigured], asyncio.Event(), clock=clock), timeout=120
    )
    assert code == 2
    assert misconfigured.exit_codes == [2] and misconfigured.starts == 1
    assert steady.exit_codes == [-signal.SIGTERM]


def test_run_starts_the_three_services(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={"data_dir": tmp_path, "source": "helix", "lake_url": "s3://b/lake"},
        environ={},
    )
    children = service_commands(settings, AppContext(None, tmp_path), serve=True)
    assert [c.name for c in children] == ["collector", "loader", "dashboard"]
    tails = [c.argv[c.argv.index("--data-dir") + 2 :] for c in children]
    assert tails == [
        ["collect", "--every", "5m", "--lake-url", "s3://b/lake"],
        ["load", "--every-day-at", "02:00", "--lake-url", "s3://b/lake"],
        ["serve"],
    ]
    simulated = service_commands(
        load_settings(overrides={"data_dir": tmp_path}, environ={}),
        AppContext(None, tmp_path),
        serve=False,
        simulator_port=8123,
    )
    assert [c.name for c in simulated] == ["simulator", "collector", "loader"]
    assert simulated[0].ready_port == 8123
    assert simulated[1].argv[-4:] == [
        "--helix-url",
        "http://127.0.0.1:8123/helix",
        "--auth-url",
        "http://127.0.0.1:8123/oauth2",
    ]


def test_streamcensus_run_supervises_real_children_and_stops_cleanly(tmp_path: Path) -> None:
    """`streamcensus run --no-serve` on the simulator: its children come up (the loader
    logs its next daily load), and SIGTERM stops them all with exit code 0."""
    env = {**os.environ, "STREAMCENSUS_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamcensus", "run", "--no-serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "logs" / LOG_FILE
    try:
        for _ in range(1200):  # bounded: 120 s of polls
            text = log.read_text() if log.exists() else ""
            if "next daily load at" in text and "started collector" in text:
                break
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.1)
        else:
            raise AssertionError("the children did not come up")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=150)
    assert process.returncode == 0, err
    text = log.read_text()
    for name in ("simulator", "collector", "loader"):
        assert f"started {name} (pid" in text


def test_the_example_units_run_real_commands() -> None:
    """Every ExecStart of deploy/ parses as a streamcensus command with its options."""
    from click.testing import CliRunner

    from streamcensus.cli import cli

    units = sorted((Path(__file__).parent.parent / "deploy").glob("*.service"))
    assert [u.name for u in units] == [
        "streamcensus-collector.service",
        "streamcensus-dashboard.service",
        "streamcensus-export.service",
        "streamcensus-loader.service",
    ]
    for unit in units:
        [line] = [x for x in unit.read_text().splitlines() if x.startswith("ExecStart=")]
        binary, *args = line.removeprefix("ExecStart=").split()
        assert binary.endswith("/bin/streamcensus")
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, (unit.name, result.output)
