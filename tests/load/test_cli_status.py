"""`streamcensus load` and the warehouse status used by `streamcensus status --json`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from load.lakebuilder import DAY, LakeBuilder, Stream, at, make_settings, query, run_load
from streamcensus.context import AppContext
from streamcensus.load.cli import load_command
from streamcensus.load.status import warehouse_status
from streamcensus.timeutil import utcnow
from streamcensus.transform.serving import SERVING_TABLES

NEXT = DAY + dt.timedelta(days=1)
# the command reads the wall clock: days relative to today, so that both are over
FIRST = utcnow().date() - dt.timedelta(days=3)
SECOND = FIRST + dt.timedelta(days=1)


def _lake(data_dir: Path, days: tuple[dt.date, ...] = (DAY, NEXT)) -> None:
    builder = LakeBuilder(data_dir / "lake")
    for day in days:
        builder.snapshot(
            at(day, "20:00"), [Stream("6001", 30, at(day, "19:00"))], {"6001": range(20)}
        )


def _invoke(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(load_command, list(args), obj=AppContext(None, data_dir))
    return result.exit_code, result.output


def test_load_a_day_prints_a_summary(tmp_path: Path) -> None:
    _lake(tmp_path)
    code, output = _invoke(tmp_path, "--day", DAY.isoformat())
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith(f"{DAY}  loaded    3 files")
    assert "20 presence observations → 20 viewing sessions" in lines[0]
    assert lines[-1].startswith("load ")


def test_load_all_then_nothing_pending(tmp_path: Path) -> None:
    _lake(tmp_path, (FIRST, SECOND))
    code, output = _invoke(tmp_path, "--all")
    assert code == 0, output
    assert [line[:10] for line in output.splitlines()[:2]] == [
        FIRST.isoformat(),
        SECOND.isoformat(),
    ]
    code, output = _invoke(tmp_path, "--all")
    assert code == 0 and output.startswith("nothing to load")


def test_today_is_loaded_only_by_name_and_then_partial(tmp_path: Path) -> None:
    today = utcnow().date()
    _lake(tmp_path, (FIRST, today))
    code, output = _invoke(tmp_path, "--all")
    assert code == 0, output
    assert output.splitlines()[0].startswith(f"{FIRST}  loaded")
    assert f"{today} is not over: not loaded" in output
    code, output = _invoke(tmp_path, "--day", "today")
    assert code == 0, output
    assert output.splitlines()[0].startswith(f"{today}  loaded    3 files")
    assert "(partial: the day is not over)" in output.splitlines()[0]
    health = query(
        make_settings(tmp_path), "select day, day_complete from pipeline_health order by day"
    )
    assert health == [(FIRST, True), (today, False)]


def test_bad_arguments_give_one_line_errors(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path, "--day", "27/11/2026")
    assert code == 2 and "not a day: '27/11/2026' (expected YYYY-MM-DD)" in output
    code, output = _invoke(tmp_path, "--day", DAY.isoformat(), "--all")
    assert code == 2 and "give one of --day, --all and --every-day-at" in output
    code, output = _invoke(tmp_path, "--all", "--every-day-at", "02:00")
    assert code == 2 and "give one of --day, --all and --every-day-at" in output
    code, output = _invoke(tmp_path, "--every-day-at", "2am")
    assert code == 2 and "the daily load time must be HH:MM in UTC, got '2am'" in output


def test_warehouse_status_per_day(tmp_path: Path) -> None:
    _lake(tmp_path)
    settings = make_settings(tmp_path)
    assert warehouse_status(settings) == {
        DAY.isoformat(): {"loaded": False, "tables": {}},
        NEXT.isoformat(): {"loaded": False, "tables": {}},
    }
    run_load(settings, [DAY])
    status = warehouse_status(settings)
    assert status[DAY.isoformat()]["loaded"] is True
    assert status[NEXT.isoformat()]["loaded"] is False
    tables = status[DAY.isoformat()]["tables"]
    assert set(tables) == set(SERVING_TABLES)
    assert tables["stream_sessions"] == 1
    assert tables["community_timeseries"] == 1
    assert tables["pipeline_health"] == 1
    assert status[NEXT.isoformat()]["tables"]["channel_day"] == 0
