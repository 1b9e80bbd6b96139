"""What the warehouse holds, per day, for `streamcensus status --json`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streamcensus.config import Settings
from streamcensus.lake.stores import open_lake
from streamcensus.load.rawfiles import RawSource, lake_days
from streamcensus.transform.serving import SERVING_TABLES
from streamcensus.warehouse.connection import connect, table_exists


def warehouse_status(
    settings: Settings, lake_days_seen: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Per day (`YYYY-MM-DD`, lake days and loaded days): `loaded` and serving-table rows.

    `tables` maps every serving table present in the warehouse to its row count for that
    day (0 when it has none). Opens the warehouse read-only. `lake_days_seen`: the lake's
    days when the caller has listed them already (else the lake is listed).
    """
    if lake_days_seen is None:
        raw = RawSource(open_lake(settings), settings.staging_dir)
        lake_days_seen = [d.isoformat() for d in lake_days(raw)]
    days = set(lake_days_seen)
    status: dict[str, dict[str, Any]] = {}
    if not settings.warehouse_path.exists():
        return {d: {"loaded": False, "tables": {}} for d in sorted(days)}
    con = connect(settings.warehouse_path, read_only=True)
    try:
        loaded = set()
        if table_exists(con, "loaded_days"):
            loaded = {
                r[0].isoformat() for r in con.execute("select day from loaded_days").fetchall()
            }
        counts: dict[str, dict[str, int]] = {}
        present = [t for t in SERVING_TABLES if table_exists(con, t)]
        for table in present:
            for day, rows in con.execute(
                f"select day, count(*) from {table} group by day"
            ).fetchall():
                counts.setdefault(day.isoformat(), {})[table] = int(rows)
    finally:
        con.close()
    for day in sorted(days | loaded):
        per_day = counts.get(day, {})
        status[day] = {
            "loaded": day in loaded,
            "tables": {table: per_day.get(table, 0) for table in present},
        }
    return status
