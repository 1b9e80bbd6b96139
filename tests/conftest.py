"""Shared fixtures: a simulated Twitch on 127.0.0.1, over a hand-made or a population world."""

from __future__ import annotations

import os

# Cloud clients look for credentials on a metadata server at 169.254.169.254 when they
# find none: tests never leave 127.0.0.1 (set before any Google client is imported).
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_GCE_CHECK"] = "true"

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from simulator.fake_world import START, FakeWorld
from streamcensus.clock import SimClock
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.simulator.server import running_simulator as _running

StartSimulator = Callable[..., SimulatorHandle]

pytest_plugins = ("objectstores",)  # moto's S3 server, a fault proxy, fake-gcs-server


@pytest.fixture
def fake_world() -> FakeWorld:
    """A tiny world with hand-computable answers (see tests/simulator/fake_world.py)."""
    return FakeWorld()


@pytest.fixture(scope="session")
def small_world() -> World:
    """The population model at `small` scale, seed 42, in the LOAD-TEST permission mode
    (`all-moderated`: the operator moderates every channel, which Twitch never grants),
    chosen explicitly by the tests that read every chat list."""
    from streamcensus.simulator.permissions import Permissions
    from streamcensus.simulator.world import PopulationWorld

    world: World = PopulationWorld(
        scale="small",
        seed=42,
        operator_login="streamcensus_operator",
        permissions=Permissions(mode="all-moderated"),
    )
    return world


@pytest.fixture(scope="session")
def realistic_world() -> World:
    """The population model at `small` scale, seed 42, with the default (realistic)
    permissions: the operator moderates nothing, 2 % of broadcasters consent."""
    from streamcensus.simulator.world import PopulationWorld

    world: World = PopulationWorld(scale="small", seed=42)
    return world


@pytest.fixture
def running_simulator() -> Iterator[StartSimulator]:
    """Start simulators on 127.0.0.1 (free ports), all stopped after the test.

    `running_simulator(world=None, start=START, speed=0.0, clock=None, **app_kwargs)`:
    `world` defaults to a `FakeWorld`; the clock stands still unless `speed` is given, or is
    `clock` (e.g. a `VirtualClock` shared with the collector); `app_kwargs` go to
    `create_app` (rate_limit_points, require_client_id, token_ttl, ...).
    """
    with ExitStack() as stack:

        def start(
            world: World | None = None,
            *,
            start: float = START,
            speed: float = 0.0,
            clock: Any = None,
            **app_kwargs: Any,
        ) -> SimulatorHandle:
            clock = clock if clock is not None else SimClock(start, speed=speed)
            used: World = world if world is not None else FakeWorld()
            return stack.enter_context(_running(used, clock, **app_kwargs))

        yield start
