"""Community detection on the published audience-overlap pairs: the algorithm's pieces on
small graphs, then the `communities` model on the hand-made three-day lake (audience.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from communities.audience import DAYS, X, Y, Z, build
from load.lakebuilder import query, run_load
from streamcensus.config import Settings
from streamcensus.transform.communities import (
    MATCH_MIN,
    WINDOWS,
    detect,
    graph_from_pairs,
    label,
    match_ids,
)
from streamcensus.transform.runner import load_models


def cliques(weak: float) -> list[tuple[str, str, str | None, str | None, float]]:
    """Two 4-cliques (a*, b*) of weight 1 joined by one edge of weight `weak`."""
    pairs: list[tuple[str, str, str | None, str | None, float]] = []
    for side in ("a", "b"):
        names = [f"{side}{i}" for i in range(4)]
        pairs += [(p, q, None, None, 1.0) for i, p in enumerate(names) for q in names[i + 1 :]]
    return [*pairs, ("a0", "b0", None, None, weak)]


def test_detect_splits_two_cliques_and_is_deterministic() -> None:
    graph = graph_from_pairs(cliques(0.1))
    part = detect(graph, seed=7)
    groups: dict[int, set[str]] = {}
    for channel, c in zip(graph.channels, part.membership, strict=True):
        groups.setdefault(c, set()).add(channel)
    assert sorted(map(sorted, groups.values())) == [
        ["a0", "a1", "a2", "a3"],
        ["b0", "b1", "b2", "b3"],
    ]
    # modularity by hand: 2m = 2·12.1; each side holds 6 of the weight and degree 12.1
    two_m = 2 * 12.1
    assert part.modularity == pytest.approx(2 * (12 / two_m - (12.1 / two_m) ** 2), abs=1e-9)
    assert detect(graph, seed=7) == part


def test_detect_on_an_empty_graph() -> None:
    assert detect(graph_from_pairs([]), seed=1).membership == []


def test_match_ids_keeps_ids_best_first_and_numbers_new_ones() -> None:
    previous = {4: {"a", "b", "c"}, 9: {"d", "e"}}
    found = [{"a", "b"}, {"a", "b", "c", "x"}, {"q", "r", "s"}, {"d"}]
    ids, jaccards, next_id = match_ids(previous, found, next_id=10)
    # {a,b,c,x} matches 4 best (3/4) and takes it; {a,b} (2/3) is then new; {d} ~ 9 (1/2)
    assert ids == [11, 4, 10, 9]
    assert jaccards == [None, 0.75, None, 0.5]
    assert next_id == 12
    # below MATCH_MIN nothing is inherited
    low = {1: {"a", "b", "c", "d", "e"}}
    assert match_ids(low, [{"a"}], 2)[0] == ([2] if MATCH_MIN > 1 / 5 else [1])


def test_label_names_the_dominant_games() -> None:
    assert label({"Chess": 10.0, "Art": 1.0}, "x") == "Chess"
    assert label({"Chess": 10.0, "Art": 3.0, "Music": 2.5}, "x") == "Chess · Art"
    assert label({}, "community 3") == "community 3"


def _partition(settings: Settings, day: dt.date, window: int) -> dict[int, set[str]]:
    groups: dict[int, set[str]] = {}
    for cid, channel in query(
        settings,
        "select community_id, channel_id from communities "
        "where day = ? and window_days = ? and signal = 'chat_list'",
        [day, window],
    ):
        groups.setdefault(int(cid), set()).add(str(channel))
    return groups


def test_the_scenes_are_found_in_every_window_with_stable_ids(scenes: Settings) -> None:
    for day in DAYS:
        for window in WINDOWS:
            expected = {1: set(X), 2: set(Y)}
            if day == DAYS[2]:
                expected[3] = set(Z)  # the new scene gets the next id
            assert _partition(scenes, day, window) == expected, (day, window)


def test_labels_sizes_and_matches(scenes: Settings) -> None:
    rows = query(
        scenes,
        "select distinct community_id, community_label, community_channels, matched_jaccard "
        "from communities where day = ? and window_days = 7 order by community_id",
        [DAYS[2]],
    )
    assert rows == [
        (1, "Minecraft", 4, 1.0),
        (2, "League of Legends", 4, 1.0),
        (3, "Chess", 3, None),
    ]
    first = query(
        scenes,
        "select distinct matched_jaccard from communities where day = ?",
        [DAYS[0]],
    )
    assert first == [(None,)]  # nothing before the first day


def test_inside_share_uses_published_pairs_only(scenes: Settings) -> None:
    """3001 has a published bridge to 3011 (12 people); 3002's bridge (5 < k) is unused."""
    jaccard = dict(
        query(
            scenes,
            "select channel_b, jaccard from audience_overlap where day = ? and window_days = 1 "
            "and signal = 'chat_list' and channel_a = '3001'",
            [DAYS[0]],
        )
    )
    # 3001: 90 + 12 people; 3002: 90 + 5; 3003, 3004: 90; 3011: 90 + 12; 60 shared in X
    assert jaccard["3002"] == round(60 / 137, 6) and jaccard["3011"] == round(12 / 192, 6)
    inside = jaccard["3002"] + jaccard["3003"] + jaccard["3004"]
    shares = dict(
        query(
            scenes,
            "select channel_id, inside_share from communities where day = ? "
            "and window_days = 1 and signal = 'chat_list'",
            [DAYS[0]],
        )
    )
    assert shares["3001"] == pytest.approx(inside / (inside + jaccard["3011"]), abs=1e-6)
    assert shares["3002"] == 1.0 and shares["3012"] == 1.0


def test_reloading_a_day_changes_nothing(scenes: Settings, tmp_path: Path) -> None:
    # a copy: other tests' dashboards may hold the shared warehouse open
    shutil.copytree(scenes.data_dir, tmp_path / "copy")
    copy = scenes.model_copy(update={"data_dir": tmp_path / "copy"})
    before = query(copy, "select * from communities order by all")
    run_load(copy, [DAYS[1]], today=DAYS[2] + dt.timedelta(days=1))
    assert query(copy, "select * from communities order by all") == before


def test_day_by_day_loads_give_the_same_ids(
    scenes: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Loaded one day at a time (yesterday read back from the warehouse), the table is the
    one built by loading the three days at once (yesterday kept in memory)."""
    settings = build(tmp_path_factory.mktemp("day-by-day"), load=False)
    for day in DAYS:
        run_load(settings, [day], today=DAYS[2] + dt.timedelta(days=1))
    columns = "day, window_days, signal, channel_id, community_id, community_label, matched_jaccard"
    everything = f"select {columns} from communities order by all"
    assert query(settings, everything) == query(scenes, everything)


def test_the_model_reads_published_tables_only() -> None:
    model = load_models()["communities"]
    assert set(model.inputs) == {"audience_overlap", "channel_day"}  # serving tables only
