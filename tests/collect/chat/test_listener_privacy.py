"""Privacy at the door: opted-out viewers dropped before hashing, nothing identifying kept.

The lines the listener reads are rebuilt here from the simulator's own model and renderer
(the same bytes the server sends), so the test knows every author's login, display name,
user id and message text, and checks that none of them reaches the output tables or a log.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamcensus.collect.chat import ChatChannel
from streamcensus.collect.privacy import Pseudonymiser
from streamcensus.keys import KeyStore
from streamcensus.simulator.chat.irc import parse
from streamcensus.simulator.chat.model import Kind
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle

from .helpers import ALL_SERVICE_BOTS, EVENING, make_listener, step, tallies, top_channels, truth

StartSimulator = Callable[..., SimulatorHandle]


@pytest.fixture
def sim(running_simulator: StartSimulator, small_world: World) -> SimulatorHandle:
    return running_simulator(small_world, start=EVENING + 1)


def sent_lines(
    sim: SimulatorHandle, channels: list[ChatChannel], start: float, end: float
) -> list[Any]:
    """The PRIVMSG lines of `channels` in [start, end), parsed, as the simulator renders them."""
    assert sim.chat is not None
    model, renderer = sim.chat.model, sim.chat.renderer
    ids = np.asarray([int(c.channel_id) for c in channels], dtype=np.int64)
    lo, hi = int(start * 1000), int(end * 1000)
    out = []
    for tick in range(lo // 300_000, (hi - 1) // 300_000 + 1):
        events = model.tick(tick)
        room = events.rooms.channel_ids[events.room]
        keep = (
            (events.kind == Kind.PRIVMSG)
            & (events.ts_ms >= lo)
            & (events.ts_ms < hi)
            & np.isin(room, ids)
        )
        out += [
            parse(line.decode().rstrip("\r\n"))
            for line in renderer.render(events, np.flatnonzero(keep))
        ]
    return out


async def test_opted_out_viewers_are_dropped_before_hashing(
    sim: SimulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channels = top_channels(sim, 10)
    start = EVENING + 300  # who will post in the second window, found in the model first
    lines = sent_lines(sim, channels, start, start + 300)
    human = [m for m in lines if m.prefix.split("!")[0] not in ALL_SERVICE_BOTS]
    by_author = Counter(m.tags["user-id"] for m in human)
    (a_id, _), (b_id, _) = by_author.most_common(2)
    a_login = next(m.prefix.split("!")[0] for m in human if m.tags["user-id"] == a_id)
    hashed: list[str] = []
    real = Pseudonymiser.pseudonym

    def spy(self: Pseudonymiser, user_id: str) -> int:
        hashed.append(user_id)
        return real(self, user_id)

    monkeypatch.setattr(Pseudonymiser, "pseudonym", spy)
    optout = [a_login.upper(), b_id]  # by login (any case) and by user id
    async with make_listener(sim, tmp_path, optout_viewers=optout) as listener:
        listener.set_channels(channels)
        assert await listener.settled(60)
        await step(listener, sim.clock)
        window = await step(listener, sim.clock)
    assert window.start.timestamp() == start
    assert a_id not in hashed and b_id not in hashed
    dropped = [m for m in lines if m.tags["user-id"] in (a_id, b_id)]
    assert len(dropped) > 0
    assert "optout" not in str(listener.counters.as_dict())  # no count of them anywhere (P4)
    expected = truth(sim, channels, window.start, window.end)
    got = tallies(window)
    for c in channels:
        theirs = [m for m in dropped if m.tags["room-id"] == c.channel_id]
        authors = {m.tags["user-id"] for m in theirs}
        mine = got[c.channel_id]
        assert mine.messages == expected[c.channel_id]["messages"] - len(theirs)
        assert mine.posters == expected[c.channel_id]["posters"] - len(authors)
    key = next(k for k in KeyStore(tmp_path, 1, sim.clock).list_keys() if k.key_id == window.key_id)
    clean = Pseudonymiser(key, [], [])
    viewers = set(window.activity["viewer"].to_pylist())
    assert clean.pseudonym(a_id) not in viewers and clean.pseudonym(b_id) not in viewers
    others = {m.tags["user-id"] for m in human} - {a_id, b_id}
    assert {clean.pseudonym(u) for u in others} <= viewers  # same pseudonyms as chat lists


async def test_no_login_id_or_text_in_the_tables_or_the_log(
    sim: SimulatorHandle, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="streamcensus")
    channels = top_channels(sim, 10)
    async with make_listener(sim, tmp_path) as listener:
        listener.set_channels(channels)
        assert await listener.settled(60)
        windows = [await step(listener, sim.clock) for _ in range(3)]
        listener.set_channels(channels[:5])  # parts, logged
        assert await listener.settled(60)
    channel_ids = {c.channel_id for c in channels}
    logins: set[str] = set()
    names: set[str] = set()
    user_ids: set[str] = set()
    texts: set[str] = set()
    for window in windows:
        for m in sent_lines(sim, channels, window.start.timestamp(), window.end.timestamp()):
            login = m.prefix.split("!")[0]
            if login not in ALL_SERVICE_BOTS:
                logins.add(login)
                names.add(m.tags["display-name"])
            if m.tags["user-id"] not in channel_ids:  # a broadcaster's id is its channel's
                user_ids.add(m.tags["user-id"])
            texts.add(m.params[-1])
    assert len(logins) > 50 and len(texts) > 50
    identifying = {s for s in logins | names | user_ids if len(s) >= 4} | texts
    for window in windows:
        assert window.activity.num_rows > 0
        for table in (window.activity, window.coverage):
            for name in table.column_names:
                for value in table.column(name).to_pylist():
                    if value is None or isinstance(value, bool | float | dt.datetime):
                        continue
                    if isinstance(value, int):
                        assert str(value) not in user_ids, (name, value)
                        continue
                    assert value not in identifying, (name, value)
                    assert not any(s in value for s in identifying if len(s) >= 6), (name, value)
                    if name == "bot_name":
                        assert value in ALL_SERVICE_BOTS
        bots = window.activity.filter(window.activity["is_bot"]).column("bot_name").to_pylist()
        assert bots and set(bots) <= set(ALL_SERVICE_BOTS)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "chat connection" in logged  # the listener did log (connections, at DEBUG)
    for s in identifying:
        if len(s) >= 6:
            assert s not in logged
