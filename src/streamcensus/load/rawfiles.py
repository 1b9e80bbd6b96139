"""Finding, fingerprinting and validating one day's raw lake files.

A file is accepted only if it is what the lake contract (`lake/schema.py`) says: a
snapshot-id name in the right date partition, Parquet that decodes completely with the
contract's columns and types and no nulls where none are allowed, rows of that snapshot
only, and a checksum that matches its manifest's record. Anything else is a `BadFile`
with a one-line reason, and goes to quarantine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from streamcensus.fsutil import is_temp_file
from streamcensus.lake.schema import (
    CHATTERS_SCHEMA,
    KINDS,
    STREAMS_SCHEMA,
    raw_day_dir,
    snapshot_time,
)
from streamcensus.lake.schema import (
    snapshot_id as snapshot_id_of,
)
from streamcensus.timeutil import parse_utc

SCHEMAS = {"streams": STREAMS_SCHEMA, "chatters": CHATTERS_SCHEMA}
_HASH_CHUNK = 1 << 20


class BadFile(Exception):
    """A raw file that cannot be loaded; the message is the reason recorded in quarantine."""


@dataclass(frozen=True)
class RawFile:
    """One raw file of a day: where it is, its snapshot, size and SHA-256."""

    kind: str
    path: Path
    rel: str  # path relative to the lake directory, with `/`
    day: dt.date
    snapshot_id: str
    bytes: int
    sha256: str


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def lake_days(lake_dir: Path) -> list[dt.date]:
    """Every day that has a raw partition of any kind, ascending."""
    days: set[dt.date] = set()
    for kind in KINDS:
        base = lake_dir / "raw" / kind
        if not base.is_dir():
            continue
        for part in base.glob("date=*"):
            try:
                day = dt.date.fromisoformat(part.name.removeprefix("date="))
            except ValueError:
                continue
            if any(not is_temp_file(p) for p in part.iterdir()):
                days.add(day)
    return sorted(days)


def _day_paths(lake_dir: Path, day: dt.date) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for kind in KINDS:
        folder = raw_day_dir(lake_dir, kind, day)
        if folder.is_dir():
            found += [
                (kind, p) for p in sorted(folder.iterdir()) if p.is_file() and not is_temp_file(p)
            ]
    return found


def day_listing(lake_dir: Path, day: dt.date) -> dict[str, int]:
    """Relative path → size of a day's raw files: a cheap test of whether the day changed.

    Lake files are written once and never rewritten, so a new, removed or resized file is
    what a change looks like; `load --day` re-reads everything and compares checksums.
    """
    return {
        p.relative_to(lake_dir).as_posix(): p.stat().st_size for _, p in _day_paths(lake_dir, day)
    }


def day_files(lake_dir: Path, day: dt.date) -> list[RawFile]:
    """The raw files of one day (temporary files of interrupted writes skipped), sorted."""
    return [
        RawFile(
            kind=kind,
            path=path,
            rel=path.relative_to(lake_dir).as_posix(),
            day=day,
            snapshot_id=path.name.split(".", 1)[0],
            bytes=path.stat().st_size,
            sha256=sha256_file(path),
        )
        for kind, path in _day_paths(lake_dir, day)
    ]


def fingerprint(files: list[RawFile]) -> str:
    """A digest of a set of files (paths and checksums): it changes when any file does."""
    digest = hashlib.sha256()
    for raw in sorted(files, key=lambda f: f.rel):
        digest.update(f"{raw.rel}\0{raw.sha256}\n".encode())
    return digest.hexdigest()


def _check_name(raw: RawFile) -> dt.datetime:
    suffix = ".json" if raw.kind == "manifest" else ".parquet"
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
    """Read and check one streams or chatters file; `BadFile` if it breaks the contract."""
    grid = _check_name(raw)
    expected = SCHEMAS[raw.kind]
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


_REQUIRED_MANIFEST = ("snapshot_id", "grid_time", "status")
MANIFEST_COUNTS = (  # the manifest's counts the warehouse keeps (integer columns)
    "top_n",
    "channels_listed",
    "channels_tracked",
    "channels_with_chatters",
    "channels_forbidden",
    "channels_failed",
    "channels_offline",
    "presence_observations",
    "optout_dropped",
    "requests",
    "retries",
    "rate_limit_waits",
    "http_429",
)


_INT32_MAX = 2**31 - 1  # the warehouse's integer columns


def _count(value: Any, name: str) -> int:
    """A manifest count: a whole number from 0 to the warehouse's integer range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadFile(f"manifest field {name} is not a number")
    if not math.isfinite(value) or value != int(value) or not 0 <= value <= _INT32_MAX:
        raise BadFile(f"manifest field {name} is out of range: {value!r}")
    return int(value)


def _int(doc: dict[str, Any], name: str) -> int | None:
    value = doc.get(name)
    return None if value is None else _count(value, name)


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadFile(f"manifest field {name} is not a finite number")
    if value < 0:
        raise BadFile(f"manifest field {name} is negative")
    return float(value)


def read_manifest(raw: RawFile) -> dict[str, Any]:
    """Parse and check a manifest; returns the row of `raw_manifests` plus its `files`."""
    grid = _check_name(raw)
    try:
        doc = json.loads(raw.path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadFile(f"not valid JSON: {_first_line(exc)}") from None
    if not isinstance(doc, dict):
        raise BadFile("manifest is not a JSON object")
    missing = [k for k in _REQUIRED_MANIFEST if k not in doc]
    if missing:
        raise BadFile(f"manifest lacks {missing}")
    if doc["snapshot_id"] != raw.snapshot_id:
        raise BadFile(f"manifest is for snapshot {doc['snapshot_id']!r}")
    if doc["status"] not in ("complete", "partial"):
        raise BadFile(f"manifest status {doc['status']!r} is not complete or partial")
    try:
        grid_time = parse_utc(str(doc["grid_time"]))
        started = parse_utc(str(doc["started_at"])) if doc.get("started_at") else None
        ended = parse_utc(str(doc["ended_at"])) if doc.get("ended_at") else None
    except ValueError as exc:
        raise BadFile(f"manifest time is not ISO-8601: {_first_line(exc)}") from None
    if grid_time != grid:
        raise BadFile("manifest grid_time differs from its snapshot id")
    errors = doc.get("errors") or {}
    missing_items = doc.get("missing") or []
    files = doc.get("files") or {}
    if not isinstance(errors, dict) or not isinstance(missing_items, list):
        raise BadFile("manifest errors/missing have the wrong shape")
    if not isinstance(files, dict):
        raise BadFile("manifest files is not an object")
    row: dict[str, Any] = {
        "day": raw.day,
        "slot": int(grid.timestamp()) // 300,
        "snapshot_id": raw.snapshot_id,
        "grid_time": grid_time,
        "started_at": started,
        "ended_at": ended,
        "duration_seconds": (ended - started).total_seconds() if started and ended else None,
        "source": str(doc.get("source", "")),
        "language": str(doc.get("language", "")),
        "status": doc["status"],
        "rate_limit_wait_seconds": _seconds(
            doc.get("rate_limit_wait_seconds") or 0.0, "rate_limit_wait_seconds"
        ),
        "errors_total": min(_INT32_MAX, sum(_count(v, "errors") for v in errors.values())),
        "errors_json": json.dumps(errors, sort_keys=True),
        "missing_count": len(missing_items),
        "missing_json": json.dumps(missing_items, sort_keys=True),
        "key_id": str(doc.get("key_id", "")),
        "collector_version": str(doc.get("collector_version", "")),
    }
    for name in MANIFEST_COUNTS:
        row[name] = _int(doc, name)
    row["files"] = files
    return row


def manifest_checksums(manifest: dict[str, Any]) -> dict[str, str]:
    """kind → SHA-256 the manifest recorded for its snapshot's data files."""
    out: dict[str, str] = {}
    for kind, entry in dict(manifest.get("files") or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("sha256"), str):
            out[str(kind)] = entry["sha256"]
    return out
