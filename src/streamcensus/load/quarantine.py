"""Moving unreadable raw files aside: `lake/quarantine/<kind>/date=YYYY-MM-DD/<name>`.

A quarantined file is moved, never deleted, with a `<name>.reason.json` beside it saying
where it came from and why it was refused; the warehouse records the same in
`quarantined_files`. Moving it out of `raw/` keeps the day loadable and stops later loads
from seeing the day as changed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from streamcensus.fsutil import atomic_write_bytes, make_private, private_dir
from streamcensus.lake.schema import QUARANTINE
from streamcensus.load.rawfiles import RawFile
from streamcensus.timeutil import isoformat_z


@dataclass(frozen=True)
class Quarantined:
    """A raw file refused by `load`, and where it went."""

    kind: str
    day: dt.date
    path: str  # original path, relative to the lake directory
    quarantine_path: str  # relative to the lake directory
    bytes: int
    sha256: str
    reason: str


def _free_target(folder: Path, name: str) -> Path:
    target = folder / name
    counter = 1
    while target.exists():
        target = folder / f"{name}.{counter}"
        counter += 1
    return target


def quarantine_file(lake_dir: Path, raw: RawFile, reason: str, now: dt.datetime) -> Quarantined:
    """Move `raw` into the quarantine area with its reason; returns what was recorded."""
    folder = lake_dir / QUARANTINE / raw.kind / f"date={raw.day.isoformat()}"
    private_dir(folder)
    target = _free_target(folder, raw.path.name)
    try:
        os.replace(raw.path, target)
    except OSError:
        shutil.move(str(raw.path), str(target))
    make_private(target)
    record = Quarantined(
        kind=raw.kind,
        day=raw.day,
        path=raw.rel,
        quarantine_path=target.relative_to(lake_dir).as_posix(),
        bytes=raw.bytes,
        sha256=raw.sha256,
        reason=reason,
    )
    note = {
        "path": record.path,
        "bytes": record.bytes,
        "sha256": record.sha256,
        "reason": reason,
        "quarantined_at": isoformat_z(now),
    }
    atomic_write_bytes(
        target.with_name(target.name + ".reason.json"),
        (json.dumps(note, indent=1, sort_keys=True) + "\n").encode(),
    )
    return record
