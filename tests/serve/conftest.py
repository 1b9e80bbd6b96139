"""Fixtures of the dashboard tests: loaded warehouses and an in-process API client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from serve.census import build_census, build_synthetic
from streamcensus.config import Settings
from streamcensus.serve.app import create_app

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


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client:
            yield client
    finally:
        app.state.serve.pool.close()


@pytest.fixture
def client_for() -> ClientFactory:
    """`async with client_for(settings) as client`: the app in-process over ASGI."""
    return _client
