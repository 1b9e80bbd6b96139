"""The known-bot list: shipped default, operator file, and matching by pseudonym after hashing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from streamcensus.collect.privacy import Pseudonymiser
from streamcensus.collect.session import open_collector
from streamcensus.config import load_settings
from streamcensus.errors import ConfigError
from streamcensus.keys import KeyStore
from streamcensus.knownbots import default_known_bots, parse_bot_list
from streamcensus.lake.schema import raw_path
from streamcensus.simulator.names import SERVICE_BOTS
from streamcensus.simulator.permissions import Permissions
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import UTC

EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def test_default_list_covers_the_simulated_public_bots() -> None:
    default = default_known_bots()
    assert {login for login, _, _ in SERVICE_BOTS} <= set(default)
    assert len(default) == len(set(default)) >= 20


def test_operator_file_adds_to_the_list(tmp_path: Path) -> None:
    extra = tmp_path / "bots.txt"
    extra.write_text("# ours\nOurBot  # the channel's own\n\nnightbot\n")
    settings = load_settings(
        overrides={"data_dir": tmp_path, "known_bots_file": str(extra)}, environ={}
    )
    bots = settings.all_known_bots
    assert bots[-1] == "ourbot" and bots.count("nightbot") == 1
    assert set(default_known_bots()) < set(bots)
    replaced = load_settings(
        overrides={"data_dir": tmp_path, "known_bots": "a_bot,b_bot"}, environ={}
    )
    assert replaced.all_known_bots == ("a_bot", "b_bot")


def test_bad_lists_give_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 2: 'not a login'"):
        parse_bot_list("nightbot\nnot a login\n")
    missing = load_settings(
        overrides={"data_dir": tmp_path, "known_bots_file": str(tmp_path / "none.txt")},
        environ={},
    )
    with pytest.raises(ConfigError, match="cannot be read"):
        missing.all_known_bots  # noqa: B018


def test_bots_matched_by_pseudonym_not_by_login(tmp_path: Path) -> None:
    key = KeyStore(tmp_path, 30, _Clock()).current(EVENING)
    # "nightbot" resolved to id 7; a person now using the login "moobot" (id 9) is no bot
    by_id = Pseudonymiser(key, [], ["nightbot", "moobot"], bot_ids={"7": "nightbot"})
    batch = by_id.pseudonymise(["7", "9", "5"], ["renamed_nightbot", "moobot", "ann"])
    assert batch.is_bot.tolist() == [True, False, False]
    assert batch.bot_name.to_pylist() == ["nightbot", None, None]
    # without resolution the login decides (what the ids avoid)
    by_login = Pseudonymiser(key, [], ["nightbot", "moobot"])
    batch = by_login.pseudonymise(["7", "9", "5"], ["renamed_nightbot", "moobot", "ann"])
    assert batch.bot_name.to_pylist() == [None, "moobot", None]


class _Clock:
    def now(self) -> dt.datetime:
        return EVENING

    def time(self) -> float:
        return EVENING.timestamp()


async def test_collector_flags_simulated_service_bots_by_id(
    tmp_path: Path, running_simulator
) -> None:  # type: ignore[no-untyped-def]
    world = PopulationWorld(scale="small", seed=11, permissions=Permissions(mode="all-moderated"))
    handle = running_simulator(world, start=EVENING.timestamp())
    settings = load_settings(overrides={"data_dir": tmp_path, "top_n": 40}, environ={})
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:
        ids = session.collector.options.known_bot_ids
        assert ids is not None
        assert set(ids.values()) == {login for login, _, _ in SERVICE_BOTS}
        record = await session.collector.collect(EVENING)
    chatters = pq.read_table(raw_path(settings.lake_dir, "chatters", record.snapshot_id))
    named = {n for n in chatters.column("bot_name").to_pylist() if n is not None}
    key = KeyStore(settings.key_store_dir, settings.key_rotation_days, handle.clock).current(
        EVENING
    )
    truth = Pseudonymiser(key, [], [])
    service = {truth.pseudonym(str(i)) for i in world.bot_ids().tolist()}
    flagged = {
        v
        for v, b in zip(chatters["viewer"].to_pylist(), chatters["is_bot"].to_pylist(), strict=True)
        if b
    }
    assert named and named <= {login for login, _, _ in SERVICE_BOTS}
    assert flagged and flagged <= service


def test_chat_door_flags_bots_by_pseudonym(tmp_path: Path) -> None:
    from streamcensus.collect.chat import ChatCounters
    from streamcensus.collect.chat.door import Door
    from streamcensus.collect.chat.windows import WindowBook

    keys = KeyStore(tmp_path, 30, _Clock())
    door = Door(keys, (), ["nightbot", "moobot"], known_bot_ids={"7": "nightbot"})
    book = WindowBook(door, ChatCounters())
    start_ms = int(EVENING.timestamp()) * 1000
    for uid, login in (("7", "renamed_nightbot"), ("9", "moobot"), ("5", "ann")):
        book.message("1", start_ms + 10, uid, login)
    window = book.close(start_ms + 300_000, [], ChatCounters())
    rows = window.activity.to_pylist()
    assert sorted((r["is_bot"], r["bot_name"]) for r in rows) == [
        (False, None),
        (False, None),
        (True, "nightbot"),
    ]
