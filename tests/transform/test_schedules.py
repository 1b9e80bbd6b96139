"""Schedules and curves on a hand-made lake: stream_sessions, channel_day, community_timeseries."""

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
    one,
    query,
    run_load,
)
from privacy.expect import exact_settings, health_count
from streamcensus.config import Settings

ALICE = "1001"
BOB = "1002"
CHATTERS = list(range(1, 13))  # 12 accounts, over k = 10


def _alice(i: int, moment: dt.datetime) -> Stream:
    return Stream(
        ALICE,
        viewer_count=100 + 10 * i,
        started_at=at(DAY, "20:00"),
        game_id="509658" if moment < at(DAY, "21:00") else "33214",
        game_name="Just Chatting" if moment < at(DAY, "21:00") else "Fortnite",
        title="a" if moment < at(DAY, "21:30") else "b",
        login="alice",
    )


@pytest.fixture(scope="module")
def evening(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Alice live 20:00-22:30 (viewers 100, 110, ..., 400); Bob 19:50-20:30 with 50 viewers."""
    data_dir: Path = tmp_path_factory.mktemp("evening")
    builder = LakeBuilder(data_dir / "lake")
    for i, moment in enumerate(grid(at(DAY, "20:00"), at(DAY, "22:30"))):
        streams = [_alice(i, moment)]
        if moment <= at(DAY, "20:30"):
            streams.append(
                Stream(BOB, 50, at(DAY, "19:50"), login="bob", chatters_status="forbidden")
            )
        builder.snapshot(moment, streams, {ALICE: CHATTERS})
    settings = exact_settings(data_dir)
    run_load(settings)
    return settings


def test_a_broadcast_is_one_session_with_exact_peak_average_and_viewer_hours(
    evening: Settings,
) -> None:
    row = one(evening, "select * from stream_sessions where channel_id = ?", [ALICE])
    assert row["day"] == DAY
    assert row["started_at"] == at(DAY, "20:00")
    assert row["ended_at"] == at(DAY, "22:30")
    assert row["duration_minutes"] == 150
    assert row["snapshots"] == 31
    assert row["airtime_minutes"] == 155
    assert row["peak_viewers"] == 400
    assert row["avg_viewers"] == 250.0
    assert row["viewer_hours"] == round(31 * 250 * 5 / 60, 4) == 645.8333
    assert row["main_game"] == "Fortnite"
    assert row["game_count"] == 2
    assert row["games"] == "Just Chatting (60 min), Fortnite (95 min)"
    assert row["title_changes"] == 1
    assert row["last_title"] == "b"
    assert row["channel_login"] == "alice"
    assert (row["peak_chatters"], row["avg_chatters"]) == (12, 12.0)


def test_games_of_a_broadcast_have_their_minutes(evening: Settings) -> None:
    rows = query(
        evening,
        "select game_name, snapshots, minutes from stream_session_games "
        "where channel_id = ? order by first_seen",
        [ALICE],
    )
    assert rows == [("Just Chatting", 12, 60), ("Fortnite", 19, 95)]


def test_a_broadcast_started_before_the_first_snapshot_keeps_its_helix_start(
    evening: Settings,
) -> None:
    row = one(evening, "select * from stream_sessions where channel_id = ?", [BOB])
    assert row["started_at"] == at(DAY, "19:50")
    assert row["duration_minutes"] == 40
    assert (row["peak_viewers"], row["avg_viewers"]) == (50, 50.0)
    assert row["peak_chatters"] is None  # chatters never readable (forbidden)


def test_channel_day_sums_airtime_viewers_and_chatters(evening: Settings) -> None:
    row = one(evening, "select * from channel_day where channel_id = ?", [ALICE])
    assert row["day"] == DAY
    assert row["broadcasts"] == 1
    assert row["snapshots"] == 31
    assert row["airtime_hours"] == round(155 / 60, 4)
    assert (row["peak_viewers"], row["avg_viewers"]) == (400, 250.0)
    assert row["viewer_hours"] == 645.8333
    assert row["main_game"] == "Fortnite"
    assert row["unique_chatters"] == 12
    assert row["avg_chatters"] == 12.0
    assert row["chatters_per_viewer"] == round(12 * 31 / 7750, 4)
    assert row["returning_chatters"] is None  # no earlier day
    assert row["bot_share"] == 0.0
    bob = one(evening, "select * from channel_day where channel_id = ?", [BOB])
    assert (bob["unique_chatters"], bob["chatters_per_viewer"], bob["bot_share"]) == (
        None,
        None,
        None,
    )


def test_community_timeseries_gives_viewers_per_live_channel(evening: Settings) -> None:
    first = one(
        evening, "select * from community_timeseries where snapshot_ts = ?", [at(DAY, "20:00")]
    )
    assert first["live_channels"] == 2
    assert first["viewers"] == 150
    assert first["viewers_per_live_channel"] == 75.0
    assert first["snapshot_status"] == "complete"
    chat = one(
        evening, "select * from community_chatters where snapshot_ts = ?", [at(DAY, "20:00")]
    )
    assert chat["signal"] == "chat_list"  # no chat activity in this lake
    assert (chat["channels_read"], chat["viewers_read"]) == (1, 100)
    assert chat["chatters"] == 12  # the hour's people per snapshot (published by hour)
    # over the hour's average viewers in the chats read: Alice's 100, 110, ..., 210
    assert chat["chatters_per_viewer"] == round(12 / 155, 4)
    later = one(
        evening, "select * from community_timeseries where snapshot_ts = ?", [at(DAY, "21:00")]
    )
    assert (later["live_channels"], later["viewers"], later["viewers_per_live_channel"]) == (
        1,
        220,
        220.0,
    )
    assert query(evening, "select count(*) from community_timeseries") == [(31,)]


def test_community_timeseries_by_game(evening: Settings) -> None:
    rows = query(
        evening,
        "select game_name, live_channels, viewers, viewers_per_live_channel "
        "from community_timeseries_by_game where snapshot_ts = ? order by game_name",
        [at(DAY, "20:00")],
    )
    assert rows == [("Just Chatting", 2, 150, 75.0)]
    rows = query(
        evening,
        "select signal, game_name, chatters from community_chatters_by_game where snapshot_ts = ?",
        [at(DAY, "20:00")],
    )
    assert rows == [("chat_list", "Just Chatting", 12)]
    rows = query(
        evening,
        "select game_name, live_channels, viewers from community_timeseries_by_game "
        "where snapshot_ts = ?",
        [at(DAY, "22:30")],
    )
    assert rows == [("Fortnite", 1, 400)]


def test_pipeline_health_counts_snapshots_and_bytes(evening: Settings) -> None:
    row = one(evening, "select * from pipeline_health")
    assert row["day"] == DAY
    assert row["snapshots_expected"] == 288
    assert (row["snapshots"], row["snapshots_complete"], row["snapshots_partial"]) == (31, 31, 0)
    assert row["snapshots_without_manifest"] == 0
    assert row["raw_files"] == 93
    # the rows of people's presence and sessions are sums over people: published noisy
    exact = query(
        evening, "select sum(rows) from loaded_files where day = ? and kind = 'chatters'", [DAY]
    )
    assert exact == [(31 * 12,)]
    observations = health_count(evening, "presence_observations", DAY, exact=31 * 12)
    assert row["presence_observations"] == observations
    assert row["viewing_sessions"] == health_count(evening, "viewing_sessions", DAY, exact=12)
    assert row["raw_chatters_bytes"] > 0 and row["curated_bytes"] > 0
    assert row["raw_bytes_per_observation"] == (
        round(row["raw_chatters_bytes"] / observations, 3) if observations else None
    )
    assert row["quarantined_files"] == 0
    assert row["presence_retired"] is False


def test_a_broadcast_across_midnight_is_completed_by_the_next_day(tmp_path: Path) -> None:
    builder = LakeBuilder(tmp_path / "lake")
    following = DAY + dt.timedelta(days=1)
    for moment in grid(at(DAY, "23:00"), at(following, "01:00")):
        builder.snapshot(moment, [Stream("1003", 60, at(DAY, "23:00"))], {"1003": range(15)})
    settings = exact_settings(tmp_path)
    run_load(settings, [DAY])
    partial = one(settings, "select snapshots, ended_at from stream_sessions")
    assert partial == {"snapshots": 12, "ended_at": at(DAY, "23:55")}
    run_load(settings, [following], today=following + dt.timedelta(days=1))
    row = one(
        settings, "select day, snapshots, duration_minutes, viewer_hours from stream_sessions"
    )
    assert row == {"day": DAY, "snapshots": 25, "duration_minutes": 120, "viewer_hours": 125.0}
    assert query(settings, "select day, airtime_hours from channel_day order by day") == [
        (DAY, 1.0),
        (following, round(13 * 5 / 60, 4)),
    ]
    # viewing sessions are per UTC day: the 15 chatters have one session on each day
    assert query(
        settings, "select sum(rows) from curated_files where model = 'viewing_sessions'"
    ) == [(30,)]
