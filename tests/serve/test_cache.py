"""The API's answers are kept until the warehouse changes, and only then."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import duckdb
import httpx
from fastapi import FastAPI

from streamcensus.config import Settings
from streamcensus.serve.app import create_app
from streamcensus.serve.cache import Answer, AnswerStore
from streamcensus.serve.reader import warehouse_version
from streamcensus.serve.warm import DAY_ENDPOINTS


def _copy(census: Settings, tmp_path: Path) -> Settings:
    """A census of its own (the session's one is shared), so the test may write it."""
    shutil.copytree(census.data_dir, tmp_path / "data")
    return census.model_copy(update={"data_dir": tmp_path / "data"})


@asynccontextmanager
async def serving(settings: Settings, idle_seconds: float) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, idle_seconds=idle_seconds)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c
    finally:
        app.state.serve.pool.close()


def _store(client: httpx.AsyncClient) -> AnswerStore:
    app: FastAPI = client.app  # type: ignore[attr-defined]
    store: AnswerStore = app.state.answers
    return store


async def test_a_repeated_request_is_answered_from_the_store(census: Settings) -> None:
    async with serving(census, idle_seconds=60) as client:
        store = _store(client)
        first = await client.get("/api/overview?day=2026-11-26")
        again = await client.get("/api/overview?day=2026-11-26")
        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        assert again.json()["day"] == "2026-11-26"
        assert (store.stats.misses, store.stats.hits, len(store)) == (1, 1, 1)
        other = await client.get("/api/overview?day=2026-11-27")
        assert other.json()["day"] == "2026-11-27"
        assert (store.stats.misses, store.stats.hits, len(store)) == (2, 1, 2)
        # the security headers and the Host check still apply to a kept answer
        assert again.headers["x-content-type-options"] == "nosniff"
        refused = await client.get(
            "/api/overview?day=2026-11-26", headers={"Host": "attacker.example"}
        )
        assert refused.status_code == 400
        assert store.stats.hits == 1


async def test_one_kept_answer_serves_plain_and_gzip_clients(census: Settings) -> None:
    async with serving(census, idle_seconds=60) as client:
        store = _store(client)
        plain = await client.get("/api/overview", headers={"Accept-Encoding": "identity"})
        packed = await client.get("/api/overview", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.headers["vary"] == "Accept-Encoding"
        assert int(packed.headers["content-length"]) < len(plain.content)
        assert packed.json() == plain.json()  # httpx decodes the gzip body
        first = await client.get("/api/schedules", headers={"Accept-Encoding": "gzip"})
        assert first.headers["content-encoding"] == "gzip"
        again = await client.get("/api/schedules", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in again.headers and again.json() == first.json()
        assert (store.stats.misses, store.stats.hits) == (2, 2)


async def test_the_key_is_the_route_and_its_parameters(census: Settings) -> None:
    async with serving(census, idle_seconds=60) as client:
        store = _store(client)
        first = await client.get("/api/map?day=2026-11-27")
        spelled = await client.get(
            "/api/map?signal=chat_activity&limit=60&day=2026-11-27&window=7&unknown=1"
        )
        assert spelled.json() == first.json()
        assert (store.stats.misses, store.stats.hits) == (1, 1)
        other = await client.get("/api/map?day=2026-11-27&window=1")
        assert other.json()["window_days"] == 1 and first.json()["window_days"] == 7
        assert (store.stats.misses, store.stats.hits) == (2, 1)


async def test_warming_computes_each_days_pages_after_a_change(census: Settings) -> None:
    app = create_app(census, idle_seconds=60, warm=True)
    store: AnswerStore = app.state.answers
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            assert (await client.get("/api/days")).status_code == 200  # starts the warm-up
            assert len(store.stats.versions) == 1
            for _ in range(600):  # bounded: the warm-up ends on its own
                if not store.stats.warming:
                    break
                await asyncio.sleep(0.05)
            assert store.stats.warming == 0
            # two loaded days' pages, and /api/days unless the first request kept it first
            assert store.stats.warmed in (2 * len(DAY_ENDPOINTS), 2 * len(DAY_ENDPOINTS) + 1)
            misses = store.stats.misses
            for endpoint in DAY_ENDPOINTS:
                for day in ("2026-11-26", "2026-11-27"):
                    response = await client.get(f"/api/{endpoint}?day={day}")
                    assert response.status_code == 200, endpoint
            assert store.stats.misses == misses  # every one was warm
            metrics = (await client.get("/metrics")).text
            assert "streamcensus_api_warming 0.0" in metrics
            assert f"streamcensus_api_answers_warmed {float(store.stats.warmed)}" in metrics
    finally:
        app.state.serve.pool.close()


async def test_errors_and_the_cost_are_never_kept(census: Settings) -> None:
    async with serving(census, idle_seconds=60) as client:
        store = _store(client)
        for _ in range(2):
            assert (await client.get("/api/overview?day=2020-01-01")).status_code == 404
            assert (await client.get("/api/overview?day=nope")).status_code == 400
            await client.get("/api/cost")
        assert store.stats.hits == 0 and len(store) == 0


async def test_a_load_that_changes_the_warehouse_drops_what_was_kept(
    census: Settings, tmp_path: Path
) -> None:
    settings = _copy(census, tmp_path)
    async with serving(settings, idle_seconds=0) as client:  # released after each request
        store = _store(client)
        before = (await client.get("/api/days")).json()
        assert before["days"] == ["2026-11-26", "2026-11-27"]
        assert (await client.get("/api/days")).json() == before
        assert store.stats.hits == 1
        version = warehouse_version(settings.warehouse_path)
        writer = duckdb.connect(str(settings.warehouse_path))  # what a load does
        writer.execute("delete from pipeline_health where day = '2026-11-26'")
        writer.close()
        assert warehouse_version(settings.warehouse_path) != version
        after = (await client.get("/api/days")).json()
        assert after["days"] == ["2026-11-27"]
        assert store.stats.hits == 1 and store.stats.dropped >= 1


async def test_a_load_in_the_same_process_is_not_hidden_by_the_store(census: Settings) -> None:
    async with serving(census, idle_seconds=60) as client:
        pool = client.app.state.serve.pool  # type: ignore[attr-defined]
        assert (await client.get("/api/days")).status_code == 200
        with pool.paused():
            response = await client.get("/api/days")
            assert response.status_code == 503  # not the kept answer
        assert (await client.get("/api/days")).status_code == 200


def test_the_store_keeps_within_its_budget() -> None:
    store = AnswerStore(max_bytes=800)
    version = (1, 2, 3)

    def key(name: str) -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
        return (name, ())

    for n in range(10):
        store.store(key(f"/api/x{n}"), version, Answer([], b"x" * 100))
    assert len(store) == 8  # the two oldest evicted
    assert store.lookup(key("/api/x0"), version) is None
    assert store.lookup(key("/api/x9"), version) is not None
    store.store(key("/api/big"), version, Answer([], b"x" * 101))
    assert store.lookup(key("/api/big"), version) is None  # over an eighth
    assert store.lookup(key("/api/x9"), (9,)) is None  # a new version
    assert len(store) == 0
