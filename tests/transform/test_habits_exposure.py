"""viewer_habits (k-merging of distributions) and exposure (unicity) on hand-built audiences."""

from __future__ import annotations

from pathlib import Path

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, query, run_load
from privacy.expect import exact_settings
from streamcensus.config import Settings
from streamcensus.transform import protect
from streamcensus.transform.exposure import wilson

A = "3001"


@pytest.fixture(scope="module")
def habits(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """46 people in one chat: 30 with one session, 12 with 2, 3 with 3, 1 with 5.

    Sessions are single observations half an hour apart (20:00, 20:30, ... 22:00).
    """
    data_dir: Path = tmp_path_factory.mktemp("habits")
    builder = LakeBuilder(data_dir / "lake")
    groups = {1: range(1, 31), 2: range(31, 43), 3: range(43, 46), 5: range(46, 47)}
    times = ["20:00", "20:30", "21:00", "21:30", "22:00"]
    for index, hhmm in enumerate(times):
        present = [v for sessions, people in groups.items() if index < sessions for v in people]
        builder.snapshot(at(DAY, hhmm), [Stream(A, 500, at(DAY, "18:00"))], {A: present})
    settings = exact_settings(data_dir)
    run_load(settings)
    return settings


def _metric(settings: Settings, metric: str) -> list[tuple[object, ...]]:
    return query(
        settings,
        "select bucket, bucket_min, bucket_max, value, share from viewer_habits "
        "where day = ? and metric = ? order by bucket",
        [DAY, metric],
    )


def test_buckets_under_k_are_merged_into_the_run_before_them(habits: Settings) -> None:
    # 1 session: 30; 2: 12; 3: 3 (< k); 4-5: 1 (< k); 6-10 and 11+: none (< k: every
    # bucket is noisy, the empty ones too) -> 3 and above hold 4 (< k), so join the run
    # before them: 2 and above, 16, open-ended
    assert _metric(habits, "sessions_per_viewer") == [
        (1, 1, 1, 30, round(30 / 46, 6)),
        (2, 2, None, 16, round(16 / 46, 6)),
    ]


def test_other_distributions(habits: Settings) -> None:
    # one bucket holds everyone; the empty ones above it are under k, so merged into it
    assert _metric(habits, "channels_per_viewer") == [(1, 1, None, 46, 1.0)]
    assert _metric(habits, "session_minutes") == [(1, 0, None, 30 + 24 + 9 + 5, 1.0)]
    assert _metric(habits, "days_active_per_week") == [(1, 1, 7, 46, 1.0)]


def test_hours_under_k_are_not_published(habits: Settings) -> None:
    # hour 20: 46 people; hour 21: 4; hour 22: 1 (both under k)
    assert _metric(habits, "hour_of_week") == [(116, 116, 116, 46, 1.0)]


def test_every_published_habit_value_is_at_least_k(habits: Settings) -> None:
    assert query(habits, "select min(value) from viewer_habits") >= [(10,)]


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Ten loners each alone in a chat, and a crowd of ten in one chat, all at 20:00."""
    data_dir: Path = tmp_path_factory.mktemp("crowd")
    builder = LakeBuilder(data_dir / "lake")
    chats = {f"40{i:02d}": [i] for i in range(1, 11)}
    chats["4100"] = list(range(101, 111))
    streams = [Stream(channel, 10, at(DAY, "19:00")) for channel in chats]
    builder.snapshot(at(DAY, "20:00"), streams, chats)
    settings = exact_settings(data_dir, k=3)
    run_load(settings)
    return settings


def test_sampled_unicity_is_not_published_where_its_noise_drowns_it(crowd: Settings) -> None:
    # one person can move a sampled unicity count by up to the sample (1,000 people): at
    # the largest ε allowed the noise's 95% bound is ~300, far over a sample of 20
    assert query(crowd, "select count(*) from exposure where measure = 'unicity'") == [(0,)]
    assert query(crowd, "select count(*) from exposure where method = 'census'") == [(5,)]


def test_unicity_for_one_point_is_the_share_of_loners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the counting itself, with the noise of a figure a person moves by 1 (ε = 10: none)
    monkeypatch.delitem(protect.SENSITIVITIES, "exposure")
    builder = LakeBuilder(tmp_path / "lake")
    chats = {f"40{i:02d}": [i] for i in range(1, 11)}
    chats["4100"] = list(range(101, 111))
    streams = [Stream(channel, 10, at(DAY, "19:00")) for channel in chats]
    builder.snapshot(at(DAY, "20:00"), streams, chats)
    settings = exact_settings(tmp_path, k=3)
    run_load(settings)
    rows = query(
        settings,
        "select window_days, points, population, sample_size, unique_share, ci_low, ci_high, "
        "method from exposure where measure = 'unicity' order by window_days, points",
    )
    low, high = wilson(10, 20)
    # the interval adds the noise's 95% bound (0 at this scale) on both sides
    expected = (20, 20, 0.5, round(low, 6), round(high, 6), "sample")
    # every trace has one point: p >= 2 has no eligible viewer and is not published
    assert rows == [(1, 1, *expected), (7, 1, *expected)]
    assert (round(low, 4), round(high, 4)) == (0.2993, 0.7007)


def test_set_measures_are_a_census_of_the_population(crowd: Settings) -> None:
    rows = query(
        crowd,
        "select window_days, measure, population, sample_size, unique_share, method "
        "from exposure where measure <> 'unicity' order by window_days, measure",
    )
    assert rows == [
        (1, "channel_set", 20, 20, 0.5, "census"),
        (1, "top3_channels", 20, 20, 0.5, "census"),
        (7, "channel_set", 20, 20, 0.5, "census"),
        (7, "hour_pattern", 20, 20, 0.0, "census"),
        (7, "top3_channels", 20, 20, 0.5, "census"),
    ]


def test_no_exposure_row_for_a_population_under_k(tmp_path: Path) -> None:
    builder = LakeBuilder(tmp_path / "lake")
    builder.snapshot(at(DAY, "20:00"), [Stream(A, 10, at(DAY, "19:00"))], {A: [1, 2, 3]})
    settings = exact_settings(tmp_path)
    run_load(settings)
    assert query(settings, "select count(*) from exposure") == [(0,)]


def test_unicity_with_several_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve people share chat X at 20h; six of them also chat alone in their own channel
    at 21h. Two points single out exactly those six; one point singles out nobody when it
    falls on X and the person when it falls on their own channel (the counting, with the
    noise of a figure a person moves by 1)."""
    monkeypatch.delitem(protect.SENSITIVITIES, "exposure")
    builder = LakeBuilder(tmp_path / "lake")
    crowd = list(range(1, 13))
    builder.snapshot(at(DAY, "20:00"), [Stream("X", 10, at(DAY, "19:00"))], {"X": crowd})
    own = {f"O{v}": [v] for v in crowd[:6]}
    builder.snapshot(
        at(DAY, "21:00"),
        [Stream(c, 10, at(DAY, "19:00")) for c in own],
        own,
    )
    settings = exact_settings(tmp_path, k=3)
    run_load(settings)
    rows = query(
        settings,
        "select points, sample_size, unique_share * sample_size from exposure "
        "where measure = 'unicity' and window_days = 1 order by points",
    )
    assert [r[:2] for r in rows] == [(1, 12), (2, 6)]
    assert rows[1][2] == 6  # both points: each of the six is the only one
    assert 0 <= rows[0][2] <= 6  # one random point: unique only when it is their own chat
