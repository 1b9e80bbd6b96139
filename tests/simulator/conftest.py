"""Fixtures of the simulator tests: the `fr` population, built once for the session."""

from __future__ import annotations

import pytest

from streamcensus.simulator.world import PopulationWorld


@pytest.fixture(scope="session")
def fr_world() -> PopulationWorld:
    """The population model at `fr` scale, seed 42 (about 20 s and 0.5 GB to build)."""
    return PopulationWorld("fr", seed=42)
