"""Moving unreadable raw files aside: `lake/quarantine/<kind>/date=YYYY-MM-DD/<name>`.

A quarantined file is moved, never deleted, with a `<name>.reason.json` beside it saying
where it came from and why it was refused; the warehouse records the same in
`quarantined_files`. Moving it out of `raw/` keeps the day loadable and stops later loads
from seeing the day as changed. The quarantine sits in the lake beside `raw/`, on the
same storage: on object storage, which has no rename, the move is a copy then a delete.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from streamcensus.lake.schema import QUARANTINE, partition
from streamcensus.lake.storage import LakeStorage
from streamcensus.load.rawfiles import RawFile, Source, as_source
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


def _free_target(storage: LakeStorage, folder: str, name: str) -> str:
    taken = {e.name for e in storage.list_files(folder)}
    target, counter = name, 1
    while target in taken:
        target = f"{name}.{counter}"
        counter += 1
    return f"{folder}/{target}"


def quarantine_file(lake: Source, raw: RawFile, reason: str, now: dt.datetime) -> Quarantined:
    """Move `raw` into the quarantine area with its reason; returns what was recorded."""
    storage = as_source(lake).storage
    folder = f"{QUARANTINE}/{raw.kind}/{partition(raw.day)}"
    target = _free_target(storage, folder, raw.rel.rsplit("/", 1)[-1])
    storage.move(raw.rel, target)
    record = Quarantined(
        kind=raw.kind,
        day=raw.day,
        path=raw.rel,
        quarantine_path=target,
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
    storage.put(
        f"{target}.reason.json", (json.dumps(note, indent=1, sort_keys=True) + "\n").encode()
    )
    return record
