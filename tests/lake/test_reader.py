"""Reading the lake's inventory: snapshots, manifests, per-day status."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lake.tables import chatters_table, snapshot_record, streams_table
from streamcensus.lake.manifest import LakeError, Status
from streamcensus.lake.reader import (
    day_status,
    days,
    list_snapshots,
    read_manifest,
    read_manifests,
)
from streamcensus.lake.schema import raw_path, snapshot_id
from streamcensus.lake.writer import LakeWriter
from streamcensus.timeutil import UTC

DAY1 = dt.datetime(2026, 11, 27, tzinfo=UTC)
DAY2 = dt.datetime(2026, 11, 28, tzinfo=UTC)


def snapshot(
    lake: Path,
    grid: dt.datetime,
    viewers: int,
    status: Status = "complete",
    manifest: bool = True,
) -> int:
    """Write one snapshot with `viewers` presence observations; return its bytes on disk."""
    writer = LakeWriter(lake)
    sid = snapshot_id(grid)
    streams = writer.write_streams(sid, streams_table(grid))
    chatters = writer.write_chatters(
        sid, chatters_table(grid, rows=[("10", v) for v in range(viewers)])
    )
    total = streams.bytes + chatters.bytes
    if manifest:
        record = snapshot_record(
            writer,
            streams,
            chatters,
            grid,
            ended_at=grid + dt.timedelta(seconds=30),
            status=status,
            presence_observations=viewers,
        )
        total += writer.write_manifest(record).bytes
    return total


@pytest.fixture
def lake(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """Day 1: 3 complete, 1 partial, 1 orphaned (+ a temp file); day 2: 1 complete."""
    lake = tmp_path / "lake"
    sizes = {"2026-11-27": 0, "2026-11-28": 0}
    for minute, viewers in [(0, 4), (5, 6), (10, 1)]:
        sizes["2026-11-27"] += snapshot(lake, DAY1 + dt.timedelta(minutes=minute), viewers)
    sizes["2026-11-27"] += snapshot(lake, DAY1 + dt.timedelta(hours=23, minutes=55), 2, "partial")
    sizes["2026-11-27"] += snapshot(lake, DAY1 + dt.timedelta(hours=12), 9, manifest=False)
    folder = raw_path(lake, "chatters", "20261127T1205Z").parent
    (folder / ".tmp-killed123").write_bytes(b"half a parquet file")
    sizes["2026-11-28"] += snapshot(lake, DAY2, 3)
    return lake, sizes


def test_day_status_exact_counts(lake: tuple[Path, dict[str, int]]) -> None:
    lake_dir, sizes = lake
    assert day_status(lake_dir) == {
        "2026-11-27": {
            "snapshots_complete": 3,
            "snapshots_partial": 1,
            "snapshots_orphaned": 1,
            "manifests_unreadable": 0,
            "presence_observations": 4 + 6 + 1 + 2,
            "raw_bytes": sizes["2026-11-27"],
            "files": 3 * 4 + 2,
            "files_missing": 0,
        },
        "2026-11-28": {
            "snapshots_complete": 1,
            "snapshots_partial": 0,
            "snapshots_orphaned": 0,
            "manifests_unreadable": 0,
            "presence_observations": 3,
            "raw_bytes": sizes["2026-11-28"],
            "files": 3,
            "files_missing": 0,
        },
    }


def test_list_snapshots_and_orphans(lake: tuple[Path, dict[str, int]]) -> None:
    lake_dir, _ = lake
    found = list_snapshots(lake_dir, "2026-11-27")
    assert [s.snapshot_id for s in found] == [
        "20261127T0000Z",
        "20261127T0005Z",
        "20261127T0010Z",
        "20261127T1200Z",
        "20261127T2355Z",
    ]
    assert [s.snapshot_id for s in found if s.orphaned] == ["20261127T1200Z"]
    assert sorted(found[0].files) == ["chatters", "manifest", "streams"]
    assert sorted(found[3].files) == ["chatters", "streams"]
    assert found[0].size == sum((lake_dir / e.key).stat().st_size for e in found[0].files.values())
    assert len(list_snapshots(lake_dir)) == 6
    assert list_snapshots(lake_dir, dt.date(2026, 11, 29)) == []
    assert days(lake_dir) == ["2026-11-27", "2026-11-28"]


def test_read_manifests(lake: tuple[Path, dict[str, int]]) -> None:
    lake_dir, _ = lake
    records = read_manifests(lake_dir, dt.date(2026, 11, 27))
    assert [(r.snapshot_id, r.status, r.presence_observations) for r in records] == [
        ("20261127T0000Z", "complete", 4),
        ("20261127T0005Z", "complete", 6),
        ("20261127T0010Z", "complete", 1),
        ("20261127T2355Z", "partial", 2),
    ]
    assert [r.snapshot_id for r in read_manifests(lake_dir)][-1] == "20261128T0000Z"


def test_unreadable_manifest_and_missing_file(lake: tuple[Path, dict[str, int]]) -> None:
    lake_dir, _ = lake
    bad = raw_path(lake_dir, "manifest", "20261127T0005Z")
    bad.write_bytes(b"{not json")
    raw_path(lake_dir, "chatters", "20261127T0010Z").unlink()  # e.g. quarantined
    status = day_status(lake_dir)["2026-11-27"]
    assert status["manifests_unreadable"] == 1
    assert status["snapshots_complete"] == 2
    assert status["presence_observations"] == 4 + 1 + 2
    assert status["files_missing"] == 1
    with pytest.raises(LakeError, match=r"20261127T0005Z\.json"):
        read_manifests(lake_dir, "2026-11-27")
    with pytest.raises(LakeError, match="cannot read"):
        read_manifest(lake_dir, "nope.json")


def test_empty_and_odd_lakes(tmp_path: Path) -> None:
    assert day_status(tmp_path / "none") == {}
    assert days(tmp_path) == []
    folder = tmp_path / "raw" / "chatters" / "date=2026-11-27"
    folder.mkdir(parents=True)
    (folder / "README.txt").write_text("not a snapshot")
    (tmp_path / "raw" / "chatters" / "date=garbage").mkdir()
    assert list_snapshots(tmp_path) == []
    assert day_status(tmp_path)["2026-11-27"]["raw_bytes"] == len("not a snapshot")
