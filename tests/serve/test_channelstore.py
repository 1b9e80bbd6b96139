"""The per-channel tables (serve/channelstore.py): the same answers as the warehouse's
queries, byte for byte, for every channel and day, errors included."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from fastapi import FastAPI

from streamcensus.bench import api_suite
from streamcensus.config import Settings
from streamcensus.serve import channels
from streamcensus.serve.app import create_app
from streamcensus.serve.channelstore import STORE_TABLES, ChannelStore, KeyedTable, is_store
from streamcensus.serve.reader import ReaderPool


@asynccontextmanager
async def app_client(settings: Settings, *, store: bool) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app (no kept answers), its channel tables built or not."""
    app = create_app(settings, idle_seconds=60)
    if store:
        assert app.state.serve.channels.build(app.state.serve.pool) is not None
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c
    finally:
        app.state.serve.pool.close()


def _urls(settings: Settings) -> list[str]:
    """Every channel's page on every loaded day and week count, searches, and bad requests."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        logins = [
            str(r[0])
            for r in con.execute(
                "select distinct channel_login from channel_day order by 1"
            ).fetchall()
        ]
        days = [
            r[0] for r in con.execute("select distinct day from channel_day order by 1").fetchall()
        ]
    assert len(logins) >= 4 and len(days) >= 2
    urls = []
    for login in logins:
        urls.append(f"/api/channels/{login.upper()}")
        urls += [f"/api/channels/{login}?day={day}&weeks={w}" for day in days for w in (1, 4)]
        urls += [f"/api/channels?q={login[:n]}" for n in (1, 2, len(login))]
        urls.append(f"/channels/{login}")  # the HTML page resolves the login too
    urls += [
        "/api/channels/nobody_at_all",  # well-formed, unknown: 404 with a message
        "/api/channels/bad-login!",  # malformed: 400
        f"/api/channels/{logins[0]}?weeks=0",
        f"/api/channels/{logins[0]}?day=2020-01-01",  # not loaded: 404
        f"/api/channels/{logins[0]}?day=yesterday",
        "/api/channels?q=",
        "/api/channels?q=zzzzqqq",  # no match: an empty list
        "/api/channels?q=a&limit=0",
        "/api/channels?q=" + "x" * 51,
        "/channels?q=a",
        "/channels/nobody_at_all",
    ]
    return urls


async def _answers(settings: Settings, *, store: bool) -> tuple[dict[str, tuple[int, bytes]], int]:
    async with app_client(settings, store=store) as client:
        answers = {}
        for url in _urls(settings):
            response = await client.get(url, headers={"accept-encoding": "identity"})
            answers[url] = (response.status_code, response.content)
        app: FastAPI = client.app  # type: ignore[attr-defined]
        return answers, app.state.serve.channels.stats.served


async def test_the_store_answers_as_the_warehouse_byte_for_byte(census: Settings) -> None:
    plain, served_plain = await _answers(census, store=False)
    fast, served_fast = await _answers(census, store=True)
    assert served_plain == 0  # no tables built: every request read the warehouse
    assert served_fast >= len([u for u in fast if u.startswith("/api/channels")]) - 8
    assert fast.keys() == plain.keys()
    for url, answer in plain.items():
        assert fast[url] == answer, url
    statuses = {url: status for url, (status, _) in plain.items()}
    assert statuses["/api/channels/nobody_at_all"] == 404
    assert b"unknown channel" in plain["/api/channels/nobody_at_all"][1]
    assert statuses["/api/channels/bad-login!"] == 400
    assert statuses["/api/channels/ALICE"] == 200
    assert statuses["/api/channels?q=" + "x" * 51] == 400
    assert statuses["/api/channels?q=a&limit=0"] == 400
    assert statuses["/api/channels/alice?day=2020-01-01"] == 404
    assert statuses["/channels/nobody_at_all"] == 404
    ok = [u for u, s in statuses.items() if s == 200 and u.startswith("/api/channels/")]
    assert len(ok) >= 20
    # the answers hold what the page shows: broadcasts, curve, neighbours, followers
    alice = plain["/api/channels/alice?day=2026-11-27&weeks=4"][1]
    for part in (b'"broadcasts":[{', b'"neighbours":[{', b'"followers":{"ts":["'):
        assert part in alice


async def test_the_store_answers_as_the_warehouse_on_sixty_channels(
    synthetic: Settings,
) -> None:
    plain, _ = await _answers(synthetic, store=False)
    fast, served = await _answers(synthetic, store=True)
    assert served > 60
    assert sum(1 for status, _ in plain.values() if status == 200) > 200
    for url, answer in plain.items():
        assert fast[url] == answer, url


def test_the_store_holds_only_serving_tables_sorted_by_channel(census: Settings) -> None:
    pool = ReaderPool(census.warehouse_path, idle_seconds=0)
    store = ChannelStore()
    version = store.build(pool)
    assert version is not None and store.version == version
    assert store.build(pool) == version and store.stats.builds == 1  # built once per version
    with pool.reader() as warehouse:
        ids = [
            str(r["channel_id"])
            for r in warehouse.rows("select distinct channel_id from channel_day")
        ]
        assert len(ids) >= 4
        pairs = snapshots = 0
        for channel_id in ids:
            with store.reader(version, channel_id=channel_id) as reader:
                assert reader is not None and is_store(reader)
                assert reader.tables == set(STORE_TABLES)
                assert reader.rows("select 1") == []  # no SQL: the rows are read in Python
                for table in ("channel_day", "int_snapshot_channels", "channel_overlap"):
                    rows = reader.table(table)
                    assert {r["channel_id"] for r in rows} <= {channel_id}, table
                    assert not {c for r in rows for c in r} & {"user_id", "viewer_id", "login"}
                days = [r["day"] for r in reader.table("channel_day")]
                assert days == [
                    r["day"]
                    for r in warehouse.rows(
                        "select day from channel_day where channel_id = ? order by day",
                        [channel_id],
                    )
                ]
                pairs += len([r for r in reader.table("channel_overlap") if r["window_days"] == 7])
                one_day = reader.table("int_snapshot_channels", day=days[-1])
                assert {r["day"] for r in one_day} <= {days[-1]}
                snapshots += len(one_day)
        total = warehouse.value("select count(*) from audience_overlap where window_days = 7")
        assert total and pairs == 2 * int(total)  # each pair once per side
        assert pairs and snapshots
        with store.reader(version, login="ALICE") as reader:
            assert reader is not None
            found = channels.find_channel(reader, "ALICE")
            assert found is not None and found.channel_login == "alice"
            assert found == channels.find_channel(warehouse, "alice")
        with store.reader(version, login="nobody") as reader:
            assert reader is not None and channels.find_channel(reader, "nobody") is None
        with store.reader(version) as reader:
            assert reader is not None
            assert len(reader.table("channel_names")) == len(ids)
            assert reader.table("channel_day") == []  # no channel asked
    # a store built at another version is never read
    with store.reader((*version, 1)) as stale:
        assert stale is None
    with store.reader(None) as none:
        assert none is None


def test_no_warehouse_builds_nothing(empty: Settings) -> None:
    store = ChannelStore()
    assert store.build(ReaderPool(empty.warehouse_path)) is None
    assert store.version is None and store.stats.builds == 0


def test_dates_of_the_store_are_the_warehouse_days(census: Settings) -> None:
    store = ChannelStore()
    pool = ReaderPool(census.warehouse_path, idle_seconds=0)
    version = store.build(pool)
    with store.reader(version) as reader, pool.reader() as warehouse:
        assert reader is not None
        assert reader.loaded_days() == warehouse.loaded_days()
        assert reader.loaded_days()[-1] == dt.date(2026, 11, 27)


async def test_the_warm_up_builds_the_tables_and_requests_read_them(census: Settings) -> None:
    app = create_app(census, idle_seconds=60, warm=True)
    channel_tables: ChannelStore = app.state.serve.channels
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            assert (await client.get("/api/days")).status_code == 200  # starts the warm-up
            for _ in range(600):  # bounded: the warm-up ends on its own
                if not app.state.answers.stats.warming:
                    break
                await asyncio.sleep(0.05)
            assert channel_tables.stats.builds == 1 and channel_tables.stats.rows > 0
            assert channel_tables.version == app.state.serve.pool.current_version()
            served = channel_tables.stats.served
            response = await client.get("/api/channels/alice?day=2026-11-27")
            assert (
                response.status_code == 200 and response.json()["channel"]["channel_id"] == "1001"
            )
            assert channel_tables.stats.served == served + 2  # the login, then the channel
            metrics = (await client.get("/metrics")).text
            rows = f"streamcensus_api_channel_tables_rows {float(channel_tables.stats.rows)}"
            assert rows in metrics
            assert f"streamcensus_api_channel_tables_served {float(served + 2)}" in metrics
    finally:
        app.state.serve.pool.close()


async def test_the_store_answers_as_the_warehouse_with_hostile_names(hostile: Settings) -> None:
    plain, _ = await _answers(hostile, store=False)
    fast, served = await _answers(hostile, store=True)
    assert served > 0
    assert fast == plain


def test_the_side_by_side_command_needs_a_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        api_suite.main([str(tmp_path), "--baseline-python", sys.executable])
    assert exited.value.code == 2
    assert "no warehouse.duckdb in" in capsys.readouterr().err


def test_a_build_that_sees_the_warehouse_change_stops(
    census: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(census.data_dir, tmp_path / "data")
    path = tmp_path / "data" / census.warehouse_path.name
    pool = ReaderPool(path, idle_seconds=0)  # each table's request opens the file anew
    store = ChannelStore()
    original = KeyedTable.of.__func__  # type: ignore[attr-defined]

    def changed_after_one_table(cls: type[KeyedTable], data: Any, key: str | None) -> KeyedTable:
        stat = path.stat()  # as a load's commit would: the file's version changes
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        return original(cls, data, key)  # type: ignore[no-any-return]

    monkeypatch.setattr(KeyedTable, "of", classmethod(changed_after_one_table))
    assert store.build(pool) is None
    assert store.version is None and store.stats.builds == 0
    monkeypatch.undo()
    version = store.build(pool)
    assert version is not None and version == pool.current_version() and store.stats.builds == 1
