"""Writes a snapshot's files into the raw lake: validated, compressed, atomic, never rewritten.

Each file is encoded in memory and handed to the lake's storage (`lake/storage.py`) as a
new file: locally a temp file hard-linked into place, on object storage one conditional
PUT. Neither replaces an existing file, so two writers of one snapshot cannot overwrite
each other: the second gets `LakeRewriteError` unless its bytes are identical (a harmless
retry). A killed writer leaves at most a `.tmp-*` file (local) or nothing (object store).

When an object store does not answer (down, 5xx, timeouts past the client's retries), the
snapshot's remaining files go to a local *spool* (`<data_dir>/spool/`, same keys) and are
uploaded, data files before their manifest, when the next snapshot is written: a snapshot
is never dropped because the store was away for a while.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path, PurePath

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from streamcensus.lake import schema as lake_schema
from streamcensus.lake.manifest import FileEntry, LakeError, ManifestRecord
from streamcensus.lake.schema import DATA_KINDS, KINDS, MANIFEST, RAW, raw_key, snapshot_time
from streamcensus.lake.storage import (
    LakeRewriteError,
    LakeStorage,
    LakeUnavailable,
    LocalStorage,
    write_new_file,
)

__all__ = ["FileInfo", "LakeRewriteError", "LakeWriter", "write_new_file"]

log = logging.getLogger("streamcensus.lake")

# Chosen by measurement on collected snapshots (`streamcensus bench --suite storage`,
# BENCHMARKS.md): random 64-bit pseudonyms are near-incompressible, so the gain comes from
# what repeats across channels. Bots and regulars sit in many chats of one snapshot, and
# a PLAIN-encoded `viewer` column leaves those repeated 8-byte values for zstd to find;
# delta encoding (smaller on synthetic data without such repeats) hides them and is about
# 30% larger on real snapshots. zstd levels 1-9 give the same bytes within 0.1%; level 19
# saves about 0.2% for several times the write CPU, so the lake uses zstd's default, 3.
ZSTD_LEVEL = 3
VIEWER_ENCODING = "PLAIN"


@dataclass(frozen=True)
class FileInfo:
    """A file written to the lake: where, how big, how many rows, and its SHA-256."""

    path: PurePath  # the lake root (`LakeWriter.lake_dir`) / the file's key
    bytes: int
    rows: int
    sha256: str

    def to_entry(self, lake_dir: PurePath) -> FileEntry:
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


def _spool_order(key: str) -> tuple[str, int]:
    """Snapshot by snapshot, data files before the manifest (written last, as always)."""
    name = key.rsplit("/", 1)[-1]
    kind = key.split("/")[1] if key.count("/") >= 2 else ""
    rank = KINDS.index(kind) if kind in KINDS else len(KINDS)
    return name.split(".", 1)[0], rank


class LakeWriter:
    """Writes the raw files of snapshots into a lake (layout in `lake.schema`).

    `lake` is a `LakeStorage` (`storage.open_lake`) or a local lake folder. With `spool`
    (a local folder), files an object store could not take wait there for the next
    snapshot; without it such a failure is raised.
    """

    def __init__(
        self,
        lake: LakeStorage | Path,
        zstd_level: int = ZSTD_LEVEL,
        viewer_encoding: str | None = VIEWER_ENCODING,
        *,
        spool: Path | None = None,
    ) -> None:
        self.storage = lake if isinstance(lake, LakeStorage) else LocalStorage(Path(lake))
        self.lake_dir: PurePath = self.storage.root
        self.zstd_level = zstd_level
        self.viewer_encoding = viewer_encoding
        self.spool = LocalStorage(spool) if spool is not None else None
        self._current: str | None = None  # the snapshot being written
        self._written: dict[str, int] = {}  # its files written so far: key -> bytes
        self._down_for: str | None = None  # a snapshot whose files go to the spool

    def has_snapshot(self, snapshot_id: str) -> bool:
        """True if any raw file of the snapshot is in the lake or the spool.

        A store that does not answer counts as not having it: the snapshot is taken and
        spooled, and a clash is caught when the spool is uploaded (never overwritten).
        """
        keys = [raw_key(kind, snapshot_id) for kind in KINDS]
        if self.spool is not None and any(self.spool.exists(k) for k in keys):
            return True
        try:
            return any(self.storage.exists(k) for k in keys)
        except LakeUnavailable as exc:
            if self.spool is None:
                raise
            log.warning("%s; assuming snapshot %s is not there yet", exc, snapshot_id)
            return False

    def spooled(self) -> list[str]:
        """Keys waiting in the spool, in upload order."""
        if self.spool is None:
            return []
        return sorted((e.key for e in self.spool.walk(RAW)), key=_spool_order)

    def drain_spool(self) -> int:
        """Upload spooled files in order; stop at the first the store does not take.

        Returns the number uploaded. A spooled file whose key the lake already holds with
        other bytes is moved to the spool's `rejected/` folder and logged, never lost.
        """
        uploaded = 0
        spool = self.spool
        if spool is None:
            return 0
        for key in self.spooled():
            data = spool.read(key)
            try:
                self.storage.create(key, data)
            except LakeUnavailable as exc:
                log.warning("spool not uploaded yet (%s)", exc)
                return uploaded
            except LakeRewriteError as exc:
                log.error("%s: the spooled copy is kept in %s", exc, spool.describe("rejected"))
                spool.move(key, f"rejected/{key}")
                continue
            spool.delete(key)
            uploaded += 1
        if uploaded:
            log.info("uploaded %d spooled file(s) to %s", uploaded, self.storage.url)
        return uploaded

    def _store(self, key: str, snapshot_id: str, data: bytes) -> None:
        if snapshot_id != self._current:
            self._current = snapshot_id
            self._written = {}
            if self.spool is not None:
                self.drain_spool()
                # the store is still away: this snapshot waits behind the spooled ones
                self._down_for = snapshot_id if self.spooled() else None
        if self.spool is None or self._down_for != snapshot_id:
            try:
                self.storage.create(key, data)
            except LakeUnavailable as exc:
                if self.spool is None:
                    raise
                log.warning("%s; spooled in %s until the store answers", exc, self.spool.url)
                self._down_for = snapshot_id  # and the rest of the snapshot, manifest last
            else:
                self._written[key] = len(data)
                return
        assert self.spool is not None
        self.spool.create(key, data)
        self._written[key] = len(data)

    def _write_table(self, kind: str, snapshot_id: str, table: pa.Table) -> FileInfo:
        data = encode_parquet(table, "zstd", self.zstd_level, self.viewer_encoding)
        key = raw_key(kind, snapshot_id)
        self._store(key, snapshot_id, data)
        return FileInfo(
            path=self.lake_dir / key,
            bytes=len(data),
            rows=table.num_rows,
            sha256=hashlib.sha256(data).hexdigest(),
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

    def _stored_size(self, key: str) -> int | None:
        if key in self._written:
            return self._written[key]
        if self.spool is not None and (size := self.spool.size(key)) is not None:
            return size
        return self.storage.size(key)

    def write_manifest(self, record: ManifestRecord) -> FileInfo:
        """Write the manifest last: every data file it lists must already be in the lake."""
        if lake_schema.snapshot_id(record.grid_time) != record.snapshot_id:
            raise ValueError(
                f"manifest snapshot_id {record.snapshot_id} differs from its grid_time "
                f"{record.grid_time.isoformat()}"
            )
        for kind, entry in record.files.items():
            size = self._stored_size(entry["path"])
            where = self.storage.describe(entry["path"])
            if size is None:
                raise LakeError(f"manifest lists {kind} file {where}, which is missing")
            if size != entry["bytes"]:
                raise LakeError(
                    f"manifest says {kind} file {where} has {entry['bytes']} bytes, it has {size}"
                )
        data = record.to_bytes()
        key = raw_key(MANIFEST, record.snapshot_id)
        self._store(key, record.snapshot_id, data)
        return FileInfo(
            path=self.lake_dir / key,
            bytes=len(data),
            rows=1,
            sha256=hashlib.sha256(data).hexdigest(),
        )
