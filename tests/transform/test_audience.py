"""Audience models on hand-built audiences: overlap, bot share, returning chatters, habits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

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
from privacy.expect import figure_noise, noisy, published, published_series
from streamcensus.config import Settings
from streamcensus.transform.noise import figure_id
from streamcensus.transform.pairs import pair_threshold
from streamcensus.transform.protect import series_bucket

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


SIGNAL = "chat_list"


def _overlap_as_published(
    settings: Settings,
    day: dt.date,
    window: int,
    exact: dict[tuple[str, str], tuple[int, int, int]],
) -> None:
    """The published pairs of a period are the exact pairs (shared, size a, size b), each
    count with its figure's noise, pairs under k dropped, shares from the noisy counts."""
    rows = {
        (r[0], r[1]): r[2:]
        for r in query(
            settings,
            "select channel_a, channel_b, shared_chatters, chatters_a, chatters_b, share_a, "
            "share_b, jaccard, channel_login_a, channel_login_b from audience_overlap "
            "where day = ? and window_days = ?",
            [day, window],
        )
    }
    for (a, b), (shared, size_a, size_b) in exact.items():
        s = noisy(settings, "pair_shared", day, window, SIGNAL, a, b, exact=shared)
        na = noisy(settings, "window_people", day, window, SIGNAL, a, exact=size_a)
        nb = noisy(settings, "window_people", day, window, SIGNAL, b, exact=size_b)
        if s < pair_threshold(figure_noise(settings), settings.k) or min(na, nb) < settings.k:
            assert (a, b) not in rows
            continue
        s = min(s, na, nb)
        assert rows.pop((a, b)) == (
            s,
            na,
            nb,
            round(s / na, 6),
            round(s / nb, 6),
            round(s / (na + nb - s), 6),
            f"ch{a}",
            f"ch{b}",
        )
    assert rows == {}  # no other pair shares anyone


def test_overlap_counts_shares_and_jaccard_are_the_noisy_counts(audience: Settings) -> None:
    # A∩B = 21..30: 10 people (bots excluded) of A = 30 and B = 25; B∩C = 41..44: 4 of
    # C = 35 (41..44, 100..130); A∩C empty
    _overlap_as_published(audience, DAY, 1, {(A, B): (10, 30, 25), (B, C): (4, 25, 35)})


def test_rolling_week_overlap_joins_the_days(audience: Settings) -> None:
    # day 2 alone: A and B share nobody. Week to day 2: A = 1..30 ∪ 50..60 (41),
    # B = 21..45 ∪ 100..109 (35), shared 21..30 (10); B∩C = 41..44 ∪ 100..109 (14),
    # C = 35 people on day 1 only.
    _overlap_as_published(audience, NEXT, 1, {})
    _overlap_as_published(audience, NEXT, 7, {(A, B): (10, 41, 35), (B, C): (14, 35, 35)})


def test_bot_share_counts_known_bots_and_multi_chat_accounts(audience: Settings) -> None:
    key = (DAY, A, SIGNAL)
    people = noisy(audience, "channel_people", *key, exact=30)
    known = noisy(audience, "channel_known_bots", *key, exact=1)
    multi = noisy(audience, "channel_multi_chat", *key, exact=1)
    row = one(audience, "select * from bot_share where day = ? and channel_id = ?", [DAY, A])
    assert (row["people"], row["known_bots"], row["multi_chat_accounts"]) == (people, known, multi)
    assert row["chatters"] == people + known + multi
    assert row["bot_share"] == round((known + multi) / (people + known + multi), 4)
    assert row["bot_min_chats"] == 3
    # D: 3 people, published only if its noisy count reaches k
    d_people = noisy(audience, "channel_people", DAY, D, SIGNAL, exact=3)
    d_rows = query(audience, "select people from bot_share where channel_id = ?", [D])
    assert d_rows == ([(d_people,)] if d_people >= audience.k else [])
    day_row = one(
        audience,
        "select unique_chatters, bot_share from channel_day where day = ? and channel_id = ?",
        [DAY, A],
    )
    # one figure, one value: the channel's people read the same in both tables
    assert day_row == {"unique_chatters": people, "bot_share": row["bot_share"]}


def test_bot_counts_per_snapshot(audience: Settings) -> None:
    row = one(
        audience,
        "select snapshot_id, chatters, known_bot_chatters, multi_chat_chatters, "
        "published_chatters from int_snapshot_channels "
        "where snapshot_ts = ? and channel_id = ? and signal = 'chat_list'",
        [at(DAY, "20:00"), C],
    )
    # internal exact counts, and the published people (35 of 37 accounts, at each of the
    # hour's 3 snapshots: the hour's figure) with noise
    row.pop("snapshot_id")
    bucket = series_bucket(at(DAY, "20:00"))
    people = published_series(audience, "chat_hour_people", bucket, C, SIGNAL, exact=35)
    assert row == {
        "chatters": 37,
        "known_bot_chatters": 1,
        "multi_chat_chatters": 1,
        "published_chatters": people,
    }


def test_returning_chatters_are_people_seen_in_the_chat_before(audience: Settings) -> None:
    def expected(day: dt.date, channel: str, people: int, returning: int) -> tuple[Any, Any]:
        unique = published(audience, "channel_people", day, channel, SIGNAL, exact=people)
        back = published(audience, "channel_returning", day, channel, SIGNAL, exact=returning)
        return unique, None if unique is None or back is None else min(unique, back)

    def got(day: dt.date, channel: str) -> tuple[Any, Any]:
        row = one(
            audience,
            "select unique_chatters, returning_chatters from channel_day "
            "where day = ? and channel_id = ?",
            [day, channel],
        )
        return row["unique_chatters"], row["returning_chatters"]

    assert got(NEXT, A) == expected(NEXT, A, 23, 12)  # 1..12 returning, 50..60 new
    assert got(NEXT, B) == expected(NEXT, B, 10, 0)  # nobody returned to B
    assert got(DAY, A) == expected(DAY, A, 30, 0)  # nothing before day 1


def test_small_chats_are_suppressed_under_k(audience: Settings) -> None:
    d = one(audience, "select * from channel_day where day = ? and channel_id = ?", [DAY, D])
    assert d["unique_chatters"] == published(audience, "channel_people", DAY, D, SIGNAL, exact=3)
    assert d["peak_viewers"] == 100  # Helix's public viewer count is kept
    avg = 3 + int(figure_noise(audience).draw([figure_id("channel_avg_people", DAY, D, SIGNAL)])[0])
    if avg < audience.k:
        assert d["avg_chatters"] is None and d["chatters_per_viewer"] is None
    else:
        assert d["avg_chatters"] == avg and d["chatters_per_viewer"] == round(avg / 100, 4)
    # a broadcast's peak and average come from its chat's published curve: D's one hour
    bucket = series_bucket(at(DAY, "20:00"))
    peak = published_series(audience, "chat_hour_people", bucket, D, SIGNAL, exact=3)
    got = query(
        audience,
        "select peak_chatters, avg_chatters from stream_sessions where channel_id = ?",
        [D],
    )
    assert got[0] == (peak, None if peak is None else float(peak))


def test_habits_publish_hours_of_the_week(audience: Settings) -> None:
    rows = query(
        audience,
        "select bucket, bucket_min, bucket_max, value, share from viewer_habits "
        "where day = ? and metric = 'hour_of_week'",
        [DAY],
    )
    # 2026-11-27 is a Friday: (5 - 1) * 24 + 20 = 116; people = 1..45, 100..130, 501..503
    value = noisy(audience, "habits", DAY, SIGNAL, "hour_of_week", 116, exact=79)
    people = noisy(audience, "habits_people", DAY, SIGNAL, exact=79)
    assert [r for r in rows if r[0] == 116] == [
        (116, 116, 116, value, round(min(1.0, value / people), 6))
    ]
    # every hour of the day is a figure, the empty ones too: one of them may be published
    # when its noise alone reaches k (each run draws its own key), never under k
    assert all(r[3] >= audience.k for r in rows)
