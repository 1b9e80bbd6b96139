"""Fixtures of the rankings tests: the hand-made three-day lake, loaded once."""

from __future__ import annotations

import pytest

from rankings.lake import build
from streamcensus.config import Settings


@pytest.fixture(scope="session")
def ranked(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Three loaded days with three channels and two games (see lake.py)."""
    return build(tmp_path_factory.mktemp("ranked"))
