"""The lake on S3, against moto's S3 server on 127.0.0.1 (through a fault proxy where the
test needs one): conditional writes, listing by prefix, moves, errors, faults."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake.tables import GRID, SID, chatters_table, snapshot_record, streams_table
from objectstores import FaultProxy, S3Lake
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.reader import day_status, list_snapshots
from streamcensus.lake.schema import snapshot_id
from streamcensus.lake.storage import LakeAccessError, LakeRewriteError, LakeUnavailable
from streamcensus.lake.stores import S3_HINT, ObjectStorage, open_storage
from streamcensus.lake.writer import LakeWriter

KEY = "raw/streams/date=2026-11-27/20261127T2005Z.parquet"


def _key(request_path: str) -> str:
    return unquote(urlsplit(request_path).path)


def _storage(lake: S3Lake, endpoint: str, tmp_path: Path) -> ObjectStorage:
    storage = open_storage(lake.url, tmp_path, endpoint)
    assert isinstance(storage, ObjectStorage)
    return storage


def _record(writer: LakeWriter) -> ManifestRecord:
    streams = writer.write_streams(SID, streams_table())
    chatters = writer.write_chatters(SID, chatters_table())
    return snapshot_record(writer, streams, chatters)


def test_a_second_writer_of_a_key_is_refused_by_the_store(
    s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    """Two writers that both believe the key is free: the store refuses the second PUT
    (If-None-Match: *, answered 412), and the first object stays as it was."""
    first = _storage(s3_lake, s3_proxy.url, tmp_path)
    second = _storage(s3_lake, s3_proxy.url, tmp_path)  # its own client and connections
    assert first.create(KEY, b"the first writer's bytes") is True
    with pytest.raises(LakeRewriteError, match="lake files are final"):
        second.create(KEY, b"the second writer's bytes")
    assert s3_lake.get(f"lake/{KEY}") == b"the first writer's bytes"
    puts = [(m, s) for m, p, s in s3_proxy.seen if m == "PUT" and _key(p).endswith(KEY)]
    assert puts == [("PUT", 200), ("PUT", 412)]  # refused by the server, not by a pre-check
    assert second.create(KEY, b"the first writer's bytes") is False  # an identical retry
    assert s3_lake.object_keys() == [f"lake/{KEY}"]


def test_the_writer_puts_whole_objects_manifest_last(
    s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    writer = LakeWriter(_storage(s3_lake, s3_proxy.url, tmp_path), spool=tmp_path / "spool")
    record = _record(writer)
    info = writer.write_manifest(record)
    assert s3_lake.object_keys() == [
        "lake/raw/chatters/date=2026-11-27/20261127T2005Z.parquet",
        "lake/raw/manifest/date=2026-11-27/20261127T2005Z.json",
        "lake/raw/streams/date=2026-11-27/20261127T2005Z.parquet",
    ]
    puts = [_key(p) for m, p, _ in s3_proxy.seen if m == "PUT"]
    assert [p.rsplit("/", 3)[-3] for p in puts] == ["streams", "chatters", "manifest"]
    data = s3_lake.get("lake/raw/chatters/date=2026-11-27/20261127T2005Z.parquet")
    assert hashlib.sha256(data).hexdigest() == record.files["chatters"]["sha256"]
    assert pq.read_table(pa.BufferReader(data)).num_rows == 4
    assert ManifestRecord.from_bytes(s3_lake.get(f"lake/{info.path.relative_to(writer.lake_dir)}"))
    # multipart uploads (which a killed writer could leave behind) are never started
    assert not [p for m, p, _ in s3_proxy.seen if m == "POST" and "uploads" in p]
    assert writer.has_snapshot(SID)
    status = day_status(writer.storage)["2026-11-27"]
    assert (status["snapshots_complete"], status["files"], status["presence_observations"]) == (
        1,
        3,
        4,
    )


def test_listing_is_by_prefix_never_a_bucket_scan(
    s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    storage = _storage(s3_lake, s3_proxy.url, tmp_path)
    s3_lake.client.put_object(Bucket=s3_lake.bucket, Key="elsewhere/big/file", Body=b"x")
    writer = LakeWriter(storage)
    writer.write_manifest(_record(writer))
    s3_proxy.seen.clear()
    snapshots = list_snapshots(storage)
    assert [s.snapshot_id for s in snapshots] == [SID]
    listings = [p for m, p, _ in s3_proxy.seen if m == "GET" and "list-type=2" in p]
    assert listings
    for path in listings:
        query = parse_qs(urlsplit(path).query)
        assert query["prefix"][0].startswith("lake/raw/"), path
        assert query.get("delimiter") == ["/"], path  # one level at a time


def test_move_copies_then_deletes_and_walk_delete_tree(s3_lake: S3Lake, tmp_path: Path) -> None:
    storage = _storage(s3_lake, s3_lake.endpoint, tmp_path)
    storage.create("raw/chatters/date=2026-11-01/a.parquet", b"a" * 10)
    storage.create("raw/chatters/date=2026-11-01/b.parquet", b"b" * 5)
    storage.move("raw/chatters/date=2026-11-01/a.parquet", "quarantine/chatters/date=2026-11-01/a")
    assert s3_lake.object_keys() == [
        "lake/quarantine/chatters/date=2026-11-01/a",
        "lake/raw/chatters/date=2026-11-01/b.parquet",
    ]
    assert storage.list_dirs("raw/chatters") == ["date=2026-11-01"]
    assert [e.key for e in storage.walk("")] == [
        "quarantine/chatters/date=2026-11-01/a",
        "raw/chatters/date=2026-11-01/b.parquet",
    ]
    assert storage.delete_tree("raw/chatters/date=2026-11-01") == (1, 5)
    assert s3_lake.object_keys() == ["lake/quarantine/chatters/date=2026-11-01/a"]
    assert storage.list_dirs("raw/chatters") == []


def test_a_missing_bucket_is_one_clear_error(s3_lake: S3Lake, tmp_path: Path) -> None:
    storage = open_storage("s3://no-such-bucket-here/lake", tmp_path, s3_lake.endpoint)
    with pytest.raises(LakeAccessError, match=r"s3://no-such-bucket-here does not exist"):
        storage.check()
    with pytest.raises(LakeAccessError, match="does not exist"):
        storage.create(KEY, b"x")


def test_missing_credentials_are_one_clear_error(
    s3_lake: S3Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    storage = open_storage(s3_lake.url, tmp_path, s3_lake.endpoint)
    with pytest.raises(LakeAccessError, match="no credentials") as err:
        storage.check()
    assert S3_HINT in str(err.value)
    assert s3_lake.object_keys() == []


def test_a_read_only_bucket_is_one_clear_error_and_nothing_is_written(
    s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    s3_proxy.fail(403, times=100, methods=("PUT", "POST", "DELETE"))  # AccessDenied
    storage = _storage(s3_lake, s3_proxy.url, tmp_path)
    storage.check()  # listing is allowed
    writer = LakeWriter(storage, spool=tmp_path / "spool")
    with pytest.raises(LakeAccessError, match="access denied to write s3://") as err:
        writer.write_streams(SID, streams_table())
    assert "testing-secret-key" not in str(err.value)
    assert s3_lake.object_keys() == []
    assert writer.spooled() == []  # a refusal is final: nothing waits to be retried


def test_503s_are_retried_to_a_whole_object(
    s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    s3_proxy.fail(503, times=2, methods=("PUT",))
    storage = _storage(s3_lake, s3_proxy.url, tmp_path)
    assert storage.create(KEY, b"payload") is True
    assert [s for m, _, s in s3_proxy.seen if m == "PUT"] == [503, 503, 200]
    assert s3_lake.get(f"lake/{KEY}") == b"payload"


def test_a_slow_response_lands_whole_and_once(
    s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    """Every answer held back two seconds (within the client's read timeout): the writer
    waits; each object is there once, whole."""
    s3_proxy.delay(2, times=3)
    writer = LakeWriter(_storage(s3_lake, s3_proxy.url, tmp_path), spool=tmp_path / "spool")
    info = writer.write_chatters(SID, chatters_table())
    assert (
        hashlib.sha256(s3_lake.get(f"lake/{info.path.relative_to(writer.lake_dir)}")).hexdigest()
        == info.sha256
    )
    assert [s for m, _, s in s3_proxy.seen if m == "PUT"] == [200]
    assert writer.spooled() == []


def test_a_store_that_stays_down_is_unavailable_not_final(
    s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    storage = _storage(s3_lake, s3_proxy.url, tmp_path)
    s3_proxy.down()
    with pytest.raises(LakeUnavailable, match=r"cannot write s3://"):
        storage.create(KEY, b"x")
    s3_proxy.up()
    assert storage.create(KEY, b"x") is True


def test_a_store_down_for_a_while_loses_nothing(
    s3_lake: S3Lake, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    """The store goes away after a snapshot's first file: the rest of the snapshot, its
    manifest last, waits in the local spool; the next snapshot uploads it first, data
    files before the manifest, and the spool empties."""
    writer = LakeWriter(_storage(s3_lake, s3_proxy.url, tmp_path), spool=tmp_path / "spool")
    streams = writer.write_streams(SID, streams_table())
    s3_proxy.down()
    chatters = writer.write_chatters(SID, chatters_table())
    record = snapshot_record(writer, streams, chatters)
    writer.write_manifest(record)
    day = "date=2026-11-27"
    assert s3_lake.object_keys() == [f"lake/raw/streams/{day}/{SID}.parquet"]
    assert writer.spooled() == [
        f"raw/chatters/{day}/{SID}.parquet",
        f"raw/manifest/{day}/{SID}.json",
    ]
    assert writer.has_snapshot(SID)  # the spool counts: the grid time is not taken twice
    s3_proxy.up()
    s3_proxy.seen.clear()
    later = GRID + dt.timedelta(minutes=5)
    writer.write_streams(snapshot_id(later), streams_table(later))
    puts = [_key(p).rsplit("/", 3)[-3] for m, p, _ in s3_proxy.seen if m == "PUT"]
    assert puts == ["chatters", "manifest", "streams"]
    assert writer.spooled() == []
    landed = s3_lake.get(f"lake/raw/chatters/{day}/{SID}.parquet")
    assert hashlib.sha256(landed).hexdigest() == chatters.sha256
    assert ManifestRecord.from_bytes(s3_lake.get(f"lake/raw/manifest/{day}/{SID}.json")) == record
    assert day_status(writer.storage)["2026-11-27"]["snapshots_complete"] == 1
