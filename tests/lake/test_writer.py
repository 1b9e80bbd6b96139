"""The lake writer: schema validation, sorting, atomic and never-rewritten files."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake.tables import GRID, SID, chatters_table, snapshot_record, streams_table
from streamcensus.lake import storage as storage_module
from streamcensus.lake.manifest import LakeError, ManifestRecord
from streamcensus.lake.schema import CHATTERS_SCHEMA, raw_path
from streamcensus.lake.writer import FileInfo, LakeRewriteError, LakeWriter, write_new_file


def test_chatters_written_sorted_validated_and_described(tmp_path: Path) -> None:
    info = LakeWriter(tmp_path).write_chatters(SID, chatters_table())
    path = tmp_path / "raw" / "chatters" / "date=2026-11-27" / "20261127T2005Z.parquet"
    data = path.read_bytes()
    assert info == FileInfo(path, len(data), 4, hashlib.sha256(data).hexdigest())
    table = pq.read_table(path)
    assert table.column("channel_id").to_pylist() == ["10", "10", "20", "20"]
    assert table.column("viewer").to_pylist() == [-3, 9, -7, 5]
    assert table.schema.field("viewer").type == pa.int64()
    assert not table.schema.field("viewer").nullable
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 1
    assert meta.row_group(0).column(0).compression == "ZSTD"
    viewer = meta.row_group(0).column(CHATTERS_SCHEMA.get_field_index("viewer"))
    assert "PLAIN" in viewer.encodings  # no dictionary, no delta: repeats are left to zstd
    assert not {"PLAIN_DICTIONARY", "RLE_DICTIONARY", "DELTA_BINARY_PACKED"} & set(viewer.encodings)
    assert info.to_entry(tmp_path) == {
        "path": "raw/chatters/date=2026-11-27/20261127T2005Z.parquet",
        "bytes": len(data),
        "rows": 4,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def test_duckdb_reads_the_files(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    writer.write_streams(SID, streams_table())
    writer.write_chatters(SID, chatters_table())
    con = duckdb.connect()
    raw = tmp_path / "raw"
    rows = con.execute(
        "select channel_id, count(*), sum(viewer) "
        f"from read_parquet('{raw}/chatters/*/*.parquet') group by 1 order by 1"
    ).fetchall()
    assert rows == [("10", 2, 6), ("20", 2, -2)]
    streams = con.execute(
        f"select channel_id, viewer_count, rank from read_parquet('{raw}/streams/*/*.parquet')"
    ).fetchall()
    assert streams == [("10", 500, 1), ("20", 80, 2)]


def test_streams_ordered_by_rank(tmp_path: Path) -> None:
    table = streams_table(channels=[("30", 5), ("10", 500), ("20", 80)])
    table = table.set_column(
        table.schema.get_field_index("rank"), "rank", pa.array([3, 1, 2], pa.int32())
    )
    info = LakeWriter(tmp_path).write_streams(SID, table)
    assert pq.read_table(info.path).column("channel_id").to_pylist() == ["10", "20", "30"]


def test_columns_in_another_order_and_castable_types_are_accepted(tmp_path: Path) -> None:
    table = chatters_table()
    plain = pa.table(
        {
            "viewer": pa.array(table.column("viewer").to_pylist(), pa.int32()),
            **{n: table.column(n) for n in table.column_names if n != "viewer"},
        }
    )
    info = LakeWriter(tmp_path).write_chatters(SID, plain)
    assert pq.read_table(info.path).column_names == CHATTERS_SCHEMA.names


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop_columns(["key_id"]), "missing \\['key_id'\\]"),
        (lambda t: t.append_column("viewer_login", pa.array(["x"] * 4)), "viewer_login"),
        (
            lambda t: t.set_column(3, "viewer", pa.array(["a", "b", "c", "d"])),
            "cannot be cast",
        ),
        (
            lambda t: t.set_column(2, "channel_id", pa.array(["1", None, "2", "3"])),
            "'channel_id' with null values",
        ),
        (
            lambda t: t.set_column(0, "snapshot_id", pa.array(["20261127T2010Z"] * 4)),
            "belong to snapshots",
        ),
    ],
)
def test_wrong_tables_are_refused(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        LakeWriter(tmp_path).write_chatters(SID, change(chatters_table()))
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw").rglob("*.parquet"))


def test_snapshot_time_must_match_the_id(tmp_path: Path) -> None:
    table = chatters_table(grid=GRID + dt.timedelta(minutes=5))
    table = table.set_column(0, "snapshot_id", pa.array([SID] * 4))
    with pytest.raises(ValueError, match="snapshot_ts"):
        LakeWriter(tmp_path).write_chatters(SID, table)
    with pytest.raises(ValueError, match="not a snapshot id"):
        LakeWriter(tmp_path).write_chatters("20261127T2005", chatters_table())


def test_an_empty_chatters_table_is_a_file(tmp_path: Path) -> None:
    info = LakeWriter(tmp_path).write_chatters(SID, CHATTERS_SCHEMA.empty_table())
    assert info.rows == 0
    assert pq.read_table(info.path).num_rows == 0


def test_never_rewritten_but_identical_retry_is_fine(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    first = writer.write_chatters(SID, chatters_table())
    again = writer.write_chatters(SID, chatters_table())
    assert again == first
    mtime = first.path.stat().st_mtime_ns
    with pytest.raises(LakeRewriteError, match="lake files are final") as err:
        writer.write_chatters(SID, chatters_table(rows=[("10", 1)]))
    assert isinstance(err.value, FileExistsError) and isinstance(err.value, LakeError)
    assert first.path.read_bytes() == first.path.read_bytes()
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == first.sha256
    assert first.path.stat().st_mtime_ns == mtime
    assert [p.name for p in first.path.parent.iterdir()] == [first.path.name]


def test_a_concurrent_writer_cannot_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x" / "f.parquet"
    real_link = os.link

    def racing_link(src: str, dst: str) -> None:
        Path(dst).write_bytes(b"the other writer's bytes")
        real_link(src, dst)

    monkeypatch.setattr(storage_module.os, "link", racing_link)
    with pytest.raises(LakeRewriteError, match="concurrently"):
        write_new_file(target, b"mine")
    assert target.read_bytes() == b"the other writer's bytes"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.parquet"]


@pytest.mark.parametrize("where", ["write", "fsync", "link"])
def test_a_crash_mid_write_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    class Crash(Exception):
        pass

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    if where == "write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, fd: int, mode: str) -> None:
                self.handle = real_fdopen(fd, mode)

            def __enter__(self) -> HalfWriter:
                return self

            def __exit__(self, *exc: object) -> None:
                self.handle.close()

            def write(self, data: bytes) -> None:
                self.handle.write(data[: len(data) // 2])
                raise Crash

        monkeypatch.setattr(storage_module.os, "fdopen", HalfWriter)
    else:
        monkeypatch.setattr(storage_module.os, where, crash)
    with pytest.raises(Crash):
        LakeWriter(tmp_path).write_chatters(SID, chatters_table())
    folder = raw_path(tmp_path, "chatters", SID).parent
    assert list(folder.iterdir()) == []
    monkeypatch.undo()
    info = LakeWriter(tmp_path).write_chatters(SID, chatters_table())
    assert pq.read_table(info.path).num_rows == 4


def test_file_system_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(storage_module.os, "link", no_links)
    target = tmp_path / "f.bin"
    assert write_new_file(target, b"abc") is True
    assert write_new_file(target, b"abc") is False
    with pytest.raises(LakeRewriteError):
        write_new_file(target, b"abd")
    assert target.read_bytes() == b"abc"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def _record(tmp_path: Path, writer: LakeWriter) -> ManifestRecord:
    streams = writer.write_streams(SID, streams_table())
    chatters = writer.write_chatters(SID, chatters_table())
    return snapshot_record(
        writer, streams, chatters, ended_at=GRID + dt.timedelta(seconds=42), top_n=2000
    )


def test_manifest_written_last_and_checked(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    record = _record(tmp_path, writer)
    info = writer.write_manifest(record)
    assert info.path == tmp_path / "raw/manifest/date=2026-11-27/20261127T2005Z.json"
    assert ManifestRecord.from_bytes(info.path.read_bytes()) == record
    assert writer.write_manifest(record) == info
    record.ended_at += dt.timedelta(seconds=1)
    with pytest.raises(LakeRewriteError):
        writer.write_manifest(record)


def test_manifest_refused_when_its_files_are_not_there(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    record = _record(tmp_path, writer)
    record.files["chatters"]["bytes"] += 1
    with pytest.raises(LakeError, match="has"):
        writer.write_manifest(record)
    record.files["chatters"]["path"] = "raw/chatters/date=2026-11-27/nope.parquet"
    with pytest.raises(LakeError, match="missing"):
        writer.write_manifest(record)
    record.files = {}
    record.snapshot_id = "20261127T2010Z"
    with pytest.raises(ValueError, match="grid_time"):
        writer.write_manifest(record)
    assert not raw_path(tmp_path, "manifest", SID).exists()
