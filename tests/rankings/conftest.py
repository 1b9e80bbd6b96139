"""Fixtures of the rankings tests: the hand-made three-day lake, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from rankings.lake import build
from streamcensus.config import Settings
from streamcensus.serve.export import export_static


@pytest.fixture(scope="session")
def ranked(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Three loaded days with three channels and two games (see lake.py)."""
    return build(tmp_path_factory.mktemp("ranked"))


@pytest.fixture(scope="session")
def site(ranked: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ranked lake exported once (`streamcensus export --static`)."""
    out = tmp_path_factory.mktemp("export") / "site"
    export_static(ranked, out)
    return out
