"""Audience structure of the population model: true communities, friend groups (co-streams
and raids), event evenings, and the overlap graph they produce; the truth route over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import numpy as np
import pytest

from streamcensus.simulator.calibrate_structure import Structure, measure_structure
from streamcensus.simulator.model_communities import FR_SCENES, SQUAD_MAX
from streamcensus.simulator.model_events import HOSTS, VIEWER_FACTOR
from streamcensus.simulator.model_schedule import TICK, TICKS_PER_DAY
from streamcensus.simulator.model_sessions import P_RAID
from streamcensus.simulator.population import LANG_CODES
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.simulator.world import PopulationWorld

StartSimulator = Callable[..., SimulatorHandle]

DAY0 = 1_795_046_400.0  # 2026-11-19T00:00:00Z, a Thursday
FIRST_DAY = int(DAY0 // 86_400)


@pytest.fixture(scope="module")
def world() -> PopulationWorld:
    return PopulationWorld("small", seed=42)


@pytest.fixture(scope="module")
def week(world: PopulationWorld) -> Structure:
    """The 7-day overlap graph of French channels and its structure figures."""
    return measure_structure(world, DAY0, 7)


# -- the true communities -------------------------------------------------------------


def test_every_channel_has_a_community_of_its_language(world: PopulationWorld) -> None:
    comms = world.population.channels.communities
    lang = world.population.channels.lang
    assert comms.primary.min() >= 0 and comms.primary.max() < comms.n
    assert np.array_equal(comms.lang[comms.primary], lang)
    second = comms.secondary >= 0
    assert 0.12 <= second.mean() <= 0.3  # a quarter, less the draws that repeat the first
    assert np.all(comms.secondary[second] != comms.primary[second])
    assert np.array_equal(comms.lang[comms.secondary[second]], lang[second])
    sizes = np.bincount(comms.primary, minlength=comms.n)
    assert sizes.min() >= 3  # no empty community
    fr = [comms.scene[k].label for k in range(comms.n) if comms.lang[k] == 0]
    assert 10 <= len(fr) <= len(FR_SCENES)
    assert {"IRL Paris", "esport FPS", "GTA RP", "League of Legends"} <= set(fr)
    for language in range(len(LANG_CODES)):  # every language has at least two
        assert (comms.lang == language).sum() >= 2


def test_channels_stream_their_community_games(world: PopulationWorld) -> None:
    ch = world.population.channels
    comms = ch.communities
    for k in range(comms.n):
        games, _ = comms.games(k)
        members = comms.primary == k
        assert np.isin(ch.game_main[members], games).all()
    # what the channels actually stream over a day follows (Just Chatting openers aside)
    bc = world.schedule.day(FIRST_DAY)
    on = np.flatnonzero(bc.on)
    in_genre = [
        int(bc.game_second[c]) in comms.games(int(comms.primary[c]))[0].tolist()
        or (
            comms.secondary[c] >= 0
            and int(bc.game_second[c]) in comms.games(int(comms.secondary[c]))[0].tolist()
        )
        or int(bc.game_second[c]) == 0
        for c in on.tolist()
    ]
    assert np.mean(in_genre) >= 0.95


def test_truth_is_deterministic_for_a_seed(world: PopulationWorld) -> None:
    truth = world.communities_truth()
    again = PopulationWorld("small", seed=42).communities_truth()
    assert again == truth
    other = PopulationWorld("small", seed=7).communities_truth()
    assert [c["id"] for c in other["communities"]] == [c["id"] for c in truth["communities"]]
    assert [c["community"] for c in other["channels"]] != [
        c["community"] for c in truth["channels"]
    ]
    ids = [c["id"] for c in truth["communities"]]
    assert len(set(ids)) == len(ids) and "fr-irl-paris" in ids and "fr-esport-fps" in ids
    by_id = {c["id"]: c for c in truth["communities"]}
    assert len(truth["channels"]) == world.n_channels
    counts: dict[str, int] = {}
    for row in truth["channels"]:
        counts[row["community"]] = counts.get(row["community"], 0) + 1
        assert by_id[row["community"]]["language"] == row["language"]
        assert by_id[row["community"]]["label"] == row["label"]
        assert row["secondary"] is None or row["secondary"] in by_id
    assert all(by_id[k]["channels"] == v for k, v in counts.items())
    paris = by_id["fr-irl-paris"]
    assert (paris["scene"], paris["genre"]) == ("IRL", "Just Chatting")
    assert "Just Chatting" in paris["games"]


def test_favourites_cluster_in_one_or_two_communities(world: PopulationWorld) -> None:
    viewers = world.population.viewers
    comms = world.population.channels.communities
    fav = viewers.favourites
    has = fav >= 0
    label = comms.primary[np.maximum(fav, 0)]
    home = (label == viewers.home[:, None]) & has
    share = home.sum() / has.sum()
    assert 0.6 <= share <= 0.9  # most favourites at home, some cross-over
    distinct = [
        len(set(row[ok].tolist())) for row, ok in zip(label[:5000], has[:5000], strict=True)
    ]
    many = [d for d, n in zip(distinct, has[:5000].sum(axis=1), strict=True) if n >= 4]
    assert np.mean(np.asarray(many) <= 2) >= 0.6  # viewers with 4+ favourites: 1-2 communities


# -- friends: co-streams and raids ------------------------------------------------------


def test_friends_are_peers_of_one_community_who_costream(world: PopulationWorld) -> None:
    ch = world.population.channels
    comms = ch.communities
    members = comms.squad_members
    sizes = comms.squad_size
    assert sizes.min() >= 1 and sizes.max() <= SQUAD_MAX and (sizes > 1).mean() > 0.7
    pairs = [(c, int(m)) for c in range(ch.n) for m in members[c] if m >= 0 and m != c]
    a = np.asarray([p[0] for p in pairs])
    b = np.asarray([p[1] for p in pairs])
    assert np.all(comms.primary[a] == comms.primary[b])
    assert np.all(comms.squad[a] == comms.squad[b])
    rng = np.random.default_rng(0)
    peers = rng.permutation(b)  # random pairs with the same channels
    log_rank = np.log(np.arange(ch.n) - ch.lang_start[ch.lang] + 1)
    assert (
        np.abs(log_rank[a] - log_rank[b]).mean()
        < 0.6 * np.abs(log_rank[a] - log_rank[peers]).mean()
    )

    def hour_gap(x: np.ndarray, y: np.ndarray) -> float:
        gap = np.abs(ch.start_hour[x] - ch.start_hour[y])
        return float(np.minimum(gap, 24 - gap).mean())

    def shared_days(x: np.ndarray, y: np.ndarray) -> float:
        return float((ch.scheduled[x] & ch.scheduled[y]).sum(axis=1).mean())

    assert hour_gap(a, b) < 0.6 * hour_gap(a, peers)
    assert shared_days(a, b) > shared_days(a, peers) + 0.25


def test_broadcasts_end_with_raids_on_live_friends(world: PopulationWorld) -> None:
    sessions = world.sessions
    comms = world.population.channels.communities
    bc = world.schedule.day(FIRST_DAY)
    day0 = FIRST_DAY * TICKS_PER_DAY
    ending = np.flatnonzero(bc.on & (bc.end_tick - day0 < TICKS_PER_DAY))
    ticks = (bc.end_tick[ending] - day0).astype(np.int64)
    target = sessions._raid_targets(ending.astype(np.int64), ticks, FIRST_DAY)
    raided = target >= 0
    assert 0.7 * P_RAID <= raided.mean() <= P_RAID + 0.05
    live_after = world.schedule.live_matrix(FIRST_DAY)[0]
    assert np.all(live_after[ticks[raided], target[raided]])  # only live channels are raided
    friends = comms.squad[target[raided]] == comms.squad[ending[raided]]
    same = comms.primary[target[raided]] == comms.primary[ending[raided]]
    assert friends.mean() >= 0.3 and same.mean() >= 0.8
    # viewers follow: some sessions start exactly when a broadcast ends, on its raid target
    block = sessions.block(int(day0 // 36) + 6)
    assert (block.first >= 36).any()  # continuations after the block's own start ticks


# -- the overlap graph ------------------------------------------------------------------


def test_overlap_graph_is_modular_but_not_separable(week: Structure) -> None:
    assert week.channels >= 250 and week.communities >= 10
    assert abs(week.modularity_random) < 0.03
    assert week.modularity_true >= 0.2  # clear structure, well above chance
    assert week.modularity_true <= 0.7  # but far from disjoint audiences
    assert week.within_jaccard >= 4 * week.cross_jaccard
    assert 0.25 <= week.within_edge_weight_share <= 0.85


# -- event evenings ---------------------------------------------------------------------


def test_event_evenings_gather_the_community(world: PopulationWorld) -> None:
    events = world.schedule.events
    year = events.between(FIRST_DAY, 365)
    assert year == PopulationWorld("small", seed=42).schedule.events.between(FIRST_DAY, 365)
    fr = [e for e in year if e.language == 0]
    assert 4 <= len(fr) <= 16  # about nine a year
    assert all((e.day + 3) % 7 == 5 for e in year)  # Saturdays
    assert all(0 <= e.channel < HOSTS for e in fr)
    event = fr[0]
    peak = 0
    for tick in range(event.first_tick, event.end_tick, 3):
        state = world.tick_state(tick * TICK)
        assert state.is_live[event.channel]
        peak = max(peak, int(state.viewer_count[event.channel]))
    row = next(
        r
        for r in world.live_streams(event.first_tick * TICK + 3600)
        if int(r.user_id) == int(world.accounts.ids([event.channel])[0])
    )
    assert row.started_at == event.start
    ordinary = 0  # the largest French stream of the ordinary evening a week before
    for tick in range(event.first_tick - 7 * TICKS_PER_DAY, event.end_tick - 7 * TICKS_PER_DAY, 6):
        state = world.tick_state(tick * TICK)
        ordinary = max(
            ordinary, int(state.viewer_count[: world.population.channels.lang_start[1]].max())
        )
    assert peak >= 5 * ordinary
    assert VIEWER_FACTOR > 1


# -- night ------------------------------------------------------------------------------


def test_the_french_community_never_goes_dark(world: PopulationWorld) -> None:
    fr = world.population.channels.lang == 0
    lows = []
    for k in range(0, 3 * TICKS_PER_DAY, 2):
        state = world.tick_state(DAY0 + k * TICK)
        lows.append((int((state.is_live & fr).sum()), int(state.viewer_count[fr].sum())))
    live, viewers = np.asarray(lows).T
    assert live.min() >= 1 and viewers.min() >= 20
    assert live.max() >= 10 * live.min()  # a night floor, not a flat day


# -- the truth route over HTTP ------------------------------------------------------------


def test_truth_route_over_http(running_simulator: StartSimulator, world: PopulationWorld) -> None:
    sim = running_simulator(world, start=DAY0)
    with httpx.Client(base_url=sim.base_url, timeout=30) as client:
        everything = client.get("/_sim/truth/communities")
        assert everything.status_code == 200
        assert everything.json() == world.communities_truth()
        french = client.get("/_sim/truth/communities", params={"language": "fr"}).json()
        assert {c["language"] for c in french["channels"]} == {"fr"}
        assert len(french["channels"]) == int((world.population.channels.lang == 0).sum())
        assert all(c["id"].startswith("fr-") for c in french["communities"])
        refused = client.get("/_sim/truth/communities", params={"language": "xx"})
        assert refused.status_code == 400 and "fr" in refused.json()["message"]
