"""The collector writing to S3 (moto's server, through a fault proxy) against the simulator
over real HTTP, while the loader reads the bucket; the CLI's one-line errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from objectstores import FaultProxy, S3Lake
from streamcensus.clock import SimClock
from streamcensus.collect.session import open_collector
from streamcensus.config import load_settings
from streamcensus.lake.reader import day_status, read_manifests
from streamcensus.lake.stores import open_lake
from streamcensus.load.loader import load_days
from streamcensus.timeutil import UTC

DAY = dt.date(2026, 1, 1)


def _grid(start: dt.datetime, count: int) -> list[dt.datetime]:
    return [start + dt.timedelta(minutes=5 * i) for i in range(count)]


async def test_snapshots_land_in_the_bucket_while_the_loader_reads_it_through_faults(
    tmp_path: Path,
    running_simulator: Callable[..., Any],
    s3_lake: S3Lake,
    s3_proxy: FaultProxy,
) -> None:
    """Six snapshots before midnight, five after. The loader loads the finished day while
    the collector goes on and the store answers 503 to some PUTs; then the store is down
    for one snapshot, which waits in the spool and lands with the next. Nothing is lost."""
    before, after = (
        _grid(dt.datetime(2026, 1, 1, 23, 30, tzinfo=UTC), 6),
        _grid(dt.datetime(2026, 1, 2, 0, 0, tzinfo=UTC), 5),
    )
    handle = running_simulator(start=before[0].timestamp())
    settings = load_settings(
        overrides={
            "data_dir": tmp_path,
            "language": "en",
            "top_n": 10,
            "lake_url": s3_lake.url,
            "s3_endpoint_url": s3_proxy.url,
            "chat_enabled": False,  # the object store is under test (chat: test_demo_s3)
        },
        environ={},
    )
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:

        async def take(moment: dt.datetime) -> None:
            handle.clock.set(moment)
            await session.collector.collect(moment)

        for moment in before:
            await take(moment)
        s3_proxy.fail(503, times=2, methods=("PUT",))
        load_clock = SimClock(after[-1], speed=0)
        loading = asyncio.create_task(
            asyncio.to_thread(load_days, settings, None, clock=load_clock)
        )
        for moment in after[:2]:
            await take(moment)
        report = await loading
        s3_proxy.down()
        await take(after[2])  # spooled
        assert len(session.collector.writer.spooled()) == 3
        s3_proxy.up()
        for moment in after[3:]:
            await take(moment)  # uploads the spool first
        assert session.collector.writer.spooled() == []

    assert [(d.day, d.snapshots, d.complete) for d in report.days] == [(DAY, 6, True)]
    # the new day is left for later, whether or not its first files were listed yet
    assert set(report.not_over) <= {DAY + dt.timedelta(days=1)}
    assert [s for m, _, s in s3_proxy.seen if m == "PUT"].count(503) == 2
    lake = day_status(open_lake(settings))
    assert lake[DAY.isoformat()]["snapshots_complete"] == 6
    assert lake["2026-01-02"]["snapshots_complete"] == 5
    listed = sum(1 + len(r.files) for r in read_manifests(open_lake(settings), "2026-01-02"))
    assert lake["2026-01-02"]["files"] == listed >= 15  # manifests, stream facts, chatters, ...
    assert lake["2026-01-02"]["files_missing"] == 0
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert con.execute("select count(*) from community_timeseries").fetchall() == [(6,)]
    finally:
        con.close()


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamcensus", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_errors_are_one_line(s3_lake: S3Lake, tmp_path: Path) -> None:
    env = {**os.environ, "STREAMCENSUS_S3_ENDPOINT_URL": s3_lake.endpoint}
    missing = _cli(
        "--data-dir", str(tmp_path), "status", "--lake-url", "s3://no-such-bucket-x/l", env=env
    )
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "streamcensus: error: the lake's bucket s3://no-such-bucket-x does not exist: "
        "create it, or fix lake_url"
    ]
    no_creds = {
        k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    denied = _cli(
        "--data-dir", str(tmp_path), "load", "--all", "--lake-url", s3_lake.url, env=no_creds
    )
    assert denied.returncode == 1
    [line] = denied.stderr.strip().splitlines()
    assert line.startswith(f"streamcensus: error: no credentials to list {s3_lake.url}")
    assert "AWS_ACCESS_KEY_ID" in line
    bad = _cli("--data-dir", str(tmp_path), "status", "--lake-url", "ftp://x/y", env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "streamcensus: error: invalid setting lake_url: Value error, lake_url scheme 'ftp' is "
        "not supported: use a local path, s3://bucket/prefix or gs://bucket/prefix"
    ]
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_collect_into_a_read_only_bucket_is_one_line_and_writes_nothing(
    tmp_path: Path,
    running_simulator: Callable[..., Any],
    s3_lake: S3Lake,
    s3_proxy: FaultProxy,
) -> None:
    handle = running_simulator(start=dt.datetime(2026, 1, 1, 20, 0, tzinfo=UTC).timestamp())
    s3_proxy.fail(403, times=1000, methods=("PUT", "POST", "DELETE"))  # AccessDenied
    env = {
        **os.environ,
        "STREAMCENSUS_S3_ENDPOINT_URL": s3_proxy.url,
        "STREAMCENSUS_HELIX_URL": handle.helix_url,
        "STREAMCENSUS_AUTH_URL": handle.auth_url,
        "STREAMCENSUS_LANGUAGE": "en",
    }
    done = _cli("--data-dir", str(tmp_path), "collect", "--lake-url", s3_lake.url, env=env)
    assert done.returncode == 1
    [line] = [x for x in done.stderr.strip().splitlines() if x.startswith("streamcensus:")]
    assert line.startswith(f"streamcensus: error: access denied to write {s3_lake.url}/raw/")
    assert "Traceback" not in done.stderr
    assert s3_lake.object_keys() == []
    assert not list((tmp_path / "spool").rglob("*.parquet"))
