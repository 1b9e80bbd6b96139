"""A snapshot at `fr` scale over real HTTP: paced under the rate limit, no avoidable 429."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from streamcensus.collect.session import open_collector
from streamcensus.config import load_settings
from streamcensus.simulator.permissions import Permissions
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import UTC

PEAK = dt.datetime(2026, 11, 27, 20, 5, tzinfo=UTC)  # off the hour: no follower totals
BUCKET = 800
REFILL_PER_SECOND = 800 / 60


@pytest.mark.slow
async def test_fr_snapshot_is_paced_without_429(tmp_path: Path, running_simulator) -> None:
    # LOAD TEST: the operator moderates every channel (Twitch never grants this), and no
    # broadcaster consents, so every chat list is read with one token, in one bucket
    permissions = Permissions(mode="all-moderated", consent_share=0.0)
    world = PopulationWorld(scale="fr", seed=42, permissions=permissions)
    world.tick_state(PEAK.timestamp())  # build the tick before the clock starts to flow
    # 5 simulated seconds per real second: the bucket (800/min) binds before the
    # server or the client does, so the snapshot must wait for refills
    handle = running_simulator(world, start=PEAK.timestamp(), speed=5.0)
    settings = load_settings(overrides={"data_dir": tmp_path}, environ={})
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:
        # learn the operator's 12,000 moderated channels first (120 pages read one after
        # the other, a latency cost): the snapshot then measures the chat-list reads alone
        await session.collector.readers.prepare()
        record = await session.collector.collect(PEAK)

    assert record.status == "complete"
    assert record.channels_listed == 2000
    assert record.channels_with_chatters == 2000
    assert record.presence_observations > 100_000
    assert record.http_429 == 0
    assert record.requests > BUCKET + 1000
    assert record.rate_limit_waits > 0
    floor = (record.requests - BUCKET) / REFILL_PER_SECOND
    # paced: it cannot beat the bucket, and it does not wait much longer than needed
    # (simulated seconds; the measured ratio is in BENCHMARKS.md)
    assert 0.95 * floor <= record.duration_seconds <= 1.5 * floor
