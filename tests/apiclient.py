"""The dashboard's app over httpx's in-process transport, for tests of its JSON API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from streamcensus.config import Settings
from streamcensus.serve.app import create_app


@asynccontextmanager
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh app over `settings`; the app's reader pool closed afterwards."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            yield c
    finally:
        app.state.serve.pool.close()


async def get(settings: Settings, url: str, status: int = 200) -> Any:
    """The JSON body of GET `url`, asserting its status."""
    async with client(settings) as c:
        response = await c.get(url)
    assert response.status_code == status, response.text
    return response.json()
