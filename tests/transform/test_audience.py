"""Audience models on hand-built audiences: overlap, bot share, returning chatters, habits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from load.lakebuilder import (
    DAY,
    LakeBuilder,
    Stream,
    at,
    grid,
    make_settings,
    one,
    query,
    run_load,
)
from streamcensus.config import Settings

A, B, C, D = "2001", "2002", "2003", "2004"
KNOWN_BOT = 999
LURKER = 888  # in every chat at once: flagged with bot_min_chats=3
NEXT = DAY + dt.timedelta(days=1)


def _streams(day: dt.date, *channels: str) -> list[Stream]:
    return [Stream(c, 100, at(day, "19:00"), login=f"ch{c}") for c in channels]


@pytest.fixture(scope="module")
def audience(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Day 1: A = 1..30, B = 21..45, C = 41..44 and 100..130, D = 3 people; plus bots.

    Day 2: A = 1..12 and 50..60 (12 returning), B = 100..109 (none returning, but 7-day
    overlap with C through 100..109).
    """
    data_dir: Path = tmp_path_factory.mktemp("audience")
    builder = LakeBuilder(data_dir / "lake", known_bots=[KNOWN_BOT])
    bots = [KNOWN_BOT, LURKER]
    day1 = {
        A: [*range(1, 31), *bots],
        B: [*range(21, 46), *bots],
        C: [*range(41, 45), *range(100, 131), *bots],
        D: [501, 502, 503],
    }
    for moment in grid(at(DAY, "20:00"), at(DAY, "20:10")):
        builder.snapshot(moment, _streams(DAY, A, B, C, D), day1)
    day2 = {A: [*range(1, 13), *range(50, 61)], B: list(range(100, 110))}
    builder.snapshot(at(NEXT, "20:00"), _streams(NEXT, A, B), day2)
    settings = make_settings(data_dir)
    run_load(settings, today=NEXT + dt.timedelta(days=1), bot_min_chats=3)
    return settings


def test_overlap_counts_shares_and_jaccard_are_exact(audience: Settings) -> None:
    rows = query(
        audience,
        "select channel_a, channel_b, shared_chatters, chatters_a, chatters_b, share_a, share_b, "
        "jaccard, channel_login_a, channel_login_b from audience_overlap "
        "where day = ? and window_days = 1",
        [DAY],
    )
    # A∩B = 21..30: 10 people (bots excluded); B∩C = 41..44: 4 < k, suppressed; A∩C empty
    assert rows == [(A, B, 10, 30, 25, 0.333333, 0.4, round(10 / 45, 6), f"ch{A}", f"ch{B}")]


def test_rolling_week_overlap_joins_the_days(audience: Settings) -> None:
    rows = query(
        audience,
        "select day, window_days, channel_a, channel_b, shared_chatters, chatters_a, chatters_b "
        "from audience_overlap where day = ? order by window_days, channel_a, channel_b",
        [NEXT],
    )
    # day 2 alone: A and B share nobody. Week to day 2: A = 1..30 ∪ 50..60 (41),
    # B = 21..45 ∪ 100..109 (35), shared 21..30 (10); B∩C = 41..44 ∪ 100..109 (14),
    # C = 35 people on day 1 only.
    assert rows == [(NEXT, 7, A, B, 10, 41, 35), (NEXT, 7, B, C, 14, 35, 35)]


def test_bot_share_counts_known_bots_and_multi_chat_accounts(audience: Settings) -> None:
    row = one(audience, "select * from bot_share where day = ? and channel_id = ?", [DAY, A])
    assert (row["chatters"], row["known_bots"], row["multi_chat_accounts"]) == (32, 1, 1)
    assert row["bot_share"] == round(2 / 32, 4)
    assert row["bot_min_chats"] == 3
    assert query(audience, "select count(*) from bot_share where channel_id = ?", [D]) == [(0,)]
    day_row = one(
        audience, "select bot_share from channel_day where day = ? and channel_id = ?", [DAY, A]
    )
    assert day_row["bot_share"] == round(2 / 32, 4)


def test_bot_counts_per_snapshot(audience: Settings) -> None:
    row = one(
        audience,
        "select chatters, known_bot_chatters, multi_chat_chatters from int_snapshot_channels "
        "where snapshot_ts = ? and channel_id = ? and signal = 'chat_list'",
        [at(DAY, "20:00"), C],
    )
    assert row == {"chatters": 37, "known_bot_chatters": 1, "multi_chat_chatters": 1}


def test_returning_chatters_are_people_seen_in_the_chat_before(audience: Settings) -> None:
    a = one(audience, "select * from channel_day where day = ? and channel_id = ?", [NEXT, A])
    assert a["unique_chatters"] == 23
    assert a["returning_chatters"] == 12
    b = one(audience, "select * from channel_day where day = ? and channel_id = ?", [NEXT, B])
    assert b["returning_chatters"] is None  # nobody returned to B
    assert one(
        audience,
        "select returning_chatters from channel_day where day = ? and channel_id = ?",
        [DAY, A],
    ) == {"returning_chatters": None}


def test_small_chats_are_suppressed_under_k(audience: Settings) -> None:
    d = one(audience, "select * from channel_day where day = ? and channel_id = ?", [DAY, D])
    assert d["unique_chatters"] is None
    assert d["avg_chatters"] is None and d["chatters_per_viewer"] is None
    assert d["peak_viewers"] == 100  # Helix's public viewer count is kept
    assert query(
        audience,
        "select peak_chatters, avg_chatters from stream_sessions where channel_id = ?",
        [D],
    ) == [(None, None)]


def test_habits_publish_hours_of_the_week(audience: Settings) -> None:
    rows = query(
        audience,
        "select bucket, bucket_min, bucket_max, value, share from viewer_habits "
        "where day = ? and metric = 'hour_of_week'",
        [DAY],
    )
    # 2026-11-27 is a Friday: (5 - 1) * 24 + 20 = 116; people = 1..45, 100..130, 501..503
    assert rows == [(116, 116, 116, 79, 1.0)]
