"""The population model behind the simulated Twitch (`PopulationWorld`).

Structural facts are asserted exactly (the model is deterministic for a seed); statistical
properties (rhythm, popularity, session lengths, loyalty) within bounded ranges that the
calibration (docs/calibration.md) implies; the `fr` figures are in test_calibration_fr.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from streamcensus.simulator.names import SERVICE_BOTS
from streamcensus.simulator.permissions import Permissions
from streamcensus.simulator.population import LANG_CODES
from streamcensus.simulator.protocol import World
from streamcensus.simulator.world import PopulationWorld

DAY0 = 1_718_668_800.0  # 2024-06-18T00:00:00Z, a Tuesday
HOUR = 3600.0
TICK = 300
EVENING = DAY0 + 19 * HOUR  # 20:00 in France (UTC+1)
MORNING = DAY0 + 7 * HOUR  # 08:00 in France
SMALL_CHANNELS = {"fr": 300, "en": 85, "es": 40, "de": 40, "it": 20, "pt": 15}


@pytest.fixture(scope="module")
def world() -> PopulationWorld:
    return PopulationWorld("small", seed=42)


@dataclass
class Trace:
    """Human chat presence, sampled every `step` ticks over `days` days from DAY0."""

    step: int
    ticks: list[int]
    pairs: list[set[tuple[int, int]]]  # per sample: (viewer id, channel index)


def _human_pairs(world: PopulationWorld, t: float) -> set[tuple[int, int]]:
    state = world.tick_state(t)
    not_viewers = np.concatenate([world.bot_ids(), world.accounts.ids(np.arange(world.n_channels))])
    pairs: set[tuple[int, int]] = set()
    for c in state.live.tolist():
        ids = state.chat_ids[state.chat_offsets[c] : state.chat_offsets[c + 1]]
        humans = ids[~np.isin(ids, not_viewers)]
        pairs.update((int(a), c) for a in humans)
    return pairs


@pytest.fixture(scope="module")
def trace(world: PopulationWorld) -> Trace:
    step = 2  # a 10-minute poll, as in the public dataset
    ticks = list(range(0, 2 * 288, step))
    return Trace(step, ticks, [_human_pairs(world, DAY0 + k * TICK) for k in ticks])


# -- contract and determinism ---------------------------------------------------------


def test_population_sizes_are_exact(world: PopulationWorld) -> None:
    contract: World = world  # PopulationWorld satisfies the protocol (checked by mypy)
    assert contract.scale == "small"
    counts = np.bincount(world.population.channels.lang, minlength=len(LANG_CODES))
    assert dict(zip(LANG_CODES, counts.tolist(), strict=True)) == SMALL_CHANNELS
    assert world.n_channels == 500
    assert world.n_viewers == 40_000
    assert len(world.bot_ids()) == 30 + len(SERVICE_BOTS)
    assert world.accounts.n == 500 + 40_000 + 30 + len(SERVICE_BOTS) + 1
    assert world.tick_seconds == 300
    assert (world.scale, world.seed) == ("small", 42)


def test_same_seed_same_answers_and_other_seed_differs(world: PopulationWorld) -> None:
    twin = PopulationWorld("small", seed=42)
    other = PopulationWorld("small", seed=7)
    for t in (EVENING, EVENING + 5 * 86_400 + 1234.5, MORNING):
        rows = world.live_streams(t)
        assert twin.live_streams(t) == rows
        for row in rows[:20]:
            mine = world.chatters(row.user_id, t)
            theirs = twin.chatters(row.user_id, t)
            assert mine is not None and theirs is not None
            assert np.array_equal(mine.account_ids, theirs.account_ids)
    assert other.live_streams(EVENING) != world.live_streams(EVENING)
    ids = world.accounts.ids(np.arange(0, world.accounts.n, 97))
    assert twin.logins(ids) == world.logins(ids)
    assert other.logins(ids) != world.logins(ids)


def test_state_is_quantised_to_ticks(world: PopulationWorld) -> None:
    tick_start = EVENING + 600
    assert world.live_streams(tick_start) == world.live_streams(tick_start + 299.9)
    assert world.tick_state(tick_start + 299.9).tick == int(tick_start // TICK)
    assert world.tick_state(tick_start + 300).tick == int(tick_start // TICK) + 1


def test_live_streams_are_sorted_and_consistent(world: PopulationWorld) -> None:
    rows = world.live_streams(EVENING)
    keys = [(-r.viewer_count, int(r.user_id)) for r in rows]
    assert keys == sorted(keys)
    assert len({r.user_id for r in rows}) == len(rows)
    assert all(r.id.isdigit() and r.user_id.isdigit() and r.game_id.isdigit() for r in rows)
    assert all(r.started_at <= EVENING and r.language in SMALL_CHANNELS for r in rows)
    assert all(r.user_login == r.user_name.lower() for r in rows)
    later = {r.user_id: r for r in world.live_streams(EVENING + 1800)}
    for row in rows:
        again = later.get(row.user_id)
        if again is not None and again.started_at == row.started_at:
            assert again.id == row.id  # one broadcast keeps its stream id
    summary = world.ground_truth_summary(EVENING)
    assert summary["live_channels"] == len(rows)
    assert summary["viewers"] == sum(r.viewer_count for r in rows)


def test_languages_present_with_french_first(world: PopulationWorld) -> None:
    by_lang = world.ground_truth_summary(EVENING)["live_by_language"]
    assert set(by_lang) == set(SMALL_CHANNELS)
    assert by_lang["fr"] > sum(v for k, v in by_lang.items() if k != "fr")
    assert by_lang["en"] > 0 and by_lang["de"] > 0 and by_lang["es"] > 0


def test_accounts_logins_and_lookups(world: PopulationWorld) -> None:
    index = np.arange(world.accounts.n)
    logins = world.accounts.logins(index)
    assert len(set(logins)) == len(logins)
    assert all(re.fullmatch(r"[a-z0-9_]{4,25}", s) for s in logins)
    ids = world.accounts.ids(index)
    assert len(np.unique(ids)) == len(ids)
    assert ids.min() >= 100_000_000 and ids.max() < 1_000_000_000
    sample = ids[::53]
    names = world.display_names(sample)
    assert [n.lower() for n in names] == world.logins(sample)
    rows = world.users_by_id([str(i) for i in sample[:100]] + ["12", "nope"])
    assert [r.id for r in rows] == [str(i) for i in sample[:100]]
    upper = [s.upper() for s in world.logins(sample[:100])]
    assert [r.id for r in world.users_by_login([*upper, "no_such_login_x"])] == [
        str(i) for i in sample[:100]
    ]
    bots = world.users_by_login(["Nightbot", "streamelements"])
    assert [b.login for b in bots] == ["nightbot", "streamelements"]
    operator = world.operator()
    assert operator.login == "streamcensus_operator"
    assert world.users_by_login(["STREAMCENSUS_OPERATOR"]) == [operator]
    channel = world.users_by_id([world.live_streams(EVENING)[0].user_id])[0]
    assert channel.broadcaster_type in ("partner", "affiliate") and channel.description


def test_operator_login_clash_renames_generated_account() -> None:
    probe = PopulationWorld("small", seed=42)
    taken = probe.accounts.logins(np.array([3]))[0]
    world = PopulationWorld("small", seed=42, operator_login=taken)
    assert world.operator().login == taken
    logins = world.accounts.logins(np.arange(world.accounts.n))
    assert len(set(logins)) == len(logins)
    assert world.users_by_login([taken]) == [world.operator()]


# -- chat lists and consent -----------------------------------------------------------


def test_chatters_are_audience_plus_bots(world: PopulationWorld) -> None:
    state = world.tick_state(EVENING)
    bots = world.bot_ids()
    checked = 0
    for row in world.live_streams(EVENING):
        listed = world.chatters(row.user_id, EVENING)
        assert listed is not None
        ids = listed.account_ids
        assert np.all(np.diff(ids) > 0)  # sorted, no duplicates
        assert int(row.user_id) in ids.tolist()  # the broadcaster sits in its chat
        c = world.channel_index(row.user_id)
        humans = int(state.humans[c])
        assert len(ids) == humans + int(np.isin(ids, bots).sum()) + 1
        assert row.viewer_count >= humans
        if humans >= 20:
            assert humans * 1.25 <= row.viewer_count <= humans * 3.05 + 1
            checked += 1
        assert all(world.logins(ids))
    assert checked >= 5
    offline = next(c for c in range(world.n_channels) if not world.tick_state(EVENING).is_live[c])
    assert world.chatters(str(world.accounts.ids(np.array([offline]))[0]), EVENING) is None
    assert world.chatters("123", EVENING) is None


def test_bots_sit_in_many_chats_at_once(world: PopulationWorld) -> None:
    state = world.tick_state(EVENING)
    live = len(state.live)
    ids, counts = np.unique(state.chat_ids, return_counts=True)
    in_chats = dict(zip(ids.tolist(), counts.tolist(), strict=True))
    lurker_ids = world.accounts.ids(
        np.arange(world.n_channels + world.n_viewers, world.n_channels + world.n_viewers + 30)
    )
    lurking = np.array([in_chats.get(int(b), 0) for b in lurker_ids])
    assert lurking.max() >= 0.8 * live
    assert (lurking >= 0.3 * live).sum() >= 20
    nightbot = world.users_by_login(["nightbot"])[0]
    assert in_chats.get(int(nightbot.id), 0) >= 0.15 * live
    humans = ids[~np.isin(ids, world.bot_ids())]
    assert max(in_chats[int(h)] for h in humans) <= 6


def test_permissions_are_realistic_by_default(world: PopulationWorld) -> None:
    """Twitch's rule (broadcaster or moderator); the operator moderates nothing by default."""
    operator = world.operator().id
    channel_ids = [str(i) for i in world.accounts.ids(np.arange(world.n_channels))]
    assert world.permissions.mode == "realistic"
    assert not any(world.can_read_chatters(operator, b) for b in channel_ids)
    assert world.moderated_channels(operator) == []
    assert all(world.can_read_chatters(b, b) for b in channel_ids)
    first, second = channel_ids[0], channel_ids[1]
    assert not world.can_read_chatters(second, first)
    mods = world.population.moderators[0]
    mod_id = str(world.accounts.ids(mods[mods >= 0][:1])[0])
    assert world.can_read_chatters(mod_id, first)
    assert first in [row.id for row in world.moderated_channels(mod_id)]
    assert not world.can_read_chatters(operator, "999")
    assert not world.can_read_chatters("junk", first)
    # consent: about 2 % of broadcasters (binomial, n = 500: mean 10, sd 3.1)
    consenting = [b for b in channel_ids if world.consents(b)]
    assert 3 <= len(consenting) <= 20
    assert world.consents(operator) is None and world.consents(mod_id) is None
    truth = world.permissions_truth()
    assert truth["mode"] == "realistic" and truth["consent_share"] == 0.02
    assert [c["id"] for c in truth["consenting"]] == consenting
    assert truth["operator_moderates"] == [] and truth["operator_moderates_all"] is False


def test_operator_moderates_a_configured_list_or_all_in_load_tests(world: PopulationWorld) -> None:
    channel_ids = [str(i) for i in world.accounts.ids(np.arange(world.n_channels))]
    logins = [r.login for r in world.users_by_id(channel_ids[3:6])]
    listed = PopulationWorld(
        "small", seed=42, permissions=Permissions(operator_moderates=tuple(logins))
    )
    operator = listed.operator().id
    assert [b for b in channel_ids if listed.can_read_chatters(operator, b)] == channel_ids[3:6]
    assert sorted(r.id for r in listed.moderated_channels(operator)) == sorted(channel_ids[3:6])
    assert [c["login"] for c in listed.permissions_truth()["operator_moderates"]] == logins
    everything = PopulationWorld("small", seed=42, permissions=Permissions(mode="all-moderated"))
    assert all(everything.can_read_chatters(everything.operator().id, b) for b in channel_ids)
    assert len(everything.moderated_channels(everything.operator().id)) == world.n_channels
    assert everything.permissions_truth()["operator_moderates_all"] is True
    none = PopulationWorld("small", seed=42, permissions=Permissions(consent_share=0.0))
    assert not any(none.consents(b) for b in channel_ids)
    every = PopulationWorld("small", seed=42, permissions=Permissions(consent_share=1.0))
    assert all(every.consents(b) for b in channel_ids)


def test_follower_totals_grow_with_popularity_and_time(world: PopulationWorld) -> None:
    channel_ids = [str(i) for i in world.accounts.ids(np.arange(world.n_channels))]
    totals = [world.followers_total(b, EVENING) for b in channel_ids[:300]]  # the fr block
    assert all(t is not None for t in totals)
    top, rest = totals[0], sorted(t for t in totals if t is not None)
    assert top is not None and top > 100_000  # the top of a language: about a million
    assert 30 <= rest[len(rest) // 2] <= 5_000  # the median channel: hundreds
    for b in channel_ids[:20]:
        series = [world.followers_total(b, EVENING + h * HOUR) for h in range(0, 49, 6)]
        assert series == sorted(series)  # never goes down
        start, end = series[0], series[-1]
        assert start is not None and end is not None
        assert 0.0002 * 2 * start <= end - start + 1 <= 0.0021 * 2 * start + 2  # two days
    assert world.followers_total(world.operator().id, EVENING) == 0  # not a channel
    assert world.followers_total("999", EVENING) is None


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown simulator scale"):
        PopulationWorld("huge")
    with pytest.raises(ValueError, match="consent_share"):
        PopulationWorld("small", permissions=Permissions(consent_share=1.5))
    with pytest.raises(ValueError, match="permissions must be one of"):
        Permissions(mode="everything")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no simulated channel"):
        PopulationWorld("small", permissions=Permissions(operator_moderates=("nobody_here",)))
    with pytest.raises(ValueError, match="valid Twitch login"):
        PopulationWorld("small", operator_login="a b")


# -- calibration ----------------------------------------------------------------------


def test_evening_peak_and_morning_trough(world: PopulationWorld) -> None:
    evening = world.ground_truth_summary(EVENING)
    morning = world.ground_truth_summary(MORNING)
    assert evening["viewers"] >= 4 * morning["viewers"]
    # about a quarter of the French channels at the evening peak, as at `fr` (~2,000 of 8,500)
    assert 70 <= evening["live_channels"] <= 200
    assert 0 < morning["live_channels"] < 40  # a night floor: someone is always live


def _viewer_hours(world: PopulationWorld, step: int = 3) -> npt.NDArray[np.float64]:
    hours = np.zeros(world.n_channels)
    for k in range(0, 288, step):
        hours += world.tick_state(DAY0 + k * TICK).viewer_count * step / 12
    return hours


def test_popularity_follows_a_power_law(world: PopulationWorld) -> None:
    hours = np.sort(_viewer_hours(world))[::-1]
    total = hours.sum()
    top_tenth = hours[: world.n_channels // 10].sum() / total
    assert 0.5 <= top_tenth <= 0.9
    assert hours[:5].sum() / total <= 0.45  # no single star holds everything
    assert 1_000 <= total / 24 <= 4_000  # average concurrent viewers over the day


def test_broadcast_lengths_small_and_large_channels(world: PopulationWorld) -> None:
    seen: dict[str, list[float]] = {}
    last = 3 * 288 - 1
    for k in range(last + 1):
        for row in world.live_streams(DAY0 + k * TICK):
            entry = seen.setdefault(
                row.id, [float(world.channel_index(row.user_id)), row.started_at, k, k]
            )
            entry[3] = k
    size = world.population.channels.size
    small: list[float] = []
    large: list[float] = []
    for c, started, k0, k1 in seen.values():
        if k0 == 0 or k1 == last:
            continue
        hours = (DAY0 + (k1 + 1) * TICK - started) / HOUR
        (large if size[int(c)] >= 0.6 else small if size[int(c)] < 0.3 else []).append(hours)
    assert len(small) >= 300 and len(large) >= 30
    assert 2.3 <= float(np.mean(small)) <= 3.3
    assert 3.5 <= float(np.mean(large)) <= 5.0
    assert float(np.mean(large)) > float(np.mean(small)) + 0.6


def test_sessions_have_realistic_length(trace: Trace) -> None:
    stays: list[int] = []
    running: dict[tuple[int, int], int] = {}
    for pairs in trace.pairs:
        for pair in pairs:
            running[pair] = running.get(pair, 0) + 1
        for pair in [p for p in running if p not in pairs]:
            stays.append(running.pop(pair))
    minutes = np.asarray(stays) * trace.step * TICK / 60
    assert len(stays) >= 20_000
    assert 20.0 <= float(minutes.mean()) <= 50.0  # public dataset: ~31 min per stay
    assert float(np.quantile(minutes, 0.95)) >= 90.0  # lurkers stay for hours


def test_viewers_return_to_favourite_channels(trace: Trace) -> None:
    half = len(trace.ticks) // 2
    days: list[dict[int, set[int]]] = [defaultdict(set), defaultdict(set)]
    for i, pairs in enumerate(trace.pairs):
        for viewer, channel in pairs:
            days[i // half][viewer].add(channel)
    both = sorted(set(days[0]) & set(days[1]))
    assert len(both) >= 3_000

    def jaccard(a: set[int], b: set[int]) -> float:
        return len(a & b) / len(a | b)

    same = np.mean([jaccard(days[0][v], days[1][v]) for v in both])
    shuffled = np.random.default_rng(0).permutation(len(both))
    chance = np.mean(
        [jaccard(days[0][v], days[1][both[j]]) for v, j in zip(both, shuffled, strict=True)]
    )
    assert same >= 3 * chance
    assert same >= 0.07


@pytest.mark.slow
def test_fr_scale_matches_public_figures(fr_world: PopulationWorld) -> None:
    world = fr_world
    hourly = [world.ground_truth_summary(DAY0 + h * HOUR) for h in range(24)]
    assert max(s["live_by_language"]["fr"] for s in hourly) >= 2_000
    assert 200_000 <= max(s["chatters"] for s in hourly) <= 900_000
    assert 70_000 <= float(np.mean([s["viewers"] for s in hourly])) <= 280_000
    top = max(world.live_streams(DAY0 + h * HOUR)[0].viewer_count for h in range(17, 24))
    assert 10_000 <= top <= 200_000
    assert world.accounts.n > 3_000_000
