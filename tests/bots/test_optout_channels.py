"""Opted-out channels are resolved to ids once and matched by id: a renamed channel stays out."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from streamcensus.collect.privacy import OPTOUT_CHANNELS_FILE
from streamcensus.collect.session import open_collector
from streamcensus.config import Settings, load_settings
from streamcensus.lake.schema import raw_path
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import UTC

EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def _settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(overrides={"data_dir": tmp_path, **values}, environ={})


async def _listed(settings: Settings, handle, moment: dt.datetime) -> set[str]:  # type: ignore[no-untyped-def]
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:
        record = await session.collector.collect(moment)
    streams = pq.read_table(raw_path(settings.lake_dir, "streams", record.snapshot_id))
    return set(streams.column("channel_id").to_pylist())


async def test_a_renamed_channel_stays_opted_out(tmp_path: Path, running_simulator) -> None:  # type: ignore[no-untyped-def]
    world = PopulationWorld(scale="small", seed=11)
    handle = running_simulator(world, start=EVENING.timestamp())
    live = [s for s in world.live_streams(EVENING.timestamp()) if s.language == "fr"]
    target = live[3]
    settings = _settings(tmp_path, top_n=50, optout_channels=[target.user_login.upper()])

    assert target.user_id not in await _listed(settings, handle, EVENING)
    stored = json.loads((settings.state_dir / OPTOUT_CHANNELS_FILE).read_bytes())
    assert stored == {target.user_login: target.user_id}
    assert (settings.state_dir / OPTOUT_CHANNELS_FILE).stat().st_mode & 0o077 == 0

    # the channel changes its name; the configured (old) login no longer names it
    answer = httpx.post(
        f"{handle.base_url}/_sim/accounts/rename",
        json={"user_id": target.user_id, "login": "renamed_optout_chan"},
    )
    assert answer.status_code == 200, answer.text
    later = EVENING + dt.timedelta(minutes=10)
    handle.clock.set(later.timestamp())
    renamed = [s for s in world.live_streams(later.timestamp()) if s.user_id == target.user_id]
    assert renamed and renamed[0].user_login == "renamed_optout_chan"

    assert target.user_id not in await _listed(settings, handle, later)  # matched by id

    # the check can fail: without the stored id, the old login resolves to nobody and the
    # renamed channel would be collected again
    (settings.state_dir / OPTOUT_CHANNELS_FILE).unlink()
    assert target.user_id in await _listed(
        _settings(tmp_path / "fresh", top_n=50, optout_channels=[target.user_login]), handle, later
    )


def test_rename_route_refuses_bad_input(running_simulator) -> None:  # type: ignore[no-untyped-def]
    world = PopulationWorld(scale="small", seed=11)
    handle = running_simulator(world, start=EVENING.timestamp())
    taken = world.live_streams(EVENING.timestamp())[0]
    other = world.live_streams(EVENING.timestamp())[1]
    url = f"{handle.base_url}/_sim/accounts/rename"
    for body in (
        {"user_id": other.user_id, "login": taken.user_login},  # taken
        {"user_id": other.user_id, "login": "no spaces"},
        {"user_id": "1", "login": "validlogin"},  # no such account
        {"user_id": other.user_id, "login": 5},
        {"user_id": other.user_id, "login": "validlogin", "extra": 1},
    ):
        answer = httpx.post(url, json=body)
        assert answer.status_code == 400, (body, answer.text)
    text = httpx.post(
        url, content=b'{"user_id":"1","login":"x"}', headers={"content-type": "text/plain"}
    )
    assert text.status_code == 415


def test_bot_truth_route_lists_every_bot(running_simulator) -> None:  # type: ignore[no-untyped-def]
    world = PopulationWorld(scale="small", seed=11)
    handle = running_simulator(world, start=EVENING.timestamp())
    truth = httpx.get(f"{handle.base_url}/_sim/truth/bots").json()
    lurkers = {b["user_id"] for b in truth["lurker_bots"]}
    service = {b["user_login"] for b in truth["service_bots"]}
    assert len(lurkers) == world.n_lurker_bots == 30
    assert "nightbot" in service and "streamelements" in service
    every = lurkers | {b["user_id"] for b in truth["service_bots"]}
    assert every == {str(i) for i in world.bot_ids().tolist()}
