"""The community, game and chat series and the broadcasts count people, as every other
figure does (int_bots declares who is a bot), and the
pipeline's row counts of a day are not the exact person-snapshots of its chats.

A lurker bot sits in 20 chats at once on the first day (so int_bots flags it for the 7
days that follow) and, on the second day, in one chat of 12 people only: a per-snapshot
rule alone would count it as a person there.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, grid, query, run_load
from privacy.expect import exact_settings, health_count, published_series
from streamcensus.config import Settings
from streamcensus.lake.schema import CURATED
from streamcensus.transform.protect import series_bucket

BEFORE = DAY - dt.timedelta(days=1)
LURKER = 9_500_001
CHAT = "8000"
PEOPLE = list(range(800_000, 800_012))
SIGNAL = "chat_list"


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("series")
    builder = LakeBuilder(data_dir / "lake")
    many = [f"{8100 + i}" for i in range(20)]
    streams = [Stream(c, 50, at(BEFORE, "19:00")) for c in many]
    for moment in grid(at(BEFORE, "20:00"), at(BEFORE, "20:10")):
        builder.snapshot(moment, streams, {c: [LURKER] for c in many})
    game = Stream(CHAT, 300, at(DAY, "19:00"), game_id="21779", game_name="League of Legends")
    for moment in grid(at(DAY, "20:00"), at(DAY, "20:10")):
        builder.snapshot(moment, [game], {CHAT: [*PEOPLE, LURKER]})
    settings = exact_settings(data_dir)
    run_load(settings, [BEFORE, DAY])
    return settings


def test_the_lurker_is_a_bot_on_the_quiet_day(series: Settings) -> None:
    root = series.lake_dir / CURATED / "int_bots"
    rows = duckdb.sql(
        f"select is_bot, peak_chats, window_peak_chats from read_parquet('{root}/*/*.parquet') "
        f"where day = '{DAY}' and viewer = {LURKER}"
    ).fetchall()
    assert rows == [(True, 1, 20)]


def test_community_chatters_count_people_without_the_bot(series: Settings) -> None:
    rows = query(
        series,
        "select snapshot_ts, chatters from community_chatters where day = ? and signal = ? "
        "order by snapshot_ts",
        [DAY, SIGNAL],
    )
    assert len(rows) == 3
    for moment, chatters in rows:
        assert chatters == published_series(
            series, "community_hour_people", series_bucket(moment), SIGNAL, exact=len(PEOPLE)
        )


def test_game_chatters_count_people_without_the_bot(series: Settings) -> None:
    rows = query(
        series,
        "select snapshot_ts, game_id, chatters from community_chatters_by_game "
        "where day = ? and signal = ? order by snapshot_ts",
        [DAY, SIGNAL],
    )
    assert len(rows) == 3
    for moment, game, chatters in rows:
        assert game == "21779"
        assert chatters == published_series(
            series, "game_hour_people", series_bucket(moment), SIGNAL, game, exact=len(PEOPLE)
        )


def test_the_chat_curve_and_the_broadcast_count_people_without_the_bot(series: Settings) -> None:
    # the per-snapshot rule alone (accounts in bot_min_chats chats at that snapshot) saw 13
    # people here: the chat's curve and its broadcast count as int_bots declares
    expected = published_series(
        series, "chat_hour_people", series_bucket(at(DAY, "20:00")), CHAT, SIGNAL, exact=12
    )
    assert expected == 12  # at ε = 10 and this key: no noise on this figure
    rows = query(
        series,
        "select published_chatters from int_snapshot_channels "
        "where day = ? and channel_id = ? and signal = ?",
        [DAY, CHAT, SIGNAL],
    )
    assert rows == [(12,)] * 3
    assert query(
        series,
        "select peak_chatters, avg_chatters from stream_sessions where channel_id = ?",
        [CHAT],
    ) == [(12, 12.0)]


def test_the_day_s_presence_rows_are_not_published_exactly(series: Settings) -> None:
    # 3 snapshots of 13 accounts in one chat: the exact person-snapshots of that chat
    [(observations, sessions)] = query(
        series,
        "select presence_observations, viewing_sessions from pipeline_health where day = ?",
        [DAY],
    )
    exact = 3 * (len(PEOPLE) + 1)
    assert observations == health_count(series, "presence_observations", DAY, exact=exact)
    assert sessions == health_count(series, "viewing_sessions", DAY, exact=len(PEOPLE) + 1)
    assert observations != exact
