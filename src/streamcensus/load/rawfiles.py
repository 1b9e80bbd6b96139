"""Finding, fingerprinting and validating one day's raw lake files.

A file is accepted only if it is what the lake contract (`lake/schema.py`,
`lake/manifest.py`) says: a snapshot-id name in the right date partition; for a manifest,
a record that validates; for a data file, Parquet that decodes completely with its kind's
columns and types and no nulls where none are allowed, rows of that snapshot only, and a
SHA-256 equal to the one its manifest records. Anything else is a `BadFile` with a
one-line reason, and goes to quarantine. A data file no manifest vouches for is not
loaded at all (see `loader.py`: orphaned).

The raw zone is read through the lake's storage (`lake/storage.py`): listing by prefix,
one day partition at a time. On object storage each file is downloaded once into a
local scratch folder (`RawSource.scratch`, emptied after each load) and hashed as it
arrives, so the SHA-256 checked against the manifest is that of the very bytes the
warehouse then reads from the local copy; the loader's SQL reads local files either way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from streamcensus.lake.manifest import LakeError, ManifestRecord
from streamcensus.lake.schema import (
    DATA_KINDS,
    KINDS,
    MANIFEST,
    RAW,
    partition_day,
    raw_day_key,
    snapshot_time,
)
from streamcensus.lake.schema import (
    snapshot_id as snapshot_id_of,
)
from streamcensus.lake.storage import LakeStorage, LocalStorage


class BadFile(Exception):
    """A raw file that cannot be loaded; the message is the reason recorded in quarantine."""


@dataclass(frozen=True)
class RawSource:
    """The raw zone as `load` reads it: the lake's storage, and a local scratch folder
    for the copies of object-storage files (unused for a local lake)."""

    storage: LakeStorage
    scratch: Path

    @classmethod
    def local(cls, lake_dir: Path) -> RawSource:
        return cls(LocalStorage(lake_dir), lake_dir.parent / "staging")

    def clear_scratch(self) -> None:
        """Delete the local copies (pseudonymous presence must not outlive the load)."""
        shutil.rmtree(self.scratch, ignore_errors=True)


Source = RawSource | Path


def as_source(lake: Source) -> RawSource:
    return lake if isinstance(lake, RawSource) else RawSource.local(lake)


@dataclass(frozen=True)
class RawFile:
    """One raw file of a day: its local copy, key, snapshot, size and SHA-256."""

    kind: str
    path: Path  # a local file with its bytes (the file itself, or a staged copy)
    rel: str  # key relative to the lake root, with `/`
    day: dt.date
    snapshot_id: str
    bytes: int
    sha256: str


def lake_days(lake: Source) -> list[dt.date]:
    """Every day that has a raw partition with a file of any kind, ascending."""
    storage = as_source(lake).storage
    days: set[dt.date] = set()
    for kind in KINDS:
        for name in storage.list_dirs(f"{RAW}/{kind}"):
            day = partition_day(name)
            if day is not None:
                days.add(day)
    return sorted(days)


def day_listing(lake: Source, day: dt.date) -> dict[str, int]:
    """Key → size of a day's raw files: a cheap test of whether the day changed.

    Lake files are written once and never rewritten, so a new, removed or resized file is
    what a change looks like; `load --day` re-reads everything and compares checksums.
    """
    storage = as_source(lake).storage
    return {e.key: e.size for kind in KINDS for e in storage.list_files(raw_day_key(kind, day))}


def day_files(lake: Source, day: dt.date) -> list[RawFile]:
    """The raw files of one day (temporary files of interrupted writes skipped), sorted,
    each with a local copy and the SHA-256 of its bytes."""
    source = as_source(lake)
    found: list[RawFile] = []
    for kind in KINDS:
        entries = source.storage.list_files(raw_day_key(kind, day))
        fetched = source.storage.fetch_many([e.key for e in entries], source.scratch)
        for entry in entries:
            got = fetched[entry.key]
            if isinstance(got, FileNotFoundError):
                continue  # gone since listed (retention, quarantine by another load)
            path, size, digest = got
            found.append(
                RawFile(
                    kind=kind,
                    path=path,
                    rel=entry.key,
                    day=day,
                    snapshot_id=entry.name.split(".", 1)[0],
                    bytes=size,
                    sha256=digest,
                )
            )
    return found


def fingerprint(files: list[RawFile]) -> str:
    """A digest of a set of files (paths and checksums): it changes when any file does."""
    digest = hashlib.sha256()
    for raw in sorted(files, key=lambda f: f.rel):
        digest.update(f"{raw.rel}\0{raw.sha256}\n".encode())
    return digest.hexdigest()


def _check_name(raw: RawFile) -> dt.datetime:
    suffix = ".json" if raw.kind == MANIFEST else f".{DATA_KINDS[raw.kind].suffix}"
    if not raw.path.name.endswith(suffix):
        raise BadFile(f"not a {suffix} file")
    try:
        grid = snapshot_time(raw.snapshot_id)
    except ValueError:
        raise BadFile(f"file name {raw.path.name!r} is not a snapshot id") from None
    if snapshot_id_of(grid) != raw.snapshot_id or grid.date() != raw.day:
        raise BadFile(f"snapshot {raw.snapshot_id} does not belong to partition {raw.day}")
    return grid


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _check_schema(schema: pa.Schema, expected: pa.Schema) -> None:
    names = schema.names
    missing = [n for n in expected.names if n not in names]
    extra = [n for n in names if n not in expected.names]
    if missing or extra:
        raise BadFile(f"columns differ from the lake schema: missing {missing}, unexpected {extra}")
    for wanted in expected:
        got = schema.field(wanted.name).type
        if not _compatible(got, wanted.type):
            raise BadFile(f"column {wanted.name} has type {got}, expected {wanted.type}")


def _compatible(got: pa.DataType, wanted: pa.DataType) -> bool:
    """Same type up to storage details Parquet changes (timestamp unit, string width)."""
    if got.equals(wanted):
        return True
    if pa.types.is_timestamp(got) and pa.types.is_timestamp(wanted):
        return str(got.tz) in ("UTC", "+00:00", "Etc/UTC")
    if pa.types.is_integer(got) and pa.types.is_integer(wanted):
        return True  # values are range-checked by the cast
    string_types = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    return any(t(got) for t in string_types) and any(t(wanted) for t in string_types)


def read_parquet(raw: RawFile) -> pa.Table:
    """Read and check one data file; `BadFile` if it breaks its kind's contract."""
    grid = _check_name(raw)
    expected = DATA_KINDS[raw.kind].schema
    try:
        parquet = pq.ParquetFile(raw.path)
        _check_schema(parquet.schema_arrow, expected)
        table = parquet.read()
    except BadFile:
        raise
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise BadFile(f"unreadable Parquet: {_first_line(exc)}") from None
    for wanted in expected:
        nulls = table.column(wanted.name).null_count
        if not wanted.nullable and nulls:
            raise BadFile(f"column {wanted.name} has {nulls} nulls")
    if table.num_rows:
        ids = pc.unique(table.column("snapshot_id")).to_pylist()
        if ids != [raw.snapshot_id]:
            raise BadFile(f"rows belong to snapshots {ids[:3]}, not {raw.snapshot_id}")
        times = pc.unique(table.column("snapshot_ts")).to_pylist()
        if times != [grid]:
            raise BadFile(f"snapshot_ts differs from the grid time of {raw.snapshot_id}")
    try:
        return table.select(expected.names).cast(expected)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise BadFile(f"values do not fit the lake schema: {_first_line(exc)}") from None


def read_manifest(raw: RawFile) -> ManifestRecord:
    """Parse and check a manifest file (`ManifestRecord` validates every field)."""
    grid = _check_name(raw)
    try:
        record = ManifestRecord.from_bytes(raw.path.read_bytes())
    except LakeError as exc:
        raise BadFile(str(exc)) from None
    if record.snapshot_id != raw.snapshot_id:
        raise BadFile(f"manifest is for snapshot {record.snapshot_id!r}")
    if record.grid_time != grid:
        raise BadFile("manifest grid_time differs from its snapshot id")
    unknown = sorted(set(record.files) - set(DATA_KINDS))
    if unknown:
        raise BadFile(f"manifest lists files of unknown kinds {unknown}")
    return record
