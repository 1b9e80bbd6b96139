"""Writes a snapshot's files into the raw lake: validated, compressed, atomic, never rewritten.

Each file is encoded in memory, written to a `.tmp-*` file in its partition folder, flushed
to disk, then hard-linked to its final name. `link` refuses to replace an existing file, so
two writers of one snapshot cannot overwrite each other: the second gets `LakeRewriteError`
unless its bytes are identical (a harmless retry). A killed writer leaves at most a `.tmp-*`
file, which every reader ignores.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from streamcensus.fsutil import PRIVATE_FILE, fsync_dir, private_dir
from streamcensus.lake import schema as lake_schema
from streamcensus.lake.manifest import FileEntry, LakeError, ManifestRecord
from streamcensus.lake.schema import DATA_KINDS, MANIFEST, raw_path, snapshot_time

# Chosen by measurement on collected snapshots (`streamcensus bench --suite storage`,
# BENCHMARKS.md): random 64-bit pseudonyms are near-incompressible, so the gain comes from
# what repeats across channels. Bots and regulars sit in many chats of one snapshot, and
# a PLAIN-encoded `viewer` column leaves those repeated 8-byte values for zstd to find;
# delta encoding (smaller on synthetic data without such repeats) hides them and is about
# 30% larger on real snapshots. zstd levels 1-9 give the same bytes within 0.1%; level 19
# saves about 0.2% for several times the write CPU, so the lake uses zstd's default, 3.
ZSTD_LEVEL = 3
VIEWER_ENCODING = "PLAIN"
_LINK_UNSUPPORTED = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS}


class LakeRewriteError(LakeError, FileExistsError):
    """A snapshot file already exists with different bytes: raw files are never rewritten."""


@dataclass(frozen=True)
class FileInfo:
    """A file written to the lake: where, how big, how many rows, and its SHA-256."""

    path: Path
    bytes: int
    rows: int
    sha256: str

    def to_entry(self, lake_dir: Path) -> FileEntry:
        """The manifest's entry for this file, its path relative to the lake directory."""
        return FileEntry(
            path=self.path.relative_to(lake_dir).as_posix(),
            bytes=self.bytes,
            rows=self.rows,
            sha256=self.sha256,
        )


def conform(table: pa.Table, schema: pa.Schema, kind: str) -> pa.Table:
    """`table` with the schema's columns, order and types; ValueError if it cannot be."""
    names = table.column_names
    missing = [n for n in schema.names if n not in names]
    extra = [n for n in names if n not in schema.names]
    if missing or extra or len(names) != len(schema.names):
        raise ValueError(
            f"{kind} table does not match the lake schema: missing {missing}, "
            f"unexpected {extra or sorted({n for n in names if names.count(n) > 1})}"
        )
    try:
        table = table.select(schema.names).cast(schema)
    except (ValueError, TypeError, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"{kind} table cannot be cast to the lake schema: {exc}") from None
    return table  # the cast refuses nulls in non-nullable fields


def _check_snapshot(table: pa.Table, snapshot_id: str, kind: str) -> None:
    try:
        valid = lake_schema.snapshot_id(snapshot_time(snapshot_id)) == snapshot_id
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"not a snapshot id: {snapshot_id!r} (expected YYYYMMDDTHHMMZ)")
    if table.num_rows == 0:
        return
    ids = pc.unique(table.column("snapshot_id")).to_pylist()
    if ids != [snapshot_id]:
        raise ValueError(f"{kind} rows belong to snapshots {ids}, not {snapshot_id}")
    times = pc.unique(table.column("snapshot_ts")).to_pylist()
    if times != [snapshot_time(snapshot_id)]:
        raise ValueError(f"{kind} snapshot_ts {times} differs from the grid time of {snapshot_id}")


def encode_parquet(
    table: pa.Table,
    compression: str = "zstd",
    level: int | None = ZSTD_LEVEL,
    viewer_encoding: str | None = VIEWER_ENCODING,
) -> bytes:
    """Parquet bytes of `table` in one row group.

    With a `viewer` column and `viewer_encoding` set, that column is stored with that
    encoding and no dictionary; every other column keeps dictionary encoding.
    """
    options: dict[str, object] = {}
    if viewer_encoding is not None and "viewer" in table.column_names:
        options["use_dictionary"] = [n for n in table.column_names if n != "viewer"]
        options["column_encoding"] = {"viewer": viewer_encoding}
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression=compression,
        compression_level=level,
        row_group_size=max(1, table.num_rows),
        **options,
    )
    return bytes(sink.getvalue().to_pybytes())


def _same_bytes(path: Path, data: bytes) -> bool:
    return path.stat().st_size == len(data) and path.read_bytes() == data


def write_new_file(path: Path, data: bytes) -> bool:
    """Write `data` to a new file at `path` atomically; False if it already holds `data`.

    Raises `LakeRewriteError` if `path` exists with other bytes.
    """
    if path.exists():
        if _same_bytes(path, data):
            return False
        raise LakeRewriteError(f"{path} already exists with other content; lake files are final")
    private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, PRIVATE_FILE)
        try:
            os.link(tmp, path)
        except FileExistsError:
            if _same_bytes(path, data):
                return False
            raise LakeRewriteError(f"{path} was written concurrently with other content") from None
        except OSError as exc:
            if exc.errno not in _LINK_UNSUPPORTED:
                raise
            if path.exists():  # a file system without hard links: check, then rename
                raise LakeRewriteError(f"{path} already exists; lake files are final") from None
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)
    return True


class LakeWriter:
    """Writes the raw files of snapshots under `lake_dir` (layout in `lake.schema`)."""

    def __init__(
        self,
        lake_dir: Path,
        zstd_level: int = ZSTD_LEVEL,
        viewer_encoding: str | None = VIEWER_ENCODING,
    ) -> None:
        self.lake_dir = lake_dir
        self.zstd_level = zstd_level
        self.viewer_encoding = viewer_encoding

    def _write_table(self, kind: str, snapshot_id: str, table: pa.Table) -> FileInfo:
        data = encode_parquet(table, "zstd", self.zstd_level, self.viewer_encoding)
        path = raw_path(self.lake_dir, kind, snapshot_id)
        write_new_file(path, data)
        return FileInfo(
            path=path, bytes=len(data), rows=table.num_rows, sha256=hashlib.sha256(data).hexdigest()
        )

    def write(self, kind: str, snapshot_id: str, table: pa.Table) -> FileInfo:
        """Write a snapshot's file of one data kind (`lake.schema.DATA_KINDS`), conformed to
        its schema and sorted as the kind says."""
        raw_kind = DATA_KINDS[kind]
        table = conform(table, raw_kind.schema, kind)
        _check_snapshot(table, snapshot_id, kind)
        table = table.sort_by([(column, "ascending") for column in raw_kind.sort_by])
        return self._write_table(kind, snapshot_id, table)

    def write_streams(self, snapshot_id: str, table: pa.Table) -> FileInfo:
        """Write a snapshot's stream facts, ordered by listing rank then channel id."""
        return self.write("streams", snapshot_id, table)

    def write_chatters(self, snapshot_id: str, table: pa.Table) -> FileInfo:
        """Write a snapshot's presence observations, sorted by (channel_id, viewer)."""
        return self.write("chatters", snapshot_id, table)

    def write_manifest(self, record: ManifestRecord) -> FileInfo:
        """Write the manifest last: every data file it lists must already be in the lake."""
        if lake_schema.snapshot_id(record.grid_time) != record.snapshot_id:
            raise ValueError(
                f"manifest snapshot_id {record.snapshot_id} differs from its grid_time "
                f"{record.grid_time.isoformat()}"
            )
        for kind, entry in record.files.items():
            target = self.lake_dir / entry["path"]
            try:
                size = target.stat().st_size
            except FileNotFoundError:
                raise LakeError(f"manifest lists {kind} file {target}, which is missing") from None
            if size != entry["bytes"]:
                raise LakeError(
                    f"manifest says {kind} file {target} has {entry['bytes']} bytes, it has {size}"
                )
        data = record.to_bytes()
        path = raw_path(self.lake_dir, MANIFEST, record.snapshot_id)
        write_new_file(path, data)
        return FileInfo(path=path, bytes=len(data), rows=1, sha256=hashlib.sha256(data).hexdigest())
