"""Reads the raw lake's inventory: snapshots, manifests and per-day status.

Only names and manifests are read here, never the Parquet data, so `status` stays fast on
months of lake. A snapshot with data files and no manifest is *orphaned*: its collector was
killed before finishing. Temporary `.tmp-*` files of interrupted writes are ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamcensus.lake.manifest import LakeError, ManifestRecord
from streamcensus.lake.schema import (
    KINDS,
    RAW,
    SNAPSHOT_ID_FORMAT,
    partition_day,
    raw_day_key,
)
from streamcensus.lake.storage import Entry, LakeStorage, as_storage
from streamcensus.timeutil import parse_day

Day = dt.date | str
Lake = LakeStorage | Path


@dataclass
class SnapshotFiles:
    """The raw files of one snapshot, by kind (`streams`, `chatters`, `manifest`)."""

    snapshot_id: str
    day: dt.date
    files: dict[str, Entry] = field(default_factory=dict)

    @property
    def manifest(self) -> Entry | None:
        return self.files.get("manifest")

    @property
    def orphaned(self) -> bool:
        """Data files without a manifest: the collector stopped before finishing."""
        return self.manifest is None

    @property
    def size(self) -> int:
        """Bytes of all its files."""
        return sum(e.size for e in self.files.values())


def _as_day(day: Day) -> dt.date:
    return day if isinstance(day, dt.date) else parse_day(day)


def _is_snapshot_id(stem: str) -> bool:
    try:
        dt.datetime.strptime(stem, SNAPSHOT_ID_FORMAT)
    except ValueError:
        return False
    return True


def days(lake: Lake) -> list[str]:
    """Every UTC day (`YYYY-MM-DD`) with a raw partition of any kind, oldest first."""
    storage = as_storage(lake)
    found: set[dt.date] = set()
    for kind in KINDS:
        found.update(
            d for d in map(partition_day, storage.list_dirs(f"{RAW}/{kind}")) if d is not None
        )
    return [d.isoformat() for d in sorted(found)]


def _day_files(storage: LakeStorage, day: dt.date) -> list[tuple[str, Entry]]:
    found: list[tuple[str, Entry]] = []
    for kind in KINDS:
        found.extend((kind, e) for e in storage.list_files(raw_day_key(kind, day)))
    return found


def list_snapshots(lake: Lake, day: Day | None = None) -> list[SnapshotFiles]:
    """The snapshots in the raw lake (of one UTC day, or all), ordered by id.

    Files whose name is not `<snapshot_id>.<suffix>` are skipped: they are not snapshots.
    """
    storage = as_storage(lake)
    wanted = (
        [_as_day(day)] if day is not None else [dt.date.fromisoformat(d) for d in days(storage)]
    )
    snapshots: dict[str, SnapshotFiles] = {}
    for one_day in wanted:
        for kind, entry in _day_files(storage, one_day):
            stem = entry.name.split(".", 1)[0]
            if not _is_snapshot_id(stem):
                continue
            found = snapshots.setdefault(stem, SnapshotFiles(snapshot_id=stem, day=one_day))
            found.files[kind] = entry
    return [snapshots[k] for k in sorted(snapshots)]


def read_manifest(lake: Lake, key: str) -> ManifestRecord:
    """One manifest file; LakeError naming the file if it cannot be read."""
    storage = as_storage(lake)
    try:
        return ManifestRecord.from_bytes(storage.read(key))
    except OSError as exc:
        raise LakeError(f"cannot read manifest {storage.describe(key)}: {exc.strerror}") from None
    except LakeError as exc:
        raise LakeError(f"{storage.describe(key)}: {exc}") from None


def read_manifests(lake: Lake, day: Day | None = None) -> list[ManifestRecord]:
    """The manifest records of one UTC day (or all), ordered by snapshot id.

    Raises LakeError on the first unreadable manifest; `day_status` counts them instead.
    """
    storage = as_storage(lake)
    return [
        read_manifest(storage, s.manifest.key)
        for s in list_snapshots(storage, day)
        if s.manifest is not None
    ]


def _empty_status() -> dict[str, Any]:
    return {
        "snapshots_complete": 0,
        "snapshots_partial": 0,
        "snapshots_orphaned": 0,
        "manifests_unreadable": 0,
        "presence_observations": 0,
        "raw_bytes": 0,
        "files": 0,
        "files_missing": 0,
    }


def day_status(lake: Lake) -> dict[str, dict[str, Any]]:
    """Per UTC day: snapshots complete/partial/orphaned, presence observations, raw bytes.

    `raw_bytes` sums every raw file of the day (all kinds, temp files ignored);
    `files_missing` counts files a manifest lists that are not in the lake (e.g. moved to
    quarantine); `manifests_unreadable` counts manifests that could not be parsed.
    """
    storage = as_storage(lake)
    result: dict[str, dict[str, Any]] = {}
    for day in days(storage):
        status = _empty_status()
        present: set[str] = set()
        for _kind, entry in _day_files(storage, dt.date.fromisoformat(day)):
            status["raw_bytes"] += entry.size
            status["files"] += 1
            present.add(entry.key)
        snapshots = list_snapshots(storage, day)
        manifests = storage.read_many([s.manifest.key for s in snapshots if s.manifest])
        for snapshot in snapshots:
            if snapshot.manifest is None:
                status["snapshots_orphaned"] += 1
                continue
            data = manifests[snapshot.manifest.key]
            try:
                if isinstance(data, OSError):
                    raise LakeError(str(data))
                record = ManifestRecord.from_bytes(data)
            except LakeError:
                status["manifests_unreadable"] += 1
                continue
            status[f"snapshots_{record.status}"] += 1
            status["presence_observations"] += record.presence_observations
            status["files_missing"] += sum(
                1 for entry in record.files.values() if entry["path"] not in present
            )
        result[day] = status
    return result
