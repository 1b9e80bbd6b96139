"""A snapshot at `fr` scale over real HTTP: paced under the rate limit, no avoidable 429."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from streamcensus.clock import VirtualClock
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
    # Virtual time shared by the simulator's bucket and the collector's pacer: it moves
    # only when the collector sleeps, by the wait the pacer chose, and requests take no
    # simulated time. The bucket (800/min) is then all that binds, however busy the
    # machine: the duration below is exactly the waits the pacer chose.
    clock = VirtualClock(PEAK)
    handle = running_simulator(world, clock=clock)
    # Helix alone: a chat listener's own waits would move the shared virtual clock too
    settings = load_settings(overrides={"data_dir": tmp_path, "chat_enabled": False}, environ={})
    limiter = handle.app.state.rate_limiter
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=clock
    ) as session:
        before = limiter.granted()
        # the snapshot also learns the operator's 12,000 moderated channels (120 pages, on
        # the same bucket as the chat lists: they count in the floor)
        record = await session.collector.collect(PEAK)
    after = limiter.granted()

    assert record.status == "complete"
    assert record.channels_listed == 2000
    assert record.channels_with_chatters == 2000
    assert record.presence_observations > 100_000
    assert record.http_429 == 0
    assert record.requests > BUCKET + 1000
    assert record.rate_limit_waits > 0
    # the busiest bucket (the operator's user token), counted by the simulator itself:
    # `requests` also counts calls charged to the app token's bucket or to none
    spent = max(after[key] - before.get(key, 0) for key in after)
    assert spent > BUCKET + 1000
    floor = (spent - BUCKET) / REFILL_PER_SECOND
    # paced on simulated time: no run can beat the bucket (a full bucket at the start, then
    # the refill), and the pacer waits no longer than needed
    assert floor - 0.01 <= record.duration_seconds <= 1.05 * floor
