"""Loading a lake that lives on S3 (moto's server on 127.0.0.1): the same warehouse as from
a local lake, quarantine and retention on the bucket, nothing left in the scratch folder."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from load.lakebuilder import DAY, LakeBuilder, all_tables, make_settings, run_load, synthetic_day
from objectstores import FaultProxy, S3Lake
from streamcensus.lake.schema import raw_path, snapshot_id
from streamcensus.lake.storage import LakeAccessError
from streamcensus.load.loader import load_days
from streamcensus.status import collect_status

NEXT = DAY + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic days (12 channels live, 300 chatters, 2 hours each), local."""
    root = tmp_path_factory.mktemp("template")
    builder = LakeBuilder(root / "lake")
    synthetic_day(builder, DAY, live_channels=12, chatters_per_snapshot=300, snapshots=24)
    synthetic_day(builder, NEXT, 12, 300, seed=8, snapshots=24)
    return root


def upload(local_lake: Path, lake: S3Lake) -> int:
    """Copy a local lake's raw zone into the bucket under `lake/` (as a collector would)."""
    count = 0
    for path in sorted((local_lake / "raw").rglob("*")):
        if path.is_file():
            key = f"lake/{path.relative_to(local_lake).as_posix()}"
            lake.client.put_object(Bucket=lake.bucket, Key=key, Body=path.read_bytes())
            count += 1
    return count


def test_a_lake_on_s3_loads_the_same_warehouse_as_the_local_lake(
    template: Path, s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    local_dir = tmp_path / "local"
    shutil.copytree(template / "lake", local_dir / "lake")
    files = upload(local_dir / "lake", s3_lake)
    local = make_settings(local_dir)
    remote = make_settings(tmp_path / "remote", lake_url=s3_lake.url, s3_endpoint_url=s3_proxy.url)
    s3_proxy.fail(503, times=3, methods=("GET",))  # the loader's reads are retried too
    from_s3 = run_load(remote)
    from_disk = run_load(local)
    assert [(d.day, d.files, d.presence_observations) for d in from_s3.days] == [
        (d.day, d.files, d.presence_observations) for d in from_disk.days
    ]
    assert sum(d.files for d in from_s3.days) == files
    # loaded_files paths are lake keys in both; how long each load took differs
    tables = all_tables(remote, without=("load_seconds",))
    assert tables == all_tables(local, without=("load_seconds",))
    assert [s for _, _, s in s3_proxy.seen].count(503) == 3
    # every file was fetched once, and the local copies are gone after the load
    assert not (tmp_path / "remote" / "staging").exists()
    gets = [p for m, p, s in s3_proxy.seen if m == "GET" and s == 200 and "list-type" not in p]
    assert len(gets) == files
    # the curated zone sits beside the warehouse, not in the bucket
    assert list((tmp_path / "remote" / "lake" / "curated").rglob("*.parquet"))
    assert not [k for k in s3_lake.object_keys() if "/curated/" in k]
    assert run_load(remote).days == []  # unchanged: nothing to reload


def test_quarantine_and_retention_on_the_bucket(
    template: Path, s3_lake: S3Lake, tmp_path: Path
) -> None:
    local_dir = tmp_path / "local"
    shutil.copytree(template / "lake", local_dir / "lake")
    sid = snapshot_id(dt.datetime(DAY.year, DAY.month, DAY.day, 0, 5, tzinfo=dt.UTC))
    bad = raw_path(local_dir / "lake", "chatters", sid)
    bad.write_bytes(bad.read_bytes()[:100])  # not what its manifest recorded
    upload(local_dir / "lake", s3_lake)
    settings = make_settings(
        tmp_path / "remote", lake_url=s3_lake.url, s3_endpoint_url=s3_lake.endpoint
    )
    key = f"raw/chatters/date={DAY}/{sid}.parquet"
    report = run_load(settings, today=NEXT + dt.timedelta(days=1))
    [quarantined] = report.quarantined
    assert (quarantined.path, quarantined.reason) == (
        key,
        "SHA-256 differs from the one its manifest recorded",
    )
    assert quarantined.quarantine_path == f"quarantine/chatters/date={DAY}/{sid}.parquet"
    keys = s3_lake.object_keys()
    assert f"lake/{key}" not in keys
    moved = s3_lake.get(f"lake/{quarantined.quarantine_path}")
    assert hashlib.sha256(moved).hexdigest() == quarantined.sha256
    note = json.loads(s3_lake.get(f"lake/{quarantined.quarantine_path}.reason.json"))
    assert note["reason"] == quarantined.reason and note["path"] == key

    # a day later, with a one-day retention: the first day's presence leaves the bucket
    settings = settings.model_copy(update={"retention_days": 1})
    later = run_load(settings, today=NEXT + dt.timedelta(days=1))
    assert later.retention is not None and later.retention.days == [DAY]
    keys = s3_lake.object_keys()
    assert not [k for k in keys if f"chatters/date={DAY}" in k]  # raw and quarantine
    assert [k for k in keys if f"streams/date={DAY}" in k]  # stream facts are kept
    assert [k for k in keys if f"chatters/date={NEXT}" in k]
    curated = tmp_path / "remote" / "lake" / "curated" / "viewing_sessions"
    assert not (curated / f"date={DAY}").exists() and (curated / f"date={NEXT}").exists()


def test_status_lists_the_bucket(template: Path, s3_lake: S3Lake, tmp_path: Path) -> None:
    upload(template / "lake", s3_lake)
    settings = make_settings(tmp_path, lake_url=s3_lake.url, s3_endpoint_url=s3_lake.endpoint)
    status = collect_status(settings)
    assert status["lake_url"] == s3_lake.url
    assert sorted(status["days"]) == [DAY.isoformat(), NEXT.isoformat()]
    assert status["days"][DAY.isoformat()]["snapshots_complete"] == 24
    assert status["days"][DAY.isoformat()]["files"] == 72


def test_load_from_a_missing_bucket_is_one_clear_error(s3_lake: S3Lake, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, lake_url="s3://not-a-bucket-of-ours/lake", s3_endpoint_url=s3_lake.endpoint
    )
    with pytest.raises(LakeAccessError, match="does not exist"):
        load_days(settings, None)
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing half-written
