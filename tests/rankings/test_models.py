"""The rankings models on the hand-made lake of lake.py: figures computed by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from load.lakebuilder import DAY, query
from privacy.expect import published
from rankings.lake import ALICE, BOB, CAROL, CHATTING, FORTNITE, WEEK_AGO, YESTERDAY
from streamcensus.config import Settings

FIGURES = (
    "value, previous_value, change, change_pct, rank, days_covered, previous_days_covered, complete"
)


def ranking(
    settings: Settings,
    window: int,
    kind: str,
    subject: str,
    measure: str,
    signal: str | None = None,
    day: dt.date = DAY,
) -> tuple[Any, ...]:
    rows = query(
        settings,
        f"select {FIGURES} from rankings where day = ? and window_days = ? and kind = ? "
        "and subject_id = ? and measure = ? and signal is not distinct from ?",
        [day, window, kind, subject, measure, signal],
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_game_day_sums_the_channels_of_a_game_snapshot_by_snapshot(ranked: Settings) -> None:
    rows = query(
        ranked,
        "select game_id, game_name, channels, snapshots, live_hours, airtime_hours, "
        "peak_viewers, avg_viewers, viewer_hours from game_day where day = ? order by game_id",
        [DAY],
    )
    # Fortnite: bob 60, 80, 100 and carol 5 at 20:00 -> 65, 80, 100 a snapshot
    assert rows == [
        (FORTNITE, "Fortnite", 2, 3, 0.25, round(4 * 5 / 60, 4), 100, 81.67, 20.4167),
        (CHATTING, "Just Chatting", 1, 3, 0.25, 0.25, 300, 300.0, 75.0),
    ]


def test_game_channel_day_has_each_channel_in_its_game(ranked: Settings) -> None:
    rows = query(
        ranked,
        "select game_id, channel_login, snapshots, airtime_hours, peak_viewers, viewer_hours "
        "from game_channel_day where day = ? order by game_id, channel_login",
        [DAY],
    )
    assert rows == [
        (FORTNITE, "bob", 3, 0.25, 100, 20.0),
        (FORTNITE, "carol", 1, 0.0833, 5, 0.4167),
        (CHATTING, "alice", 3, 0.25, 300, 75.0),
    ]


def test_viewer_figures_over_the_day_and_their_change(ranked: Settings) -> None:
    # alice: 300 viewers × 3 snapshots of 5 minutes; the day before 200
    assert ranking(ranked, 1, "channels", ALICE, "hours_watched") == (
        75.0,
        50.0,
        25.0,
        0.5,
        1,
        1,
        1,
        True,
    )
    assert ranking(ranked, 1, "channels", ALICE, "peak_viewers")[:4] == (300.0, 200.0, 100.0, 0.5)
    assert ranking(ranked, 1, "channels", ALICE, "avg_viewers")[:4] == (300.0, 200.0, 100.0, 0.5)
    assert ranking(ranked, 1, "channels", ALICE, "airtime_hours")[:4] == (0.25, 0.25, 0.0, 0.0)
    # bob: 60, 80, 100 against 50 × 3
    assert ranking(ranked, 1, "channels", BOB, "hours_watched")[:5] == (20.0, 12.5, 7.5, 0.6, 2)
    assert ranking(ranked, 1, "channels", BOB, "avg_viewers")[:4] == (80.0, 50.0, 30.0, 0.6)


def test_a_subject_not_live_in_a_loaded_previous_period_starts_from_zero(
    ranked: Settings,
) -> None:
    # carol was not live the day before (a loaded day): 0 before, no relative change
    assert ranking(ranked, 1, "channels", CAROL, "hours_watched")[:5] == (
        0.4167,
        0.0,
        0.4167,
        None,
        3,
    )
    assert ranking(ranked, 1, "channels", CAROL, "peak_viewers")[:4] == (5.0, 0.0, 5.0, None)
    # an average over no airtime does not exist
    assert ranking(ranked, 1, "channels", CAROL, "avg_viewers")[:4] == (5.0, None, None, None)


def test_seven_days_sum_the_days_loaded_and_say_the_window_is_incomplete(
    ranked: Settings,
) -> None:
    # the week ending on DAY holds YESTERDAY and DAY; the week before it WEEK_AGO
    assert ranking(ranked, 7, "channels", ALICE, "hours_watched") == (
        125.0,
        25.0,
        100.0,
        4.0,
        1,
        2,
        1,
        False,
    )
    assert ranking(ranked, 7, "channels", ALICE, "avg_viewers")[:4] == (250.0, 100.0, 150.0, 1.5)
    assert ranking(ranked, 7, "channels", ALICE, "peak_viewers")[:2] == (300.0, 100.0)
    assert ranking(ranked, 7, "channels", BOB, "hours_watched")[:4] == (32.5, 0.0, 32.5, None)


def test_thirty_days_without_a_loaded_previous_period_have_no_change(ranked: Settings) -> None:
    assert ranking(ranked, 30, "channels", ALICE, "hours_watched") == (
        150.0,
        None,
        None,
        None,
        1,
        3,
        0,
        False,
    )
    assert ranking(ranked, 30, "channels", ALICE, "airtime_hours")[:2] == (0.75, None)


def test_games_rank_by_their_channels_figures(ranked: Settings) -> None:
    assert ranking(ranked, 1, "games", FORTNITE, "hours_watched")[:5] == (
        20.4167,
        12.5,
        7.9167,
        0.6333,
        2,
    )
    assert ranking(ranked, 1, "games", FORTNITE, "airtime_hours")[:2] == (0.3333, 0.25)
    assert ranking(ranked, 1, "games", FORTNITE, "avg_viewers")[:2] == (81.67, 50.0)
    assert ranking(ranked, 7, "games", CHATTING, "hours_watched")[:4] == (125.0, 25.0, 100.0, 4.0)


def test_window_completeness_counts_loaded_days(ranked: Settings) -> None:
    rows = query(
        ranked,
        "select window_days, min(days_covered), max(days_covered), bool_or(complete) "
        "from rankings where day = ? and signal is null group by window_days order by 1",
        [DAY],
    )
    assert rows == [(1, 1, 1, True), (7, 2, 2, False), (30, 3, 3, False)]
    # a week ago only its own day was loaded
    week = query(
        ranked,
        "select distinct days_covered, previous_days_covered from rankings "
        "where day = ? and window_days = 7 and signal is null",
        [WEEK_AGO],
    )
    assert week == [(1, 0)]


def test_chatters_are_the_protected_people_over_each_window(ranked: Settings) -> None:
    def people(window: int, subject: str, exact: int, day: dt.date = DAY) -> int | None:
        if window == 1:
            return published(ranked, "channel_people", day, subject, "chat_list", exact=exact)
        return published(ranked, "window_people", day, window, "chat_list", subject, exact=exact)

    # alice on DAY: people 1-11 and 16-20 (the bot is not a person); the week: 1-20
    assert ranking(ranked, 1, "channels", ALICE, "chatters", "chat_list")[:5] == (
        people(1, ALICE, 16),
        people(1, ALICE, 15, YESTERDAY),
        people(1, ALICE, 16) - people(1, ALICE, 15, YESTERDAY),  # type: ignore[operator]
        round((16 - 15) / 15, 4),
        1,
    )
    week = ranking(ranked, 7, "channels", ALICE, "chatters", "chat_list")
    assert week[:2] == (people(7, ALICE, 20), people(7, ALICE, 12, WEEK_AGO))
    assert ranking(ranked, 30, "channels", ALICE, "chatters", "chat_list")[:2] == (
        people(30, ALICE, 20),
        None,
    )
    # bob: exactly k people on DAY (101-110), 13 the day before (101-112 and 1)
    assert ranking(ranked, 1, "channels", BOB, "chatters", "chat_list")[:2] == (
        people(1, BOB, 10),
        people(1, BOB, 13, YESTERDAY),
    )
    # games: Fortnite's chats on DAY hold bob's 10 and carol's 3
    fortnite = published(ranked, "game_window_people", DAY, 1, "chat_list", FORTNITE, exact=13)
    assert ranking(ranked, 1, "games", FORTNITE, "chatters", "chat_list")[0] == fortnite
    fortnite_week = published(ranked, "game_window_people", DAY, 7, "chat_list", FORTNITE, exact=16)
    assert ranking(ranked, 7, "games", FORTNITE, "chatters", "chat_list")[0] == fortnite_week


def test_a_chat_under_k_has_no_chatters_and_no_rank(ranked: Settings) -> None:
    for window in (1, 7, 30):
        assert ranking(ranked, window, "channels", CAROL, "chatters", "chat_list")[:5] == (
            None,
            None,
            None,
            None,
            None,
        )


def test_the_day_figure_is_the_channel_pages_figure(ranked: Settings) -> None:
    same = query(
        ranked,
        "select r.subject_id, r.value, p.unique_chatters from rankings as r "
        "inner join channel_day_presence as p on r.day = p.day and r.subject_id = p.channel_id "
        "and r.signal = p.signal where r.window_days = 1 and r.kind = 'channels' "
        "and r.measure = 'chatters' order by 1, r.day",
    )
    assert same, "no chatters figure of a day"
    assert all(value == (None if people is None else float(people)) for _, value, people in same)


def test_a_signal_not_read_has_null_chatters(ranked: Settings) -> None:
    rows = query(
        ranked,
        "select count(*), count(value), max(days_covered) from rankings "
        "where measure = 'chatters' and signal = 'chat_activity'",
    )
    assert rows[0][0] > 0
    assert rows[0][1:] == (0, 0)
