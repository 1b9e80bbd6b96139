"""Fixtures of the community tests: the hand-made three-day lake, loaded once."""

from __future__ import annotations

import pytest

from communities.audience import build
from streamcensus.config import Settings


@pytest.fixture(scope="session")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Three days with two scenes, and a third scene on day 3 (see audience.py)."""
    return build(tmp_path_factory.mktemp("scenes"))
