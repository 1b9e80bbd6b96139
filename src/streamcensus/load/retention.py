"""Retention of pseudonymous presence (P2): delete it after `retention_days`, keep aggregates.

Presence lives in three places: the raw files of the presence kinds (chatters, chat
activity), those files in quarantine, and the curated viewing sessions. For every day
older than the cutoff (`today - retention_days`) all three are deleted; the warehouse
marks the day's files retired and the day's presence retired. Aggregates built from it
(overlap, habits, exposure, channel days, ...) stay, and the day is final: it is not
reloaded any more, since its presence is gone.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from streamcensus.lake.schema import CURATED, DATA_KINDS, QUARANTINE, RAW
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


def _partition_days(folder: Path) -> dict[dt.date, Path]:
    found: dict[dt.date, Path] = {}
    if not folder.is_dir():
        return found
    for part in folder.glob("date=*"):
        try:
            found[dt.date.fromisoformat(part.name.removeprefix("date="))] = part
        except ValueError:
            continue
    return found


def presence_folders(lake_dir: Path) -> dict[dt.date, list[Path]]:
    """Every day partition holding pseudonymous presence, by day."""
    roots = [lake_dir / zone / kind for kind in PRESENCE_KINDS for zone in (RAW, QUARANTINE)]
    curated = lake_dir / CURATED
    if curated.is_dir():
        roots += sorted(p for p in curated.iterdir() if p.is_dir())
    by_day: dict[dt.date, list[Path]] = {}
    for root in roots:
        for day, part in _partition_days(root).items():
            by_day.setdefault(day, []).append(part)
    return by_day


def retention_cutoff(today: dt.date, retention_days: int) -> dt.date:
    """The first day whose presence is kept."""
    return today - dt.timedelta(days=retention_days)


def apply_retention(
    con: Connection, lake_dir: Path, today: dt.date, retention_days: int
) -> RetentionReport:
    """Delete presence older than the cutoff from the lake and mark it in the warehouse."""
    report = RetentionReport(cutoff=retention_cutoff(today, retention_days))
    folders = presence_folders(lake_dir)
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
        for part in folders.get(day, []):
            for path in part.rglob("*"):
                if path.is_file():
                    report.files_deleted += 1
                    report.bytes_deleted += path.stat().st_size
            shutil.rmtree(part)
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
