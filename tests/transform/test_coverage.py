"""Rows that rest on incomplete input say so: cut broadcasts, missed chat lists, short windows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from load.lakebuilder import DAY, LakeBuilder, Stream, at, grid, one, query, run_load
from privacy.expect import exact_settings

PEOPLE = range(1, 16)  # 15 people, above k = 10


def _lake(data_dir: Path) -> None:
    """DAY from 10:00 to 12:00: `early` began at 08:00, before the first snapshot; `whole`
    is seen from its start to its end; `late` is still live at the last snapshot; `gappy`
    had one chat list fail."""
    builder = LakeBuilder(data_dir / "lake")
    for moment in grid(at(DAY, "10:00"), at(DAY, "12:00")):
        streams: list[Stream] = []
        chats: dict[str, range] = {}
        if moment <= at(DAY, "11:00"):
            streams.append(Stream("1", 100, at(DAY, "08:00"), login="early"))
        if at(DAY, "10:30") <= moment <= at(DAY, "11:30"):
            streams.append(Stream("2", 50, at(DAY, "10:28"), login="whole"))
            chats["2"] = PEOPLE
        if moment >= at(DAY, "11:30"):
            streams.append(Stream("3", 20, at(DAY, "11:29"), login="late"))
        failed = moment == at(DAY, "10:45")
        streams.append(
            Stream(
                "4",
                30,
                at(DAY, "09:58"),
                login="gappy",
                chatters_status="error" if failed else "ok",
            )
        )
        if not failed:
            chats["4"] = PEOPLE
        builder.snapshot(moment, streams, chats, status="partial" if failed else "complete")


def test_broadcasts_cut_by_the_collection_window_are_marked(tmp_path: Path) -> None:
    _lake(tmp_path)
    settings = exact_settings(tmp_path)
    run_load(settings, [DAY])
    rows = {
        r[0]: r[1:]
        for r in query(
            settings,
            "select channel_login, cut_at_start, cut_at_end, coverage, complete "
            "from stream_sessions",
        )
    }
    # early: 13 snapshots of the 37 grid times since 08:00 (10:00 - 11:00 seen)
    assert rows["early"] == (True, False, round(13 / 37, 4), False)
    assert rows["whole"] == (False, False, 1.0, True)
    assert rows["late"] == (False, True, 1.0, False)
    # gappy began two minutes before the first snapshot: within one interval, not cut
    assert rows["gappy"][:2] == (False, True)


def test_channel_days_with_missed_chat_lists_and_short_windows_are_marked(
    tmp_path: Path,
) -> None:
    _lake(tmp_path)
    settings = exact_settings(tmp_path)
    run_load(settings, [DAY])
    gappy = one(
        settings,
        "select chat_snapshots_missed, day_snapshots, complete, returning_days_covered "
        "from channel_day where channel_login = 'gappy'",
    )
    assert gappy == {
        "chat_snapshots_missed": 1,
        "day_snapshots": 25,
        "complete": False,
        "returning_days_covered": 0,  # no earlier day is loaded
    }
    whole = one(
        settings,
        "select chat_snapshots_missed, complete from channel_day where channel_login = 'whole'",
    )
    assert whole == {"chat_snapshots_missed": 0, "complete": False}  # 25 of 288 snapshots
    windows = query(
        settings,
        "select window_days, days_covered, complete from audience_overlap order by window_days",
    )
    assert windows == [(1, 1, True), (7, 1, False)]
    health = one(settings, "select day_complete, snapshots from pipeline_health")
    assert health == {"day_complete": True, "snapshots": 25}


def test_a_day_loaded_before_it_is_over_is_partial(tmp_path: Path) -> None:
    _lake(tmp_path)
    settings = exact_settings(tmp_path)
    report = run_load(settings, [DAY], today=DAY)
    assert report.days[0].complete is False
    assert query(settings, "select complete from loaded_days") == [(False,)]
    assert query(settings, "select day_complete from pipeline_health") == [(False,)]
    # `--all` after midnight completes it
    report = run_load(settings, None, today=DAY + dt.timedelta(days=1))
    assert [(d.day, d.complete) for d in report.days] == [(DAY, True)]
    assert query(settings, "select day_complete from pipeline_health") == [(True,)]
    assert run_load(settings, None, today=DAY + dt.timedelta(days=1)).days == []
