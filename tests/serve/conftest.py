"""Fixtures of the dashboard tests: loaded warehouses and an in-process API client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiclient import client
from serve.browser import browser_session, watched_page
from serve.census import build_census, build_synthetic
from streamcensus.config import Settings

ClientFactory = Callable[[Settings], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(scope="session")
def census(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The hand-made two-day census (see serve/census.py), loaded once per session."""
    return build_census(tmp_path_factory.mktemp("census"))


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Two synthetic days with 60 channels, loaded once per session."""
    return build_synthetic(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture
def empty(tmp_path: Path) -> Settings:
    """Settings whose data directory holds no warehouse."""
    return Settings(data_dir=tmp_path / "nothing")


@pytest.fixture
def client_for() -> ClientFactory:
    """`async with client_for(settings) as client`: the app in-process over ASGI."""
    return client


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The hand-made census with hostile names (see serve/census.py), loaded once."""
    return build_census(tmp_path_factory.mktemp("hostile"), hostile=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per test module."""
    yield from browser_session()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page of that browser, watched for problems and CSP violations."""
    yield from watched_page(browser)
