"""The chat model: deterministic for a seed, posting follows presence, calibrated figures."""

from __future__ import annotations

import numpy as np
import pytest

from streamcensus.simulator.chat.calibration import (
    MESSAGES_PER_CHATTER_MONTH,
    MESSAGES_PER_VIEWER_MINUTE,
    WEEKLY_POSTING_SHARE,
    measure,
)
from streamcensus.simulator.chat.irc import ParseError, escape_tag, line, parse, unescape_tag
from streamcensus.simulator.chat.model import HUMAN_ROLES, ChatModel, Kind, rooms_from_world
from streamcensus.simulator.protocol import ChatRole, World
from streamcensus.simulator.world import PopulationWorld

from .fake_world import START, FakeWorld

EVENING_TICK = 1_795_810_200 // 300  # 2026-11-27T20:10Z
DAY_TICK = 1_795_737_600 // 300  # 2026-11-27T00:00Z


def test_same_seed_same_messages_other_seed_others(small_world: World) -> None:
    a = ChatModel(small_world).tick(EVENING_TICK)
    b = ChatModel(small_world).tick(EVENING_TICK)
    for name in ("ts_ms", "room", "kind", "sub", "account", "variant", "extra"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    other = ChatModel(PopulationWorld("small", seed=43)).tick(EVENING_TICK)
    assert len(other) != len(a) or not np.array_equal(other.account, a.account)


def test_messages_come_from_the_tick_chat_lists_in_time_order(small_world: World) -> None:
    events = ChatModel(small_world).tick(EVENING_TICK)
    assert len(events) > 100
    assert np.all(np.diff(events.ts_ms) >= 0)
    t0 = EVENING_TICK * 300_000
    assert events.ts_ms.min() >= t0 and events.ts_ms.max() < t0 + 300_000
    rooms = events.rooms
    msg = (events.kind == Kind.PRIVMSG) | (events.kind == Kind.CLEARCHAT)
    for i in np.flatnonzero(msg)[:500].tolist():
        r = int(events.room[i])
        listed = rooms.account_ids[rooms.offsets[r] : rooms.offsets[r + 1]]
        assert int(events.account[i]) in listed  # only people in that chat post there


def test_who_posts_lurker_bots_never_service_bots_do(small_world: World) -> None:
    model = ChatModel(small_world)
    roles: list[np.ndarray] = []
    for tick in range(EVENING_TICK, EVENING_TICK + 24):
        events = model.tick(tick)
        roles.append(events.role[events.kind == Kind.PRIVMSG])
    posted = np.concatenate(roles)
    assert not np.any(posted == ChatRole.LURKER_BOT)
    assert not np.any(posted == ChatRole.OPERATOR)
    assert np.any(posted == ChatRole.SERVICE_BOT)
    assert np.isin(posted, HUMAN_ROLES).mean() > 0.9


def test_posting_rate_is_a_fixed_heavy_tailed_trait(small_world: World) -> None:
    model = ChatModel(small_world)
    ids = np.arange(100_000_000, 100_200_000, dtype=np.int64)
    roles = np.full(len(ids), ChatRole.VIEWER, dtype=np.uint8)
    rate = model.talker_rate(ids, roles)
    assert np.array_equal(rate, model.talker_rate(ids, roles))
    talkers = rate[rate > 0]
    assert 0.45 < len(talkers) / len(rate) < 0.55  # talker_share_viewer = 0.5
    assert np.mean(talkers) > 1.7 * np.median(talkers)  # heavy tail: mean far above median
    top = np.sort(talkers)[::-1][: len(talkers) // 10]
    assert top.sum() / talkers.sum() > 0.35  # the busiest tenth holds over a third of it
    lurkers = model.talker_rate(ids, np.full(len(ids), ChatRole.LURKER, dtype=np.uint8))
    assert (lurkers > 0).mean() < 0.2


def test_rooms_through_the_plain_world_contract() -> None:
    world = FakeWorld()
    rooms = rooms_from_world(world, START)
    assert len(rooms.channel_ids) == len(world.live_streams(START))
    events = ChatModel(world).tick(int(START // world.tick_seconds))
    assert len(events) > 0 and np.all(np.diff(events.ts_ms) >= 0)


def test_truth_counts_match_the_events(small_world: World) -> None:
    model = ChatModel(small_world)
    events = model.tick(EVENING_TICK)
    start, end = EVENING_TICK * 300 + 60.0, EVENING_TICK * 300 + 180.0
    truth = model.activity(start, end, None)
    keep = (
        (events.ts_ms >= start * 1000) & (events.ts_ms < end * 1000) & (events.kind == Kind.PRIVMSG)
    )
    channels = events.rooms.channel_ids[events.room[keep]]
    total = sum(truth.human_messages.values()) + sum(truth.bot_messages.values())
    assert total == int(keep.sum())
    c = int(channels[0])
    posters = set(events.account[keep][channels == c].tolist())
    assert len(truth.human_posters.get(c, set()) | truth.bot_posters.get(c, set())) == len(posters)


@pytest.mark.slow
def test_calibration_within_public_bounds(small_world: World) -> None:
    """A week at `small`: figures within a factor of 2 of the public ones (docs/calibration.md)."""
    result = measure(ChatModel(small_world), DAY_TICK - 6 * 288, 7 * 288)
    low, high = MESSAGES_PER_VIEWER_MINUTE
    assert low / 2 <= result.messages_per_viewer_minute <= high * 2
    weekly = WEEKLY_POSTING_SHARE
    assert weekly / 2 <= result.posting_share <= min(1.0, weekly * 2)
    low, high = MESSAGES_PER_CHATTER_MONTH
    assert low / 2 <= result.messages_per_poster_channel_month <= high * 2
    assert 0.4 < result.top_decile_message_share < 0.8  # a minority writes most messages
    assert result.window_posting_share < 0.35  # most of a chat list is silent in a window
    assert result.lurker_bot_messages == 0
    assert result.usernotices > 0 and result.clearchats > 0


def test_irc_lines_round_trip() -> None:
    tags = [("display-name", "A b;c\\d"), ("emotes", ""), ("x", "line\r\nbreak")]
    text = line("PRIVMSG", "#chan", prefix="u!u@u.tmi.twitch.tv", tags=tags, trailing="hi :) x")
    msg = parse(text)
    assert msg.command == "PRIVMSG" and msg.params == ("#chan", "hi :) x")
    assert dict(msg.tags) == dict(tags)
    assert unescape_tag(escape_tag("a; b\\c")) == "a; b\\c"
    assert parse("PING").params == ()
    assert parse("CAP REQ :a b").params == ("REQ", "a b")
    for bad in ("", "@a=b", ":prefix", "@a :p", "!!! x"):
        with pytest.raises(ParseError):
            parse(bad)
