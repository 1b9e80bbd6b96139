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

from streamcensus.fsutil import is_temp_file
from streamcensus.lake.manifest import LakeError, ManifestRecord
from streamcensus.lake.schema import KINDS, RAW, SNAPSHOT_ID_FORMAT, raw_day_dir
from streamcensus.timeutil import parse_day

Day = dt.date | str


@dataclass
class SnapshotFiles:
    """The raw files of one snapshot, by kind (`streams`, `chatters`, `manifest`)."""

    snapshot_id: str
    day: dt.date
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def manifest(self) -> Path | None:
        return self.files.get("manifest")

    @property
    def orphaned(self) -> bool:
        """Data files without a manifest: the collector stopped before finishing."""
        return self.manifest is None

    @property
    def size(self) -> int:
        """Bytes on disk of all its files."""
        return sum(_size(p) for p in self.files.values())


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _as_day(day: Day) -> dt.date:
    return day if isinstance(day, dt.date) else parse_day(day)


def _partition_day(folder: Path) -> dt.date | None:
    name = folder.name
    if not name.startswith("date=") or not folder.is_dir():
        return None
    try:
        return dt.date.fromisoformat(name[len("date=") :])
    except ValueError:
        return None


def _is_snapshot_id(stem: str) -> bool:
    try:
        dt.datetime.strptime(stem, SNAPSHOT_ID_FORMAT)
    except ValueError:
        return False
    return True


def days(lake_dir: Path) -> list[str]:
    """Every UTC day (`YYYY-MM-DD`) with a raw partition of any kind, oldest first."""
    found: set[dt.date] = set()
    for kind in KINDS:
        root = lake_dir / RAW / kind
        if root.is_dir():
            found.update(d for d in map(_partition_day, root.iterdir()) if d is not None)
    return [d.isoformat() for d in sorted(found)]


def _day_files(lake_dir: Path, day: dt.date) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for kind in KINDS:
        folder = raw_day_dir(lake_dir, kind, day)
        if folder.is_dir():
            found.extend(
                (kind, p) for p in sorted(folder.iterdir()) if p.is_file() and not is_temp_file(p)
            )
    return found


def list_snapshots(lake_dir: Path, day: Day | None = None) -> list[SnapshotFiles]:
    """The snapshots in the raw lake (of one UTC day, or all), ordered by id.

    Files whose name is not `<snapshot_id>.<suffix>` are skipped: they are not snapshots.
    """
    wanted = (
        [_as_day(day)] if day is not None else [dt.date.fromisoformat(d) for d in days(lake_dir)]
    )
    snapshots: dict[str, SnapshotFiles] = {}
    for one_day in wanted:
        for kind, path in _day_files(lake_dir, one_day):
            stem = path.name.split(".", 1)[0]
            if not _is_snapshot_id(stem):
                continue
            entry = snapshots.setdefault(stem, SnapshotFiles(snapshot_id=stem, day=one_day))
            entry.files[kind] = path
    return [snapshots[k] for k in sorted(snapshots)]


def read_manifest(path: Path) -> ManifestRecord:
    """One manifest file; LakeError naming the file if it cannot be read."""
    try:
        return ManifestRecord.from_bytes(path.read_bytes())
    except OSError as exc:
        raise LakeError(f"cannot read manifest {path}: {exc.strerror}") from None
    except LakeError as exc:
        raise LakeError(f"{path}: {exc}") from None


def read_manifests(lake_dir: Path, day: Day | None = None) -> list[ManifestRecord]:
    """The manifest records of one UTC day (or all), ordered by snapshot id.

    Raises LakeError on the first unreadable manifest; `day_status` counts them instead.
    """
    return [
        read_manifest(s.manifest) for s in list_snapshots(lake_dir, day) if s.manifest is not None
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


def day_status(lake_dir: Path) -> dict[str, dict[str, Any]]:
    """Per UTC day: snapshots complete/partial/orphaned, presence observations, raw bytes.

    `raw_bytes` sums every raw file of the day (all kinds, temp files ignored);
    `files_missing` counts files a manifest lists that are not in the lake (e.g. moved to
    quarantine); `manifests_unreadable` counts manifests that could not be parsed.
    """
    result: dict[str, dict[str, Any]] = {}
    for day in days(lake_dir):
        status = _empty_status()
        for _kind, path in _day_files(lake_dir, dt.date.fromisoformat(day)):
            status["raw_bytes"] += _size(path)
            status["files"] += 1
        for snapshot in list_snapshots(lake_dir, day):
            if snapshot.manifest is None:
                status["snapshots_orphaned"] += 1
                continue
            try:
                record = read_manifest(snapshot.manifest)
            except LakeError:
                status["manifests_unreadable"] += 1
                continue
            status[f"snapshots_{record.status}"] += 1
            status["presence_observations"] += record.presence_observations
            status["files_missing"] += sum(
                1 for entry in record.files.values() if not (lake_dir / entry["path"]).is_file()
            )
        result[day] = status
    return result
