"""The storage interface on a local folder, the lake URL, and what settings show of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamcensus.config import load_settings
from streamcensus.errors import ConfigError, UserError
from streamcensus.lake.storage import (
    LakeAccessError,
    LakeRewriteError,
    LakeUnavailable,
    LocalStorage,
)
from streamcensus.lake.stores import open_storage, split_lake_url, translate_error


def test_lake_urls() -> None:
    assert split_lake_url("s3://bucket/some/prefix/") == ("s3", "bucket", "some/prefix")
    assert split_lake_url("gs://bucket") == ("gs", "bucket", "")
    assert split_lake_url("/srv/lake") == ("", "/srv/lake", "")
    assert split_lake_url("file:///srv/lake") == ("", "/srv/lake", "")
    with pytest.raises(UserError, match="credentials come from the environment"):
        split_lake_url("s3://key:secret@bucket/x")
    with pytest.raises(UserError, match="not supported"):
        split_lake_url("hdfs://namenode/lake")


def test_the_default_lake_is_the_data_directory_s(tmp_path: Path) -> None:
    storage = open_storage("", tmp_path)
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path / "lake"
    elsewhere = open_storage(str(tmp_path / "other"), tmp_path)
    assert isinstance(elsewhere, LocalStorage) and elsewhere.root == tmp_path / "other"


def test_local_storage_semantics(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert storage.create("raw/a/date=2026-01-01/x.parquet", b"abc") is True
    assert storage.create("raw/a/date=2026-01-01/x.parquet", b"abc") is False
    with pytest.raises(LakeRewriteError):
        storage.create("raw/a/date=2026-01-01/x.parquet", b"abd")
    (tmp_path / "raw/a/date=2026-01-01/.tmp-half").write_bytes(b"half")  # a killed writer's
    assert [e.key for e in storage.list_files("raw/a/date=2026-01-01")] == [
        "raw/a/date=2026-01-01/x.parquet"
    ]
    assert storage.list_dirs("raw/a") == ["date=2026-01-01"]
    assert storage.list_files("raw/none") == [] and storage.list_dirs("none") == []
    path, size, digest = storage.fetch("raw/a/date=2026-01-01/x.parquet", tmp_path / "s")
    assert path == tmp_path / "raw/a/date=2026-01-01/x.parquet" and size == 3
    assert not (tmp_path / "s").exists()  # a local lake needs no copies
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    storage.move("raw/a/date=2026-01-01/x.parquet", "quarantine/a/date=2026-01-01/x.parquet")
    assert storage.size("quarantine/a/date=2026-01-01/x.parquet") == 3
    assert (
        storage.read_many(["quarantine/a/date=2026-01-01/x.parquet", "nope"])[
            "quarantine/a/date=2026-01-01/x.parquet"
        ]
        == b"abc"
    )
    assert storage.delete_tree("quarantine") == (1, 3)
    assert not (tmp_path / "quarantine").exists()


def test_errors_are_final_or_retryable() -> None:
    class NoCredentialsError(Exception):
        pass

    hint = "set AWS_ACCESS_KEY_ID"
    final = translate_error(NoCredentialsError("x"), "list", "s3://b/l", "s3://b", hint)
    assert isinstance(final, LakeAccessError) and hint in str(final)
    denied = translate_error(PermissionError("AccessDenied"), "write", "s3://b/l/k", "s3://b", hint)
    assert isinstance(denied, LakeAccessError) and "access denied to write" in str(denied)
    gone = translate_error(FileNotFoundError("x"), "write", "gs://b/l/k", "gs://b", hint)
    assert isinstance(gone, LakeAccessError) and "does not exist" in str(gone)
    down = translate_error(
        OSError("Could not connect to http://user:pw@host/x"), "write", "s3://b/l", "s3://b", hint
    )
    assert isinstance(down, LakeUnavailable) and "pw@" not in str(down) and "***@host" in str(down)


def test_settings_mask_lake_credentials(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={
            "data_dir": tmp_path,
            "lake_url": "s3://bucket/prefix",
            "s3_endpoint_url": "https://user:hunter2@minio.example:9000",
        },
        environ={},
    )
    shown = json.dumps(settings.public_dict())
    assert "hunter2" not in shown and "***@minio.example:9000" in shown
    assert settings.public_dict()["lake_url"] == "s3://bucket/prefix"
    with pytest.raises(ConfigError, match="lake_url scheme 'ftp' is not supported"):
        load_settings(overrides={"lake_url": "ftp://x/y"}, environ={})
    with pytest.raises(ConfigError, match="expected an http"):
        load_settings(overrides={"s3_endpoint_url": "minio:9000"}, environ={})
