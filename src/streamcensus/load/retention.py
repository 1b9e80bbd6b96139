"""Retention of pseudonymous presence (P2): delete it after `retention_days`, keep aggregates.

Presence lives in three places: the raw files of the presence kinds (chatters, chat
activity) and those files in quarantine (in the lake, local or object storage), and the
curated viewing sessions (beside the warehouse). For every day older than the cutoff
(`today - retention_days`) all three are deleted; the warehouse marks the day's files
retired and the day's presence retired. Aggregates built from it (overlap, habits,
exposure, channel days, ...) stay, and the day is final: it is not reloaded any more,
since its presence is gone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from streamcensus.lake.schema import CURATED, DATA_KINDS, QUARANTINE, RAW, partition_day
from streamcensus.lake.storage import LakeStorage, LocalStorage
from streamcensus.load.rawfiles import Source, as_source
from streamcensus.warehouse.connection import Connection, table_exists

PRESENCE_KINDS = tuple(kind.name for kind in DATA_KINDS.values() if kind.presence)


@dataclass
class RetentionReport:
    """What retention deleted."""

    cutoff: dt.date  # presence of days before this one is deleted
    days: list[dt.date] = field(default_factory=list)
    files_deleted: int = 0
    bytes_deleted: int = 0
    keys_deleted: list[str] = field(default_factory=list)  # pseudonym keys purged (P2)
    unloaded_expired: list[dt.date] = field(default_factory=list)  # kept until loaded


Partition = tuple[LakeStorage, str]  # a storage and the key of a day's folder


def _partition_days(storage: LakeStorage, root: str) -> dict[dt.date, str]:
    found: dict[dt.date, str] = {}
    for name in storage.list_dirs(root):
        day = partition_day(name)
        if day is not None:
            found[day] = f"{root}/{name}"
    return found


def presence_folders(lake: Source, lake_dir: Path | None = None) -> dict[dt.date, list[Partition]]:
    """Every day partition holding pseudonymous presence, by day: the presence kinds in
    the raw zone and in quarantine, and every curated model (under `lake_dir`, the
    local lake folder; by default the raw lake's own folder)."""
    raw = as_source(lake).storage
    curated = LocalStorage(lake_dir) if lake_dir is not None else raw
    roots: list[Partition] = [
        (raw, f"{zone}/{k}") for zone in (RAW, QUARANTINE) for k in PRESENCE_KINDS
    ]
    roots += [(curated, f"{CURATED}/{model}") for model in curated.list_dirs(CURATED)]
    by_day: dict[dt.date, list[Partition]] = {}
    for storage, root in roots:
        for day, key in _partition_days(storage, root).items():
            by_day.setdefault(day, []).append((storage, key))
    return by_day


def retention_cutoff(today: dt.date, retention_days: int) -> dt.date:
    """The first day whose presence is kept."""
    return today - dt.timedelta(days=retention_days)


def apply_retention(
    con: Connection,
    lake: Source,
    today: dt.date,
    retention_days: int,
    lake_dir: Path | None = None,
) -> RetentionReport:
    """Delete presence older than the cutoff from the lake (and the curated zone under
    `lake_dir`) and mark it in the warehouse."""
    report = RetentionReport(cutoff=retention_cutoff(today, retention_days))
    folders = presence_folders(lake, lake_dir)
    loaded = {r[0] for r in con.execute("select day from loaded_days").fetchall()}
    # presence is deleted once aggregated: an expired day not loaded yet is kept and
    # reported, so `load --all` can still build its aggregates (then it is deleted)
    report.unloaded_expired = sorted(d for d in folders if d < report.cutoff and d not in loaded)
    open_days = {
        r[0]
        for r in con.execute("select day from loaded_days where not presence_retired").fetchall()
    }
    expired = sorted(d for d in (set(folders) & loaded) | open_days if d < report.cutoff)
    for day in expired:
        for storage, key in folders.get(day, []):
            files, size = storage.delete_tree(key)
            report.files_deleted += files
            report.bytes_deleted += size
        con.execute(
            "update loaded_files set retired = true where day = ? and list_contains(?, kind)",
            [day, list(PRESENCE_KINDS)],
        )
        con.execute("update curated_files set retired = true where day = ?", [day])
        con.execute("update loaded_days set presence_retired = true where day = ?", [day])
        if table_exists(con, "pipeline_health"):
            con.execute("update pipeline_health set presence_retired = true where day = ?", [day])
        report.days.append(day)
    return report
