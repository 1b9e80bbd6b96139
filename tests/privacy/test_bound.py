"""The per-person contribution bound: a person counts in at most `contribution_bound` chats
per day and signal in the per-chat people counts, the overlap sizes and pairs.

A hand-made day: 9 chats of 12 regulars each, and 120 wanderers who sit in all 9 chats
at every snapshot. With the bound (6 by default) each wanderer counts in the 6 chats that
come first in her keyed order (md5 of the salt derived from the noise key, the channel and
the pseudonym): the test recomputes that order from the fixed test key and expects every
published figure from it, exactly (ε = 10 with a known key: `expect.published`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from pathlib import Path

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, grid, query, run_load
from privacy.expect import FIXED_KEY, exact_settings, noisy, published
from streamcensus.config import DEFAULT_CONTRIBUTION_BOUND, Settings
from streamcensus.transform.noise import contribution_salt

CHANNELS = [f"{7000 + i}" for i in range(9)]
REGULARS = 12
WANDERERS = [500_000 + i for i in range(120)]
SIGNAL = "chat_list"


def _chats() -> dict[str, list[int]]:
    return {
        c: [100_000 + i * 100 + r for r in range(REGULARS)] + WANDERERS
        for i, c in enumerate(CHANNELS)
    }


def _lake(data_dir: Path, **overrides: object) -> Settings:
    builder = LakeBuilder(data_dir / "lake")
    chats = _chats()
    streams = [Stream(c, 500, at(DAY, "19:00"), login=f"ch{c}") for c in CHANNELS]
    for moment in grid(at(DAY, "20:00"), at(DAY, "20:30")):
        builder.snapshot(moment, streams, chats)
    settings = exact_settings(data_dir, **overrides)
    run_load(settings)
    return settings


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return _lake(tmp_path_factory.mktemp("bounded"))


def kept_chats(viewer: int, chats: list[str], bound: int) -> list[str]:
    """The chats a person counts in: the first `bound` by the keyed draw."""
    salt = contribution_salt(FIXED_KEY)

    def draw(channel: str) -> tuple[str, str]:
        return (hashlib.md5(f"{salt}|{channel}|{viewer}".encode()).hexdigest(), channel)

    return sorted(chats, key=draw)[:bound]


def _expected_people(bound: int) -> Counter[str]:
    people: Counter[str] = Counter({c: REGULARS for c in CHANNELS})
    for viewer in WANDERERS:
        people.update(kept_chats(viewer, CHANNELS, bound))
    return people


def test_the_default_bound_is_small() -> None:
    assert DEFAULT_CONTRIBUTION_BOUND == 6


def test_a_person_counts_in_at_most_the_bound_of_chats_per_day(bounded: Settings) -> None:
    exact = _expected_people(DEFAULT_CONTRIBUTION_BOUND)
    # the keyed order spreads the wanderers over the chats, not always the same three
    assert len({tuple(kept_chats(v, CHANNELS, 6)) for v in WANDERERS}) >= 10
    rows = dict(
        query(
            bounded,
            "select channel_id, unique_chatters from channel_day_presence "
            "where day = ? and signal = ?",
            [DAY, SIGNAL],
        )
    )
    expected = {
        c: published(bounded, "channel_people", DAY, c, SIGNAL, exact=exact[c]) for c in CHANNELS
    }
    assert rows == expected
    # 9 × 12 regulars and 120 wanderers in 6 chats each (without the bound: in 9 each)
    assert sum(exact.values()) == 9 * REGULARS + 6 * len(WANDERERS)
    # bot_share's people is the same figure: the same exact count, the same noisy value
    people = dict(
        query(
            bounded,
            "select channel_id, people from bot_share where day = ? and signal = ?",
            [DAY, SIGNAL],
        )
    )
    assert people == expected


def test_average_people_per_snapshot_counts_the_same_people(bounded: Settings) -> None:
    exact = _expected_people(DEFAULT_CONTRIBUTION_BOUND)
    rows = dict(
        query(
            bounded,
            "select channel_id, avg_chatters from channel_day_presence "
            "where day = ? and signal = ?",
            [DAY, SIGNAL],
        )
    )
    # everyone counted is in every snapshot: the average is the day's people
    noisy = {
        c: published(bounded, "channel_avg_people", DAY, c, SIGNAL, exact=exact[c])
        for c in CHANNELS
    }
    assert rows == {c: float(v) if v is not None else None for c, v in noisy.items()}


def test_overlap_pairs_share_only_the_chats_each_person_counts_in(bounded: Settings) -> None:
    shared: Counter[tuple[str, str]] = Counter()
    for viewer in WANDERERS:
        kept = sorted(kept_chats(viewer, CHANNELS, DEFAULT_CONTRIBUTION_BOUND))
        shared.update(itertools.combinations(kept, 2))
    # each wanderer is in 15 pairs (not 36)
    assert sum(shared.values()) == 15 * len(WANDERERS)
    rows = query(
        bounded,
        "select channel_a, channel_b, shared_chatters from audience_overlap "
        "where day = ? and window_days = 1 and signal = ?",
        [DAY, SIGNAL],
    )
    assert rows
    for a, b, value in rows:
        noisy = published(bounded, "pair_shared", DAY, 1, SIGNAL, a, b, exact=shared[(a, b)])
        assert value == noisy


def test_session_lengths_count_the_bound_of_sessions_per_person(bounded: Settings) -> None:
    # every session lasts 20:00-20:30 (35 minutes: bucket 4, 31-60): 9 × 12 regulars'
    # sessions and 6 of each wanderer's 9; the other buckets are empty (noisy all the
    # same) and, under k, merged upwards from the first of them
    exact = {4: 9 * REGULARS + 6 * len(WANDERERS)}
    rows = query(
        bounded,
        "select bucket, bucket_min, bucket_max, value from viewer_habits "
        "where day = ? and signal = ? and metric = 'session_minutes'",
        [DAY, SIGNAL],
    )
    values = [
        noisy(bounded, "habits", DAY, SIGNAL, "session_minutes", b, exact=exact.get(b, 0))
        for b in range(1, 8)
    ]
    assert rows == [(1, 0, None, sum(values))]
    assert exact[4] == 828  # not 9 × 12 + 9 × 120


def test_the_bound_is_a_setting(tmp_path: Path) -> None:
    settings = _lake(tmp_path, privacy_contribution_bound=2)
    total = query(
        settings,
        "select sum(unique_chatters) from channel_day_presence where day = ? and signal = ?",
        [DAY, SIGNAL],
    )
    assert total == [(sum(_expected_people(2).values()),)]
    assert total == [(9 * REGULARS + 2 * len(WANDERERS),)]


def test_rankings_count_the_same_people_as_the_channel_page_and_the_overlap(
    bounded: Settings,
) -> None:
    """A chat's people in the rankings (1, 7 and 30 days) are the bounded people: over one
    day the channel page's figure, over 7 days the overlap tables' (same identity, same
    value). Were they counted without the bound, the two values of one figure would carry
    the same noise and their difference would give the exact number left out."""
    exact = _expected_people(DEFAULT_CONTRIBUTION_BOUND)
    rows = query(
        bounded,
        "select window_days, subject_id, chatters from ranking_chatters "
        "where day = ? and signal = ? and kind = 'channels'",
        [DAY, SIGNAL],
    )
    assert {(w, c): v for w, c, v in rows} == {
        (1, c): published(bounded, "channel_people", DAY, c, SIGNAL, exact=exact[c])
        for c in CHANNELS
    } | {
        (w, c): published(bounded, "window_people", DAY, w, SIGNAL, c, exact=exact[c])
        for w in (7, 30)
        for c in CHANNELS
    }
    overlap = query(
        bounded,
        "select channel_a, chatters_a from audience_overlap "
        "where day = ? and window_days = 7 and signal = ?",
        [DAY, SIGNAL],
    )
    assert overlap
    sevens = {c: v for w, c, v in rows if w == 7}
    assert all(sevens[a] == value for a, value in overlap)
    # a game: each person once, whichever of its chats she is in
    games = query(
        bounded,
        "select window_days, subject_id, chatters from ranking_chatters "
        "where day = ? and signal = ? and kind = 'games' order by window_days",
        [DAY, SIGNAL],
    )
    everyone = 9 * REGULARS + len(WANDERERS)  # all nine chats play Just Chatting
    assert games == [
        (
            w,
            "509658",
            published(bounded, "game_window_people", DAY, w, SIGNAL, "509658", exact=everyone),
        )
        for w in (1, 7, 30)
    ]
