"""`streamcensus demo --lake-url s3://...` end to end against moto's S3 server on 127.0.0.1:
the simulator, the collector writing to the bucket, the load reading it, the dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import httpx

from objectstores import S3Lake
from streamcensus.config import Settings
from streamcensus.serve.app import create_app

START = "2026-11-27"


def _demo(data_dir: Path, *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "streamcensus",
            "--data-dir",
            str(data_dir),
            "demo",
            "--no-serve",
            "--hours",
            "1",
            "--start",
            START,
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _curve(data_dir: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            "select snapshot_ts, live_channels, viewers from community_timeseries order by 1"
        ).fetchall()
    finally:
        con.close()


async def test_demo_on_s3_end_to_end(s3_lake: S3Lake, tmp_path: Path) -> None:
    env = {**os.environ, "STREAMCENSUS_S3_ENDPOINT_URL": s3_lake.endpoint}
    on_s3 = _demo(tmp_path / "s3", "--lake-url", s3_lake.url, env=env)
    assert on_s3.returncode == 0, on_s3.stderr[-2000:]
    keys = s3_lake.object_keys()
    manifests = [k for k in keys if k.startswith(f"lake/raw/manifest/date={START}/")]
    assert len(manifests) == 12  # one hour on the 5-minute grid
    # and hourly follower totals
    for kind in ("streams", "chatters", "chat_activity", "chat_coverage"):
        assert len([k for k in keys if k.startswith(f"lake/raw/{kind}/date={START}/")]) == 12
    assert not (tmp_path / "s3" / "lake" / "raw").exists()  # raw files only in the bucket
    assert "12 complete" in on_s3.stdout

    local = _demo(tmp_path / "local", env=env)
    assert local.returncode == 0, local.stderr[-2000:]
    curve = _curve(tmp_path / "s3")
    assert len(curve) == 12 and curve == _curve(tmp_path / "local")

    # the dashboard reads the warehouse: unchanged whatever the lake's storage
    settings = Settings(data_dir=tmp_path / "s3")
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            days = await client.get("/api/days")
            assert days.status_code == 200 and START in days.text
            overview = await client.get("/api/overview", params={"day": START})
            assert overview.status_code == 200
            page = await client.get("/")
            assert page.status_code == 200
    finally:
        app.state.serve.pool.close()
