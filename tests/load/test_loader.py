"""Loading days: idempotence, change detection, quarantine, failing checks, privacy of tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from load.lakebuilder import (
    DAY,
    LakeBuilder,
    Stream,
    all_tables,
    at,
    make_settings,
    one,
    query,
    run_load,
    synthetic_day,
)
from streamcensus.errors import StreamcensusError, UserError
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import raw_path, snapshot_id
from streamcensus.transform import checker as checks
from streamcensus.transform.checker import CheckFailed
from streamcensus.transform.serving import SERVING_TABLES, is_viewer_column
from streamcensus.warehouse import ddl

NEXT = DAY + dt.timedelta(days=1)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic days (20 channels live, 1000 chatters, 4 hours each)."""
    root = tmp_path_factory.mktemp("template")
    builder = LakeBuilder(root / "lake")
    synthetic_day(builder, DAY, live_channels=20, chatters_per_snapshot=1000, snapshots=48)
    synthetic_day(builder, NEXT, 20, 1000, seed=8, snapshots=48)
    return root


@pytest.fixture
def full_lake(tmp_path: Path) -> Path:
    """Two smaller synthetic days with every kind of file: chat lists, chat activity and
    coverage, follower totals, and manifests naming the chat lists' grounds."""
    builder = LakeBuilder(tmp_path / "lake")
    every = {"posting_share": 0.3, "followers": True, "grounds": True}
    synthetic_day(builder, DAY, live_channels=10, chatters_per_snapshot=300, snapshots=24, **every)
    synthetic_day(builder, NEXT, 10, 300, seed=8, snapshots=24, **every)
    return tmp_path


@pytest.fixture
def lake(template: Path, tmp_path: Path) -> Path:
    """A private copy of the template lake."""
    shutil.copytree(template / "lake", tmp_path / "lake")
    return tmp_path


def test_loading_twice_leaves_every_table_identical(full_lake: Path) -> None:
    lake = full_lake
    settings = make_settings(lake)
    first = run_load(settings)
    assert [(d.day, d.status) for d in first.days] == [(DAY, "loaded"), (NEXT, "loaded")]
    before = all_tables(settings)
    assert all(before[t] for t in SERVING_TABLES), [t for t in SERVING_TABLES if not before[t]]
    curated = sorted(p.read_bytes() for p in (lake / "lake" / "curated").rglob("*.parquet"))

    again = run_load(settings, [DAY, NEXT])
    assert [(d.day, d.status) for d in again.days] == [(DAY, "reloaded"), (NEXT, "refreshed")]
    assert all_tables(settings) == before
    assert sorted(p.read_bytes() for p in (lake / "lake" / "curated").rglob("*.parquet")) == curated

    pending = run_load(settings)
    assert pending.days == [] and pending.skipped == [DAY, NEXT]
    assert all_tables(settings) == before


def test_loaded_files_are_recorded_with_size_and_checksum(lake: Path) -> None:
    settings = make_settings(lake)
    run_load(settings, [DAY])
    rows = query(
        settings,
        "select kind, count(*), sum(bytes), sum(rows) from loaded_files "
        "group by kind order by kind",
    )
    chatter_files = sorted((lake / "lake" / "raw" / "chatters" / f"date={DAY}").iterdir())
    assert rows[0][:3] == ("chatters", 48, sum(p.stat().st_size for p in chatter_files))
    assert [r[:2] for r in rows] == [("chatters", 48), ("manifest", 48), ("streams", 48)]
    path = chatter_files[0]
    sha = one(
        settings,
        "select sha256 from loaded_files where path = ?",
        [path.relative_to(lake / "lake").as_posix()],
    )["sha256"]
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()


def test_all_reloads_a_day_whose_files_changed_and_refreshes_the_week_after(lake: Path) -> None:
    settings = make_settings(lake)
    run_load(settings)
    builder = LakeBuilder(lake / "lake")
    extra = at(DAY, "23:55")
    builder.snapshot(extra, [Stream("777", 42, at(DAY, "23:00"))], {"777": list(range(1, 21))})
    report = run_load(settings)
    assert [(d.day, d.status) for d in report.days] == [(DAY, "reloaded"), (NEXT, "refreshed")]
    assert query(settings, "select peak_viewers from channel_day where channel_id = '777'") == [
        (42,)
    ]
    assert run_load(settings).days == []


def _record_checksum(lake_dir: Path, sid: str, kind: str) -> None:
    path = raw_path(lake_dir, "manifest", sid)
    manifest = json.loads(path.read_text())
    data = raw_path(lake_dir, kind, sid).read_bytes()
    manifest["files"][kind].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    path.write_text(json.dumps(manifest))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_corrupt_files_are_quarantined_and_the_rest_of_the_day_loads(lake: Path) -> None:
    raw = lake / "lake"
    ids = [snapshot_id(at(DAY, t)) for t in ("00:00", "00:05", "00:10", "00:15", "00:20")]
    _truncate(raw_path(raw, "chatters", ids[0]))
    raw_path(raw, "streams", ids[1]).write_bytes(b"not parquet at all")
    wrong = pq.read_table(raw_path(raw, "chatters", ids[2])).append_column(
        "login", pa.array(["x"] * pq.read_metadata(raw_path(raw, "chatters", ids[2])).num_rows)
    )
    path = raw_path(raw, "chatters", ids[2])
    path.unlink()
    pq.write_table(wrong, path)
    # a writer that wrote bad bytes recorded their checksum: the Parquet checks catch them
    for sid, kind in ((ids[0], "chatters"), (ids[1], "streams"), (ids[2], "chatters")):
        _record_checksum(raw, sid, kind)
    raw_path(raw, "manifest", ids[3]).write_text("{ broken json")
    manifest = json.loads(raw_path(raw, "manifest", ids[4]).read_text())
    manifest["files"]["chatters"]["sha256"] = "0" * 64
    raw_path(raw, "manifest", ids[4]).write_text(json.dumps(manifest))
    expected_presence = sum(
        pq.read_metadata(p).num_rows
        for p in (raw / "raw" / "chatters" / f"date={DAY}").iterdir()
        if p.stem not in (ids[0], ids[2], ids[3], ids[4])
    )

    settings = make_settings(lake)
    report = run_load(settings, [DAY])

    reasons = {(q.kind, Path(q.path).stem): q.reason for q in report.quarantined}
    assert set(reasons) == {
        ("chatters", ids[0]),
        ("streams", ids[1]),
        ("chatters", ids[2]),
        ("manifest", ids[3]),
        ("chatters", ids[4]),
    }
    assert reasons[("chatters", ids[0])].startswith("unreadable Parquet")
    assert reasons[("streams", ids[1])].startswith("unreadable Parquet")
    assert "unexpected ['login']" in reasons[("chatters", ids[2])]
    assert reasons[("manifest", ids[3])].startswith("manifest is not valid JSON")
    assert "SHA-256 differs" in reasons[("chatters", ids[4])]
    for q in report.quarantined:
        assert (raw / q.quarantine_path).exists() and not (raw / q.path).exists()
        note = json.loads((raw / (q.quarantine_path + ".reason.json")).read_text())
        assert note["reason"] == q.reason
    day = report.days[0]
    assert day.presence_observations == expected_presence
    # the data files of the snapshot whose manifest was refused are not loaded blindly
    assert sorted(Path(p).stem for p in day.orphaned) == [ids[3], ids[3]]
    assert (raw / "raw" / "chatters" / f"date={DAY}" / f"{ids[3]}.parquet").exists()
    assert query(settings, "select count(*) from quarantined_files") == [(5,)]
    health = one(settings, "select * from pipeline_health where day = ?", [DAY])
    assert health["quarantined_files"] == 5
    assert (health["snapshots"], health["snapshots_without_manifest"]) == (47, 1)
    # the orphaned snapshot is not published; the one whose streams file was refused is,
    # with its gap marked rather than zero channels
    assert query(settings, "select count(*) from community_timeseries where day = ?", [DAY]) == [
        (47,)
    ]
    assert query(
        settings,
        "select snapshot_status, live_channels, viewers from community_timeseries "
        "where snapshot_id = ?",
        [ids[1]],
    ) == [("streams missing", None, None)]
    # chats of a snapshot whose chatters file was quarantined are unknown, not empty
    lost = query(
        settings,
        "select distinct presence_status, chatters from int_snapshot_channels "
        "where snapshot_id in (?, ?, ?) and signal = 'chat_list'",
        [ids[0], ids[2], ids[4]],
    )
    assert lost == [("missing", None)]
    assert run_load(settings).days[0].day == NEXT  # DAY is unchanged now, not reloaded


def _curated_zone(lake: Path) -> dict[str, bytes]:
    root = lake / "lake" / "curated"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_failing_check_leaves_warehouse_and_curated_zone_as_before(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(lake)
    run_load(settings, [DAY])
    # the day gets more presence, so a reload would write a different curated partition
    builder = LakeBuilder(lake / "lake")
    builder.snapshot(at(DAY, "23:55"), [Stream("777", 42, at(DAY, "23:00"))], {"777": range(30)})
    before, zone = all_tables(settings), _curated_zone(lake)
    assert len(zone) == 1
    failing = tmp_path / "checks"
    failing.mkdir()
    (failing / "assert_always_fails.sql").write_text("select 1 as broken\n")
    monkeypatch.setattr(checks, "CHECKS_DIR", failing)
    for days in ([DAY], [NEXT]):
        with pytest.raises(CheckFailed, match="assert_always_fails \\(1 rows\\)"):
            run_load(settings, days)
        assert all_tables(settings) == before
        assert _curated_zone(lake) == zone  # the partitions it wrote were removed
    assert query(settings, "select count(*) from loaded_days where day = ?", [NEXT]) == [(0,)]
    monkeypatch.undo()
    run_load(settings, [DAY])  # passing: the new partition replaces the old one
    after = _curated_zone(lake)
    assert len(after) == 1 and after != zone
    [(path,)] = query(settings, "select path from curated_files where day = ?", [DAY])
    assert (lake / "lake" / path).read_bytes() == next(iter(after.values()))


def test_the_manifest_reaches_the_warehouse_field_by_field(tmp_path: Path) -> None:
    """Every field of a manifest record, with a value other than its default, is in
    raw_manifests: a field added to `ManifestRecord` is covered without touching this."""
    lake = tmp_path / "lake"
    sid = LakeBuilder(lake).snapshot(
        at(DAY, "12:00"), [Stream("1", 10, at(DAY, "11:00"))], {"1": range(3)}
    )
    record = ManifestRecord.from_bytes(raw_path(lake, "manifest", sid).read_bytes())
    values: dict[str, Any] = {}
    for number, (name, info) in enumerate(ManifestRecord.model_fields.items(), start=7):
        if name in ManifestRecord.NOT_IN_WAREHOUSE or name in ("snapshot_id", "grid_time"):
            continue
        if info.annotation is int or str(info.annotation).startswith("typing.Annotated[int"):
            values[name] = number
    values.update(
        started_at=at(DAY, "12:00") + dt.timedelta(seconds=3),
        ended_at=at(DAY, "12:00") + dt.timedelta(seconds=95),
        source="https://user:pw@helix.example/helix",
        language="de",
        status="partial",
        rate_limit_wait_seconds=4.25,
        errors={"http_503": 2, "timeout": 1},
        missing=[{"what": "chatters", "channel_id": "1", "reason": "503"}],
        key_id="key-7",
        collector_version="9.9.9",
    )
    changed = record.model_copy(update=values)
    raw_path(lake, "manifest", sid).write_bytes(changed.to_bytes())
    settings = make_settings(tmp_path)
    run_load(settings, [DAY])
    row = one(settings, "select * from raw_manifests")
    expected = ddl.manifest_row(ManifestRecord.from_bytes(changed.to_bytes()))
    assert set(row) == set(expected)
    for name, value in expected.items():
        assert row[name] == value, name
    assert row["source"] == "https://helix.example/helix"
    assert row["token_refreshes"] != 0 and row["duplicates_dropped"] != 0
    assert json.loads(row["errors_json"]) == {"http_503": 2, "timeout": 1}
    assert (row["errors_total"], row["missing_count"], row["duration_seconds"]) == (3, 1, 92.0)


def test_loading_a_day_without_files_is_a_user_error(lake: Path) -> None:
    with pytest.raises(UserError, match="no raw files for 2026-12-25"):
        run_load(make_settings(lake), [dt.date(2026, 12, 25)])


def test_no_serving_table_identifies_a_viewer(lake: Path) -> None:
    settings = make_settings(lake)
    run_load(settings)
    pseudonyms = set(
        pq.read_table(lake / "lake" / "raw" / "chatters", columns=["viewer"])
        .column("viewer")
        .to_pylist()
    )
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        for table in SERVING_TABLES:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = ?",
                [table],
            ).fetchall()
            assert columns, table
            assert not [c for c, _ in columns if is_viewer_column(c)], table
            for column, kind in columns:
                if kind in ("BIGINT", "HUGEINT", "VARCHAR"):
                    values = {
                        r[0]
                        for r in con.execute(f"select distinct {column} from {table}").fetchall()
                    }
                    as_ints = {int(v) for v in values if isinstance(v, int)}
                    as_ints |= {
                        int(v) for v in values if isinstance(v, str) and v.lstrip("-").isdigit()
                    }
                    assert not as_ints & pseudonyms, f"{table}.{column} holds pseudonyms"
        warehouse_tables = {
            r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
        }
    finally:
        con.close()
    assert not {"viewing_sessions", "raw_chatters", "stg_presence"} & warehouse_tables


def test_is_viewer_column() -> None:
    assert all(is_viewer_column(n) for n in ("viewer", "user_id", "pseudonym", "user_login"))
    assert not any(
        is_viewer_column(n) for n in ("viewers", "peak_viewers", "channel_login", "chatters")
    )


def test_viewer_columns_check_catches_a_leak(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table bot_share (day date, viewer bigint)")
    assert checks.viewer_columns(con) == ["bot_share.viewer"]
    con.close()


def test_synthetic_lake_is_realistic(template: Path) -> None:
    files = sorted((template / "lake" / "raw" / "chatters" / f"date={DAY}").iterdir())
    table = pq.read_table(files[-1])
    assert 900 <= table.num_rows <= 1100 + 5 * 20 + 10 * 20
    assert np.all(np.diff(table.column("viewer").to_numpy()[:10]) >= 0)


def test_missing_checks_fail_loudly(tmp_path: Path) -> None:
    con = duckdb.connect()
    with pytest.raises(StreamcensusError, match="no data checks"):
        checks.run_checks(con, tmp_path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("requests", "99999999999"),
        ("presence_observations", "1e400"),
        ("rate_limit_wait_seconds", '"abc"'),
        ("retries", "-1"),
    ],
)
def test_a_manifest_with_numbers_out_of_range_is_quarantined(
    lake: Path, field: str, value: str
) -> None:
    raw = lake / "lake"
    sid = snapshot_id(at(DAY, "00:00"))
    path = raw_path(raw, "manifest", sid)
    doc = json.loads(path.read_text())
    doc[field] = "__VALUE__"
    path.write_text(json.dumps(doc).replace('"__VALUE__"', value))
    report = run_load(make_settings(lake), [DAY])
    [quarantined] = report.quarantined
    assert (quarantined.kind, Path(quarantined.path).stem) == ("manifest", sid)
    assert field in quarantined.reason
    assert report.days[0].snapshots == 47
