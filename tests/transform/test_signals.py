"""Two presence signals in one warehouse, on a hand-built lake with figures worked by hand.

A consents: its chat list is read (people 1..30) and its chat is joined (posters 1..12,
then 5..16, then nobody). B and C do not consent (chat list forbidden): only who posts is
known. B: posters 5..20 in every window, plus a known bot at 20:00. C: posters 100..111,
its second window partial (joined half of it), its third not joined. The next day B's
posters 5..20 come back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, one, query, run_load
from privacy.expect import exact_settings
from streamcensus.config import Settings

A, B, C = "3001", "3002", "3003"
BOT = 999
NEXT = DAY + dt.timedelta(days=1)
FRIDAY_20H = (5 - 1) * 24 + 20


def _streams(day: dt.date) -> list[Stream]:
    return [
        Stream(A, 300, at(day, "19:00"), login="alice"),
        Stream(B, 200, at(day, "19:00"), login="bob", chatters_status="forbidden"),
        Stream(C, 100, at(day, "19:00"), login="carol", chatters_status="forbidden"),
    ]


WINDOWS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        "20:00",
        {A: range(1, 13), B: [*range(5, 21), BOT], C: {v: 3 for v in range(100, 112)}},
        {A: "complete", B: "complete", C: "complete"},
    ),
    (
        "20:05",
        {A: range(5, 17), B: range(5, 21), C: range(100, 112)},
        {A: "complete", B: "complete", C: "partial"},
    ),
    ("20:10", {B: range(5, 21)}, {A: "complete", B: "complete", C: "not_joined"}),
]


def build(lake: Path) -> None:
    """The lake described in the module docstring."""
    builder = LakeBuilder(lake, known_bots=[BOT])
    for hhmm, activity, coverage in WINDOWS:
        builder.snapshot(
            at(DAY, hhmm),
            _streams(DAY),
            {A: range(1, 31)},
            activity=activity,
            coverage=coverage,
        )
    builder.snapshot(
        at(NEXT, "20:00"),
        _streams(NEXT)[1:2],
        {},
        activity={B: range(5, 21)},
    )


@pytest.fixture(scope="module")
def signals(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("signals")
    build(data_dir / "lake")
    settings = exact_settings(data_dir)
    run_load(settings, today=NEXT + dt.timedelta(days=1))
    return settings


def _presence(settings: Settings, day: dt.date, channel: str, signal: str) -> dict[str, Any]:
    return one(
        settings,
        "select * from channel_day_presence where day = ? and channel_id = ? and signal = ?",
        [day, channel, signal],
    )


def test_a_channel_day_uses_the_chat_list_where_it_has_one(signals: Settings) -> None:
    rows = query(
        signals,
        "select channel_id, has_chat_list, has_chat_activity, signal, unique_chatters, "
        "avg_chatters, chat_snapshots_missed from channel_day where day = ? order by channel_id",
        [DAY],
    )
    assert rows == [
        (A, True, True, "chat_list", 30, 30.0, 0),
        # posters 5..20 in every window (the bot at 20:00 is not a person)
        (B, False, True, "chat_activity", 16, 16.0, 0),
        (C, False, True, "chat_activity", 12, 12.0, 2),  # a partial and a not-joined window
    ]


def test_each_signal_has_its_own_figures(signals: Settings) -> None:
    listed = _presence(signals, DAY, A, "chat_list")
    assert (listed["snapshots_read"], listed["unique_chatters"], listed["avg_chatters"]) == (
        3,
        30,
        30.0,
    )
    assert listed["chatters_per_viewer"] == round(90 / 900, 4)
    posted = _presence(signals, DAY, A, "chat_activity")
    # 1..16 posted; 12 + 12 + 0 posters per window: an average of 8 is under k
    assert (posted["snapshots_read"], posted["unique_chatters"]) == (3, 16)
    assert posted["avg_chatters"] is None and posted["chatters_per_viewer"] is None
    assert posted["complete"] is True
    carol = _presence(signals, DAY, C, "chat_activity")
    assert (carol["snapshots_read"], carol["snapshots_missed"], carol["complete"]) == (2, 2, False)
    assert query(
        signals,
        "select count(*) from channel_day_presence where signal = 'chat_list' "
        "and channel_id in (?, ?)",
        [B, C],
    ) == [(0,)]


def test_returning_chatters_stay_within_their_signal(signals: Settings) -> None:
    bob = _presence(signals, NEXT, B, "chat_activity")
    assert (bob["unique_chatters"], bob["returning_chatters"]) == (16, 16)
    row = one(signals, "select * from channel_day where day = ? and channel_id = ?", [NEXT, B])
    assert (row["signal"], row["returning_chatters"]) == ("chat_activity", 16)


def test_bot_share_per_signal(signals: Settings) -> None:
    rows = query(
        signals,
        "select channel_id, signal, chatters, known_bots, bot_share from bot_share "
        "where day = ? order by channel_id, signal",
        [DAY],
    )
    assert rows == [
        (A, "chat_activity", 16, 0, 0.0),
        (A, "chat_list", 30, 0, 0.0),
        (B, "chat_activity", 17, 1, round(1 / 17, 4)),
        (C, "chat_activity", 12, 0, 0.0),
    ]


def test_overlap_per_signal(signals: Settings) -> None:
    rows = query(
        signals,
        "select signal, channel_a, channel_b, shared_chatters, chatters_a, chatters_b, jaccard "
        "from audience_overlap where day = ? and window_days = 1",
        [DAY],
    )
    # posters: A = 1..16, B = 5..20 (the bot is not a person): 12 shared of 20
    assert rows == [("chat_activity", A, B, 12, 16, 16, 0.6)]


def test_community_chatters_per_signal(signals: Settings) -> None:
    rows = query(
        signals,
        "select strftime(snapshot_ts, '%H:%M'), signal, channels_read, viewers_read, chatters "
        "from community_chatters where day = ? order by snapshot_ts, signal",
        [DAY],
    )
    # people who posted: 20 + 12 at 20:00 (1..20, 100..111: a bot is no one), 16 + 12 at
    # 20:05 (the partial window was read), 16 at 20:10 (C not joined: not read); published
    # as the hour's average per snapshot read, on each snapshot of the hour
    posted = round((20 + 12 + 16 + 12 + 16) / 3)
    assert rows == [
        ("20:00", "chat_activity", 3, 600, posted),
        ("20:00", "chat_list", 1, 300, 30),
        ("20:05", "chat_activity", 3, 600, posted),
        ("20:05", "chat_list", 1, 300, 30),
        ("20:10", "chat_activity", 2, 500, posted),
        ("20:10", "chat_list", 1, 300, 30),
    ]


def test_habits_per_signal(signals: Settings) -> None:
    rows = query(
        signals,
        "select signal, value, share from viewer_habits "
        "where day = ? and metric = 'hour_of_week' and bucket = ? order by signal",
        [DAY, FRIDAY_20H],
    )
    # people who posted: 1..20 and 100..111 (the bot excluded); in the chat list: 1..30
    assert rows == [("chat_activity", 32, 1.0), ("chat_list", 30, 1.0)]


def test_exposure_per_signal(signals: Settings) -> None:
    rows = query(
        signals,
        "select signal, population from exposure where day = ? and window_days = 1 "
        "and measure = 'channel_set'",
        [DAY],
    )
    assert sorted(rows) == [("chat_activity", 32), ("chat_list", 30)]
    # by their set of channels: posters in A only (1..4), in B only (17..20), in C only
    # (100..111) and in both (5..16) are each a group of more than one: nobody unique
    assert query(
        signals,
        "select unique_share from exposure where day = ? and window_days = 1 "
        "and measure = 'channel_set' and signal = 'chat_activity'",
        [DAY],
    ) == [(0.0,)]


def test_broadcasts_take_the_chat_list_where_read(signals: Settings) -> None:
    rows = query(
        signals,
        "select channel_id, signal, peak_chatters, avg_chatters from stream_sessions "
        "where day = ? order by channel_id",
        [DAY],
    )
    assert rows == [
        (A, "chat_list", 30, 30.0),
        (B, "chat_activity", 16, 16.0),  # people: the bot at 20:00 left out
        (C, "chat_activity", 12, 12.0),
    ]
