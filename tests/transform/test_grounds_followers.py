"""Chat-list grounds, the tokens that read them, chat coverage and follower totals, from
hand-written manifests and files with figures worked by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, make_settings, one, query, run_load
from privacy.expect import health_count
from streamcensus.config import Settings

A, B = "4001", "4002"
WEEK_BEFORE = DAY - dt.timedelta(days=7)
YESTERDAY = DAY - dt.timedelta(days=1)


def _streams(day: dt.date) -> list[Stream]:
    return [
        Stream(A, 300, at(day, "00:00"), login="alice"),
        Stream(B, 200, at(day, "00:00"), login="bob", chatters_status="forbidden"),
    ]


def _reader(login: str, ground: str, listed: int, read: int, reason: str = "") -> dict[str, Any]:
    return {
        "user_id": login,
        "login": login,
        "ground": ground,
        "channels_listed": listed,
        "channels_read": read,
        "state": "unusable" if reason else "ok",
        "reason": reason,
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Alice consents until 11:00, when her token is revoked; the operator moderates both
    channels. Followers of A: 1000 a week before, 1400 the evening before, then 1410, 1500,
    1600; of B (first read on DAY): 50, then 60."""
    data_dir: Path = tmp_path_factory.mktemp("grounds")
    builder = LakeBuilder(data_dir / "lake")
    builder.snapshot(at(WEEK_BEFORE, "23:00"), _streams(WEEK_BEFORE), {}, followers={A: 1000})
    builder.snapshot(at(YESTERDAY, "23:00"), _streams(YESTERDAY), {}, followers={A: 1400})
    builder.snapshot(at(DAY, "00:00"), _streams(DAY), {}, followers={A: 1410})
    builder.snapshot(
        at(DAY, "10:00"),
        _streams(DAY),
        {A: range(1, 20), B: range(30, 50)},
        activity={A: range(1, 5)},
        coverage={A: "complete", B: "partial"},
        followers={B: 50},
        manifest={
            "chat_list_grounds": {A: "consent", B: "moderation"},
            "chat_list_readers": [
                _reader("alice", "consent", 1, 1),
                _reader("operator", "moderation", 2, 1),
            ],
            "followers_status": "complete",
            "followers_channels": 2,
        },
    )
    builder.snapshot(
        at(DAY, "11:00"),
        _streams(DAY),
        {B: range(30, 50)},
        activity={B: range(30, 35)},
        coverage={A: "not_joined", B: "complete"},
        followers={B: 60},
        manifest={
            "chat_list_grounds": {B: "moderation"},
            "chat_list_readers": [
                _reader("alice", "consent", 1, 0, reason="revoked: consent withdrawn"),
                _reader("operator", "moderation", 2, 1),
            ],
            "followers_status": "partial",
            "followers_channels": 1,
        },
    )
    builder.snapshot(at(DAY, "12:00"), _streams(DAY), {}, followers={A: 1500})
    builder.snapshot(at(DAY, "23:00"), _streams(DAY), {}, followers={A: 1600})
    settings = make_settings(data_dir)
    run_load(settings, today=DAY + dt.timedelta(days=1))
    return settings


def test_chat_list_grounds_name_channels_and_grounds(warehouse: Settings) -> None:
    rows = query(
        warehouse,
        "select channel_id, channel_login, ground, snapshots, strftime(first_read, '%H:%M'), "
        "strftime(last_read, '%H:%M') from chat_list_grounds where day = ? order by channel_id",
        [DAY],
    )
    assert rows == [
        (A, "alice", "consent", 1, "10:00", "10:00"),
        (B, "bob", "moderation", 2, "10:00", "11:00"),
    ]


def test_a_tripped_token_is_recorded_with_its_reason(warehouse: Settings) -> None:
    rows = query(
        warehouse,
        "select reader_login, ground, snapshots, snapshots_unusable, tripped, state, reason, "
        "strftime(tripped_at, '%H:%M'), channels_affected from chat_list_readers "
        "where day = ? order by reader_login",
        [DAY],
    )
    assert rows == [
        ("alice", "consent", 2, 1, True, "unusable", "revoked: consent withdrawn", "11:00", 1),
        ("operator", "moderation", 2, 0, False, "ok", "", None, 0),
    ]


def test_pipeline_health_shows_tokens_coverage_and_followers(warehouse: Settings) -> None:
    row = one(warehouse, "select * from pipeline_health where day = ?", [DAY])
    assert (
        row["chat_list_readers"],
        row["chat_list_tokens_tripped"],
        row["chat_list_channels_affected"],
    ) == (2, 1, 1)
    assert (row["chat_windows"], row["chat_windows_partial"], row["chat_windows_not_joined"]) == (
        4,
        1,
        1,
    )
    assert (row["chat_partial_share"], row["chat_channels_not_joined"]) == (0.25, 1)
    # a sum over people's rows: published noisy (the exact count is in loaded_files)
    assert row["activity_observations"] == health_count(
        warehouse, "activity_observations", DAY, exact=4 + 5
    )
    assert (
        row["followers_readings"],
        row["followers_readings_complete"],
        row["followers_readings_partial"],
        row["followers_readings_no_token"],
        row["followers_channels"],
    ) == (2, 1, 1, 0, 2)


def test_followers_growth_in_the_day_and_the_week(warehouse: Settings) -> None:
    rows = query(
        warehouse,
        "select channel_id, channel_login, followers, readings, gained_day, "
        "strftime(gained_day_since, '%m-%d %H:%M'), gained_7d, "
        "strftime(gained_7d_since, '%m-%d %H:%M') from channel_followers where day = ? "
        "order by channel_id",
        [DAY],
    )
    assert rows == [
        (A, "alice", 1600, 3, 200, "11-26 23:00", 600, "11-20 23:00"),
        # first read that day: growth since its first reading
        (B, "bob", 60, 2, 10, "11-27 10:00", 10, "11-27 10:00"),
    ]
    curve = query(
        warehouse,
        "select strftime(snapshot_ts, '%H:%M'), followers_total from channel_followers_hourly "
        "where day = ? and channel_id = ? order by snapshot_ts",
        [DAY, A],
    )
    assert curve == [("00:00", 1410), ("12:00", 1500), ("23:00", 1600)]
