"""Retention (P2): presence older than retention_days leaves lake and warehouse; aggregates stay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, one, query, run_load
from privacy.expect import exact_settings
from streamcensus.config import Settings
from streamcensus.errors import UserError
from streamcensus.lake.schema import raw_day_dir

DAYS = [DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1), DAY]
A = "5001"


def _lake(data_dir: Path) -> LakeBuilder:
    builder = LakeBuilder(data_dir / "lake")
    for day in DAYS:
        for hhmm in ("20:00", "20:05"):
            builder.snapshot(at(day, hhmm), [Stream(A, 80, at(day, "19:00"))], {A: range(1, 13)})
    return builder


@pytest.fixture
def retained(tmp_path: Path) -> Settings:
    """Three days loaded with a one-day retention, on the day after the last one."""
    _lake(tmp_path)
    quarantined = tmp_path / "lake" / "quarantine" / "chatters" / f"date={DAYS[0]}"
    quarantined.mkdir(parents=True)
    (quarantined / "20261125T2010Z.parquet").write_bytes(b"pseudonymous but unreadable")
    settings = exact_settings(tmp_path, retention_days=1)
    report = run_load(settings, today=DAY + dt.timedelta(days=1))
    assert report.retention is not None
    assert report.retention.cutoff == DAY
    assert report.retention.days == DAYS[:2]
    # raw chatters, curated viewing sessions and int_bots, quarantine
    assert report.retention.files_deleted == 4 + 2 + 2 + 1
    return settings


def test_old_presence_is_deleted_from_the_lake(retained: Settings) -> None:
    lake = retained.lake_dir
    for day in DAYS[:2]:
        assert not raw_day_dir(lake, "chatters", day).exists()
        assert not (lake / "curated" / "viewing_sessions" / f"date={day}").exists()
        assert not (lake / "quarantine" / "chatters" / f"date={day}").exists()
        assert raw_day_dir(lake, "streams", day).exists()  # no viewer in stream facts
        assert raw_day_dir(lake, "manifest", day).exists()
    assert raw_day_dir(lake, "chatters", DAY).exists()
    assert (lake / "curated" / "viewing_sessions" / f"date={DAY}").exists()


def test_the_warehouse_marks_it_and_keeps_the_aggregates(retained: Settings) -> None:
    assert query(retained, "select day, presence_retired from loaded_days order by day") == [
        (DAYS[0], True),
        (DAYS[1], True),
        (DAY, False),
    ]
    assert query(
        retained,
        "select day, count(*) from loaded_files where retired group by day order by day",
    ) == [(DAYS[0], 2), (DAYS[1], 2)]
    for day in DAYS:
        row = one(retained, "select * from channel_day where day = ?", [day])
        assert (row["unique_chatters"], row["peak_viewers"]) == (12, 80)
    assert query(retained, "select day, presence_retired from pipeline_health order by day") == [
        (DAYS[0], True),
        (DAYS[1], True),
        (DAY, False),
    ]
    assert query(retained, "select count(distinct day) from viewer_habits") == [(3,)]


def test_a_retired_day_is_final(retained: Settings) -> None:
    with pytest.raises(UserError, match="past the retention period"):
        run_load(retained, [DAYS[0]], today=DAY + dt.timedelta(days=1))
    report = run_load(retained, today=DAY + dt.timedelta(days=1))
    assert report.days == [] and report.skipped == DAYS


def test_recent_presence_is_kept(tmp_path: Path) -> None:
    _lake(tmp_path)
    settings = exact_settings(tmp_path)  # 30 days
    report = run_load(settings, today=DAY + dt.timedelta(days=1))
    assert report.retention is not None and report.retention.days == []
    assert all(raw_day_dir(settings.lake_dir, "chatters", d).exists() for d in DAYS)


def test_unloaded_expired_presence_is_kept_until_loaded(tmp_path: Path) -> None:
    _lake(tmp_path)
    settings = exact_settings(tmp_path, retention_days=1)
    report = run_load(settings, [DAY], today=DAY + dt.timedelta(days=1))
    # the two earlier days are past retention but were never aggregated: kept, reported
    assert report.retention is not None
    assert report.retention.days == []
    assert report.retention.unloaded_expired == DAYS[:2]
    assert raw_day_dir(settings.lake_dir, "chatters", DAYS[0]).exists()
    report = run_load(settings, None, today=DAY + dt.timedelta(days=1))
    assert report.retention is not None and report.retention.days == DAYS[:2]
    assert report.retention.unloaded_expired == []
    assert not raw_day_dir(settings.lake_dir, "chatters", DAYS[0]).exists()
