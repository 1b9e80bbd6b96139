"""Differencing attacks on the people series: a chat's hourly curve, a game's and the
community's people by hour, a broadcast's peak and average.

Every hour of a day, game G has chats X (20 people) and Y (15 people, t of them also in X)
and game B has chat Z (s people): 1 ≤ s, t ≤ k − 1, different each hour. On exact counts
community − G gives Z's s people and X + Y − G gives the t people of both chats, every
hour, down to one person. Published, each figure is its hour's average per snapshot with
its own noise, so such a combination hits the truth only by chance, and the attacker
cannot tell a hit from a miss: at most half of the hours may be hit (as in
test_attacks.py; with this key 5 and 1 of 24), and no published value is under k. The
tables read are the ones the API and the export publish from.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, query, run_load
from privacy.expect import fix_noise_key, published_series
from streamcensus.config import Settings
from streamcensus.transform.protect import series_bucket

SIGNAL = "chat_list"
X, Y, Z = "7001", "7002", "7003"
G = ("33214", "Fortnite")
B = ("27471", "Minecraft")
HOURS = 24
MAX_EXACT_SHARE = 0.5


def _small(hour: int, step: int) -> int:
    """A group of 1..9 people, different from hour to hour."""
    return 1 + (hour * step + 3) % 9


def _chats(hour: int) -> dict[str, list[int]]:
    shared = _small(hour, 5)
    return {
        X: list(range(1, 21)),
        Y: list(range(21 - shared, 36 - shared)),
        Z: list(range(500 + 20 * hour, 500 + 20 * hour + _small(hour, 7))),
    }


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One snapshot at the start of every hour of DAY (each hour's figure is that
    snapshot's people), at the default ε, with a fixed noise key."""
    data_dir: Path = tmp_path_factory.mktemp("series_attacks")
    builder = LakeBuilder(data_dir / "lake")
    for hour in range(HOURS):
        moment = at(DAY, f"{hour:02d}:00")
        streams = [
            Stream(X, 100, at(DAY, "00:00"), game_id=G[0], game_name=G[1], login="x"),
            Stream(Y, 100, at(DAY, "00:00"), game_id=G[0], game_name=G[1], login="y"),
            Stream(Z, 100, at(DAY, "00:00"), game_id=B[0], game_name=B[1], login="z"),
        ]
        builder.snapshot(moment, streams, _chats(hour))
    settings = Settings(data_dir=data_dir)
    fix_noise_key(settings)
    run_load(settings, [DAY])
    return settings


def _by_hour(rows: list[tuple[Any, ...]]) -> dict[int, Any]:
    return {ts.astimezone(dt.UTC).hour: value for ts, value in rows}


def _curve(settings: Settings, channel: str) -> dict[int, Any]:
    return _by_hour(
        query(
            settings,
            "select snapshot_ts, published_chatters from int_snapshot_channels "
            "where channel_id = ? and signal = ?",
            [channel, SIGNAL],
        )
    )


def _game(settings: Settings, game: str) -> dict[int, Any]:
    return _by_hour(
        query(
            settings,
            "select snapshot_ts, chatters from community_chatters_by_game "
            "where game_id = ? and signal = ?",
            [game, SIGNAL],
        )
    )


def _community(settings: Settings) -> dict[int, Any]:
    return _by_hour(
        query(
            settings,
            "select snapshot_ts, chatters from community_chatters where signal = ?",
            [SIGNAL],
        )
    )


def _hits(guesses: dict[int, int | None], truth: dict[int, int]) -> int:
    return sum(1 for hour, guess in guesses.items() if guess == truth[hour])


def test_the_series_are_the_hourly_figures(series: Settings) -> None:
    # each hour's published value is that hour's figure: its exact people, its own noise
    for hour in (0, 12, 23):
        bucket = series_bucket(at(DAY, f"{hour:02d}:00"))
        chats = _chats(hour)
        game = len(set(chats[X]) | set(chats[Y]))
        assert _curve(series, X)[hour] == published_series(
            series, "chat_hour_people", bucket, X, SIGNAL, exact=20
        )
        assert _game(series, G[0])[hour] == published_series(
            series, "game_hour_people", bucket, SIGNAL, G[0], exact=game
        )
        assert _community(series)[hour] == published_series(
            series, "community_hour_people", bucket, SIGNAL, exact=game + len(chats[Z])
        )


def test_no_published_series_value_is_under_k(series: Settings) -> None:
    values = [
        *_curve(series, X).values(),
        *_curve(series, Y).values(),
        *_curve(series, Z).values(),
        *_game(series, G[0]).values(),
        *_game(series, B[0]).values(),
        *_community(series).values(),
    ]
    assert len(values) == 6 * HOURS
    assert all(v is None or v >= series.k for v in values)
    # most of Z's hours (1..9 people) are suppressed, and published ones are noise's luck
    assert sum(v is None for v in _curve(series, Z).values()) >= HOURS // 2


def test_community_less_a_game_does_not_give_the_other_game_s_people(series: Settings) -> None:
    community, game = _community(series), _game(series, G[0])
    truth = {hour: len(_chats(hour)[Z]) for hour in range(HOURS)}
    assert set(truth.values()) == set(range(1, 10))  # every size under k, one person included
    guesses = {
        hour: community[hour] - game[hour]
        for hour in range(HOURS)
        if community[hour] is not None and game[hour] is not None
    }
    assert len(guesses) == HOURS  # both are published every hour: the attack runs
    assert _hits(guesses, truth) <= MAX_EXACT_SHARE * HOURS


def test_two_chats_less_their_game_do_not_give_the_people_of_both(series: Settings) -> None:
    x, y, game = _curve(series, X), _curve(series, Y), _game(series, G[0])
    truth = {hour: len(set(_chats(hour)[X]) & set(_chats(hour)[Y])) for hour in range(HOURS)}
    assert set(truth.values()) == set(range(1, 10))
    guesses = {
        hour: x[hour] + y[hour] - game[hour]
        for hour in range(HOURS)
        if None not in (x[hour], y[hour], game[hour])
    }
    assert len(guesses) == HOURS
    assert _hits(guesses, truth) <= MAX_EXACT_SHARE * HOURS


def test_a_broadcast_s_peak_and_average_are_its_chat_s_published_hours(
    series: Settings,
) -> None:
    # computed from the curve the channel page shows: nothing of their own to difference
    hours = list(_curve(series, Y).values())
    [(peak, avg)] = query(
        series,
        "select peak_chatters, avg_chatters from stream_sessions where channel_id = ?",
        [Y],
    )
    assert peak == max(v for v in hours if v is not None)
    assert avg == (None if None in hours else round(sum(hours) / len(hours), 2))
