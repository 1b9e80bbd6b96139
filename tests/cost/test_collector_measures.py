"""A snapshot over real HTTP records what `cost` needs: its CPU and real time, HTTP bytes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import httpx

from simulator.fake_world import START
from streamcensus.collect.session import open_collector
from streamcensus.config import load_settings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import raw_path
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.twitch.stats import request_bytes, response_bytes

StartSimulator = Callable[..., SimulatorHandle]


async def test_manifest_records_cpu_time_and_every_byte(
    tmp_path: Path, running_simulator: StartSimulator
) -> None:
    sim = running_simulator(start=START)
    settings = load_settings(overrides={"data_dir": tmp_path}, environ={})
    seen = {"sent": 0, "received": 0, "exchanges": 0}

    async def count(response: httpx.Response) -> None:
        await response.aread()  # the body as it came, read once; the client reuses it
        seen["sent"] += request_bytes(response.request)
        seen["received"] += response_bytes(response)
        seen["exchanges"] += 1

    grid = dt.datetime.fromtimestamp(START, dt.UTC)
    async with open_collector(
        settings, helix_url=sim.helix_url, auth_url=sim.auth_url, clock=sim.clock
    ) as session:
        session.http.event_hooks["response"].append(count)
        record = await session.collector.collect(grid)

    assert seen["exchanges"] == record.requests > 0
    assert record.bytes_sent == seen["sent"]
    assert record.bytes_received == seen["received"]
    # the streams page alone carries every live channel's JSON
    assert record.bytes_received > 8 * 300
    assert record.wall_seconds > 0
    # one thread cannot use more CPU time than the real time that passed
    assert 0 < record.cpu_seconds <= record.wall_seconds + 0.01
    written = ManifestRecord.from_bytes(
        raw_path(settings.lake_dir, "manifest", record.snapshot_id).read_bytes()
    )
    assert (written.cpu_seconds, written.bytes_received) == (
        record.cpu_seconds,
        record.bytes_received,
    )
