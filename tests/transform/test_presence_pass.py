"""The loader's presence pass gives exactly the rows of the SQL definitions.

`viewing_sessions`, `int_presence_channels` and `int_presence_snapshots` are computed while
the loader reads each chatters file, and `int_presence_people`, `int_presence_shared` and
`int_bot_presence` from the snapshots it keeps (`transform/presence.py`,
`transform/presence_people.py`); with `presence_pass=False` the runner runs their SQL instead.
Both loads of the same lake must leave identical warehouses and curated files, over days
with missed observations, collection gaps, bots in many chats, a midnight boundary and a
pseudonym key rotation.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from load.lakebuilder import (
    DAY,
    LakeBuilder,
    Stream,
    all_tables,
    at,
    run_load,
    synthetic_day,
)
from privacy.expect import exact_settings
from streamcensus.config import Settings
from streamcensus.lake.schema import CHATTERS_SCHEMA
from streamcensus.transform.checker import CheckFailed
from streamcensus.transform.presence import DayPresence

NEXT = DAY + dt.timedelta(days=1)
A, B = "7001", "7002"
V1, V2, V3 = 9_000_001, 9_000_002, 9_000_003
V1_ROTATED = 9_100_001  # the same person as V1 under the next day's key


def _build(lake: Path) -> None:
    builder = LakeBuilder(lake)
    # 00:00-23:15: 20 live channels, 3% missed observations, bots in many chats
    synthetic_day(
        builder,
        DAY,
        live_channels=20,
        chatters_per_snapshot=600,
        snapshots=280,
        gap_rate=0.08,
        posting_share=0.2,
    )
    late = [Stream(A, 300, at(DAY, "23:00")), Stream(B, 200, at(DAY, "22:00"), game_id="21")]
    # collection paused 23:20-23:35; 23:45 missed. Chat activity beside the chat lists:
    # V2 posts in A at 23:40 and 23:55 (two sessions), V1 in both chats at 23:40; B's window
    # ending at 23:55 is partial
    builder.snapshot(
        at(DAY, "23:40"), late, {A: [V1, V2], B: [V1, V3]}, activity={A: [V1, V2], B: [V1]}
    )
    builder.snapshot(at(DAY, "23:50"), late, {A: [V1], B: [V3]}, activity={A: {V1: 4}})
    builder.snapshot(
        at(DAY, "23:55"),
        late,
        {A: [V1, V2], B: [V3]},
        activity={A: [V2], B: [V3]},
        coverage={A: "complete", B: "partial"},
    )
    after = [Stream(A, 310, at(DAY, "23:00"))]
    builder.snapshot(at(NEXT, "00:00"), after, {A: [V1]}, activity={A: [V1]})
    builder.snapshot(at(NEXT, "00:05"), after, {A: [V1_ROTATED]}, activity={})
    builder.snapshot(at(NEXT, "00:20"), after, {A: [V1_ROTATED, V2]}, activity={A: [V2]})


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Settings]:
    """The same lake loaded twice: with the presence pass, and with the SQL only."""
    root = tmp_path_factory.mktemp("presence")
    _build(root / "fast" / "lake")
    shutil.copytree(root / "fast" / "lake", root / "sql" / "lake")
    fast, sql = exact_settings(root / "fast"), exact_settings(root / "sql")
    run_load(fast)
    run_load(sql, presence_pass=False)
    return fast, sql


def _sessions(settings: Settings, viewer: int, signal: str = "chat_list") -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        files = [
            str(p) for p in (settings.lake_dir / "curated" / "viewing_sessions").rglob("*.parquet")
        ]
        return con.execute(
            "select day, channel_id, strftime(first_seen, '%H:%M'), strftime(last_seen, '%H:%M'),"
            " minutes, observations, peak_chats from read_parquet(?) where viewer = ? "
            "and signal = ? order by first_seen, channel_id",
            [files, viewer, signal],
        ).fetchall()
    finally:
        con.close()


def test_the_pass_and_the_sql_leave_identical_warehouses(lakes: tuple[Settings, Settings]) -> None:
    fast, sql = lakes
    # equal but for how long each load took
    fast_tables = all_tables(fast, without=("load_seconds",))
    sql_tables = all_tables(sql, without=("load_seconds",))
    assert fast_tables == sql_tables
    # the curated files are named after their content: the same names, the same bytes
    assert len([r for r in fast_tables["curated_files"] if r[0] == "viewing_sessions"]) == 2
    assert {r[2] for r in fast_tables["channel_day_presence"]} == {"chat_list", "chat_activity"}
    assert sum(r[4] for r in fast_tables["curated_files"]) > 10_000  # sessions


def test_gaps_midnight_and_rotation_follow_the_definition(
    lakes: tuple[Settings, Settings],
) -> None:
    fast, _ = lakes
    # V1 in A: 23:40, (23:45 missed), 23:50, 23:55 is one session; midnight starts another
    # V1 in B: 23:40 only; at 23:40 V1 was in two chats
    assert _sessions(fast, V1) == [
        (DAY, A, "23:40", "23:55", 20, 3, 2),
        (DAY, B, "23:40", "23:40", 5, 1, 2),
        (NEXT, A, "00:00", "00:00", 5, 1, 1),
    ]
    # V2: 23:40 then 23:55 is a gap of two missed grid times: two sessions
    assert _sessions(fast, V2) == [
        (DAY, A, "23:40", "23:40", 5, 1, 1),
        (DAY, A, "23:55", "23:55", 5, 1, 1),
        (NEXT, A, "00:20", "00:20", 5, 1, 1),
    ]
    # after the rotation the same person is another pseudonym: 00:05 and 00:20 are apart
    assert _sessions(fast, V1_ROTATED) == [
        (NEXT, A, "00:05", "00:05", 5, 1, 1),
        (NEXT, A, "00:20", "00:20", 5, 1, 1),
    ]


def test_activity_is_sessionised_on_its_own(lakes: tuple[Settings, Settings]) -> None:
    fast, _ = lakes
    # who posted: V1 in A at 23:40 and 23:50 (one session), in B at 23:40 (two chats then)
    assert _sessions(fast, V1, "chat_activity") == [
        (DAY, A, "23:40", "23:50", 15, 2, 2),
        (DAY, B, "23:40", "23:40", 5, 1, 2),
        (NEXT, A, "00:00", "00:00", 5, 1, 1),
    ]
    assert _sessions(fast, V2, "chat_activity") == [
        (DAY, A, "23:40", "23:40", 5, 1, 1),
        (DAY, A, "23:55", "23:55", 5, 1, 1),
        (NEXT, A, "00:20", "00:20", 5, 1, 1),
    ]


def test_a_reload_of_both_days_in_one_run_is_identical(
    lakes: tuple[Settings, Settings], tmp_path: Path
) -> None:
    fast, sql = lakes
    for settings in (fast, sql):
        copy = settings.model_copy(update={"data_dir": tmp_path / settings.data_dir.name})
        shutil.copytree(settings.data_dir, copy.data_dir)
        report = run_load(copy, [DAY], presence_pass=settings is fast)
        assert [d.status for d in report.days] == ["reloaded", "refreshed"]
        assert all_tables(copy, without=("load_seconds",)) == all_tables(
            settings, without=("load_seconds",)
        )


def _chatters(moment: dt.datetime, rows: list[tuple[str, int]]) -> pa.Table:
    n = len(rows)
    return pa.table(
        {
            "snapshot_id": ["x"] * n,
            "snapshot_ts": pa.array([moment] * n, pa.timestamp("s", tz="UTC")),
            "channel_id": [c for c, _ in rows],
            "viewer": pa.array([v for _, v in rows], pa.int64()),
            "key_id": ["k1"] * n,
            "is_bot": [False] * n,
            "bot_name": pa.array([None] * n, pa.string()),
        },
        schema=CHATTERS_SCHEMA,
    )


def test_the_pass_declines_a_viewer_listed_twice_in_one_chat() -> None:
    day = DayPresence(DAY, bot_min_chats=20, interval_minutes=5)
    day.add(at(DAY, "10:00"), _chatters(at(DAY, "10:00"), [(A, V1), (A, V1), (B, V2)]))
    assert day.finish() is None
    assert day.declined is not None


def test_the_pass_declines_snapshots_out_of_order() -> None:
    day = DayPresence(DAY, bot_min_chats=20, interval_minutes=5)
    day.add(at(DAY, "10:05"), _chatters(at(DAY, "10:05"), [(A, V1)]))
    day.add(at(DAY, "10:00"), _chatters(at(DAY, "10:00"), [(A, V1)]))
    assert day.finish() is None


@pytest.mark.parametrize("presence_pass", [True, False])
def test_a_viewer_listed_twice_fails_the_checks_either_way(
    tmp_path: Path, presence_pass: bool
) -> None:
    builder = LakeBuilder(tmp_path / "lake")
    streams = [Stream(A, 50, at(DAY, "09:00"))]
    for hhmm in ("10:00", "10:05"):
        builder.snapshot(at(DAY, hhmm), streams, {A: [V1, V1, V2]})  # V1 listed twice
    settings = exact_settings(tmp_path)
    # the pass declines, the SQL counts both rows: 4 observations in 10 minutes
    with pytest.raises(CheckFailed, match="assert_viewing_sessions_valid"):
        run_load(settings, presence_pass=presence_pass)
