"""Snapshots collected before `optout_dropped` was removed lose it at the next load."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from load.lakebuilder import DAY, LakeBuilder, Stream, at, make_settings, query, run_load


def test_old_manifests_and_warehouses_lose_the_optout_count(tmp_path: Path) -> None:
    builder = LakeBuilder(tmp_path / "lake")
    sid = builder.snapshot(
        at(DAY, "20:00"),
        [Stream("4001", 30, at(DAY, "19:00"))],
        {"4001": range(1, 12)},
        manifest={"optout_dropped": 1},  # as an older collector wrote it
    )
    path = tmp_path / "lake" / "raw" / "manifest" / f"date={DAY.isoformat()}" / f"{sid}.json"
    assert json.loads(path.read_bytes())["optout_dropped"] == 1
    settings = make_settings(tmp_path)
    run_load(settings)
    assert "optout_dropped" not in json.loads(path.read_bytes())  # rewritten in the lake
    rows = query(settings, "select snapshot_id, presence_observations from raw_manifests")
    assert rows == [(sid, 11)]
    # a warehouse made by an older version still has the column: the next load drops it
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("alter table raw_manifests add column optout_dropped integer")
    con.execute("update raw_manifests set optout_dropped = 1")
    con.close()
    run_load(settings)
    columns = [r[0] for r in query(settings, "describe raw_manifests")]
    assert "optout_dropped" not in columns and "presence_observations" in columns
    assert query(settings, "select snapshot_id from raw_manifests") == [(sid,)]
