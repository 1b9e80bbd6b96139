"""Windows and the door, in process: assignment by tmi-sent-ts, coverage, keys, opt-outs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from streamcensus.clock import SimClock
from streamcensus.collect.chat import (
    ACTIVITY_SCHEMA,
    COVERAGE_SCHEMA,
    ChatCounters,
)
from streamcensus.collect.chat.door import Door
from streamcensus.collect.chat.windows import ChannelCoverage, WindowBook, window_end_ms
from streamcensus.collect.privacy import Pseudonymiser
from streamcensus.keys import KeyStore
from streamcensus.timeutil import UTC

T = 1_795_810_200  # a grid time (s)


def book(tmp_path: Path, **door: list[str]) -> tuple[WindowBook, ChatCounters, KeyStore]:
    clock = SimClock(T, speed=0)
    keys = KeyStore(tmp_path, 1, clock)
    counters = ChatCounters()
    return WindowBook(Door(keys, **door), counters), counters, keys


def test_messages_go_to_the_window_of_their_server_time(tmp_path: Path) -> None:
    wb, counters, _ = book(tmp_path, known_bots=["nightbot"])
    wb.message("1", T * 1000 - 1, "100", "ann")  # last ms of [T-300, T)
    wb.message("1", T * 1000, "100", "ann")  # first ms of [T, T+300)
    wb.message("1", T * 1000 + 5, "100", "ann")
    wb.message("1", T * 1000 + 6, "200", "nightbot")
    assert window_end_ms(T * 1000 - 1) == T * 1000 and window_end_ms(T * 1000) == (T + 300) * 1000
    first = wb.close(T * 1000, [], ChatCounters())
    second = wb.close((T + 300) * 1000, [], ChatCounters())
    assert first.activity.schema == ACTIVITY_SCHEMA and first.coverage.schema == COVERAGE_SCHEMA
    assert first.activity["messages"].to_pylist() == [1]
    rows = second.activity.to_pylist()
    assert sorted((r["messages"], r["is_bot"], r["bot_name"]) for r in rows) == [
        (1, True, "nightbot"),
        (2, False, None),
    ]
    wb.message("1", T * 1000 + 7, "100", "ann")  # its window is closed
    assert counters.late_messages == 1


def test_optouts_are_dropped_before_hashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real = Pseudonymiser.pseudonym
    monkeypatch.setattr(
        Pseudonymiser, "pseudonym", lambda self, uid: hashed.append(uid) or real(self, uid)
    )
    wb, counters, _ = book(tmp_path, optout_viewers=["Bob", "300"])
    for uid, login in (("100", "ann"), ("200", "bob"), ("300", "cyd")):
        wb.message("1", T * 1000, uid, login)
    assert hashed == ["100"]
    assert counters == ChatCounters()  # dropped without a trace, not even a count (P4)
    assert wb.close((T + 300) * 1000, [], ChatCounters()).activity.num_rows == 1


def test_coverage_status_and_seconds(tmp_path: Path) -> None:
    wb, _, _ = book(tmp_path)
    start, end = float(T), float(T + 300)
    wb.room_event("5", int(end * 1000), "malformed")
    wb.room_event("6", int(end * 1000), "usernotices")
    channels = [
        ChannelCoverage("1", [(start - 50, float("inf"))]),
        ChannelCoverage("2", [(start - 50, start + 100), (start + 160, float("inf"))]),
        ChannelCoverage("3", []),
        ChannelCoverage("4", [], suspended=True),
        ChannelCoverage("5", [(start, end)]),
        ChannelCoverage("6", [(start - 900, start - 600)]),
    ]
    table = wb.close(int(end * 1000), channels, ChatCounters()).coverage
    rows = {r["channel_id"]: r for r in table.to_pylist()}
    assert {k: (r["status"], r["seconds_joined"]) for k, r in rows.items()} == {
        "1": ("complete", 300.0),
        "2": ("partial", 240.0),
        "3": ("not_joined", 0.0),
        "4": ("suspended", 0.0),
        "5": ("partial", 300.0),  # joined throughout, but a line was lost
        "6": ("not_joined", 0.0),
    }
    assert rows["5"]["malformed_lines"] == 1 and rows["6"]["usernotices"] == 1


def test_a_window_keeps_the_key_of_its_day(tmp_path: Path) -> None:
    wb, _, keys = book(tmp_path)
    day = dt.datetime(2026, 11, 27, tzinfo=UTC)
    old = keys.current(day + dt.timedelta(hours=12))
    new = keys.current(day + dt.timedelta(days=1))  # the next day's key already exists
    assert old.key_id != new.key_id
    door = wb.door
    late = day + dt.timedelta(hours=23, minutes=55)
    assert door.pseudonymiser_for(late).key_id == old.key_id
    assert door.pseudonymiser_for(day + dt.timedelta(days=1)).key_id == new.key_id
    uid = "123456"
    assert door.pseudonymiser_for(late).pseudonym(uid) == Pseudonymiser(old, [], []).pseudonym(uid)
