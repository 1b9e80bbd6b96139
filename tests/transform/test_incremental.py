"""Incremental by day: loading days one at a time leaves the tables a full rebuild leaves.

Every model rebuilds only what the run's days touch: the run's days, and for the schedule
tables (`stream_sessions`, `stream_session_games`) every broadcast with a stream fact on a
run day, rebuilt from all its stream facts, since a broadcast across midnight spans two
loads. Reloading the first day reloads the loaded week after it in one run, which rebuilds
every row: the tables must not change.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, all_tables, make_settings, query, run_load
from streamcensus.config import Settings
from streamcensus.timeutil import UTC

DAYS = [DAY + dt.timedelta(days=i) for i in range(3)]
A, B, C = "8001", "8002", "8003"
START = dt.datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)


def _live(hour: int) -> list[Stream]:
    """Channels live at `hour` hours after DAY 00:00: A for 30 hours from DAY 20:00; B
    every day 10:00-12:00; C every night 23:00-01:00."""
    streams = []
    if 20 <= hour < 50:
        streams.append(Stream(A, 1000 + 10 * hour, START + dt.timedelta(hours=20)))
    if hour % 24 in (10, 11, 12):
        begun = START + dt.timedelta(hours=hour - hour % 24 + 10)
        streams.append(Stream(B, 200, begun, game_id="21", game_name="Chess"))
    if hour % 24 in (23, 0, 1) and hour >= 23:
        begun = START + dt.timedelta(hours=hour - (hour - 23) % 24)
        game = ("33", "Music") if hour % 24 == 1 else ("509658", "Just Chatting")
        streams.append(Stream(C, 300, begun, game_id=game[0], game_name=game[1]))
    return streams


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[int]]:
    """Three days loaded one at a time (each load when its day is over)."""
    root: Path = tmp_path_factory.mktemp("incremental")
    builder = LakeBuilder(root / "lake")
    for hour in range(72):
        moment = START + dt.timedelta(hours=hour)
        streams = _live(hour)
        viewers = list(range(100 * hour, 100 * hour + 15)) + list(range(15))
        # chat lists only for A; posters everywhere: 3 newcomers and the 15 regulars
        builder.snapshot(
            moment,
            streams,
            {s.channel_id: viewers for s in streams if s.channel_id == A},
            activity={s.channel_id: viewers[12:] for s in streams},
            coverage={s.channel_id: "partial" if hour % 7 == 0 else "complete" for s in streams},
            followers={s.channel_id: 1000 + hour for s in streams},
        )
    settings = make_settings(root)
    touched: list[int] = []
    for day in DAYS:
        report = run_load(settings, today=day + dt.timedelta(days=1))
        assert [d.day for d in report.days] == [day]
        touched.append(next(m.rows for m in report.models if m.name == "stream_sessions"))
    return settings, touched


def test_each_load_rebuilds_only_the_broadcasts_its_day_touches(
    incremental: tuple[Settings, list[int]],
) -> None:
    settings, touched = incremental
    # day 1: A (from 20:00), B, C (23:00); day 2: A, C (until 01:00), B, C (23:00);
    # day 3: A (until 01:00), C (until 01:00), B, C (23:00)
    assert touched == [3, 4, 4]
    assert query(settings, "select count(*) from stream_sessions") == [(7,)]


def test_a_broadcast_across_two_midnights_is_one_row(
    incremental: tuple[Settings, list[int]],
) -> None:
    settings, _ = incremental
    assert query(
        settings,
        "select day, snapshots, duration_minutes, peak_viewers from stream_sessions "
        "where channel_id = ?",
        [A],
    ) == [(DAY, 30, 29 * 60, 1000 + 10 * 49)]
    # C's night broadcasts: two games, each row under the day it began
    assert query(
        settings,
        "select day, game_count, games from stream_sessions where channel_id = ? order by day",
        [C],
    ) == [
        (DAY, 2, "Just Chatting (10 min), Music (5 min)"),
        (DAYS[1], 2, "Just Chatting (10 min), Music (5 min)"),
        (DAYS[2], 1, "Just Chatting (5 min)"),
    ]


def test_an_incremental_load_equals_a_full_rebuild(
    incremental: tuple[Settings, list[int]],
) -> None:
    settings, _ = incremental
    before = all_tables(settings)
    # reloading the first day reloads the two loaded days after it in the same run
    report = run_load(settings, [DAY], today=DAYS[2] + dt.timedelta(days=1))
    assert [d.day for d in report.days] == DAYS
    assert next(m.rows for m in report.models if m.name == "stream_sessions") == 7
    assert all_tables(settings) == before
    signals = query(settings, "select distinct signal from audience_overlap order by signal")
    assert signals == [("chat_activity",)]  # A is the only channel with a chat list
    assert query(settings, "select count(*) from channel_followers") != [(0,)]
