"""Chat activity collected with the snapshots, end to end: lake files equal the truth, load.

An hour at `small` is collected as the demo collects it (`collect_simulated`: the simulator
in this process, its clock driven grid time by grid time, windows closed with its PING
barrier). Every window of the lake is then compared with the simulator's ground truth, and
the day is loaded into the warehouse and retired by retention.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import pyarrow.parquet as pq
import pytest

from collect.chatlake import coverage, manifest, tallies, truth, window_of
from streamcensus.clock import SimClock
from streamcensus.collect.simulated import CollectionReport, collect_simulated
from streamcensus.config import Settings, load_settings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import (
    CHAT_ACTIVITY_SCHEMA,
    CHAT_COVERAGE_SCHEMA,
    CHAT_STATUSES,
    DATA_KINDS,
    raw_day_dir,
    raw_path,
    snapshot_id,
)
from streamcensus.load.loader import load_days
from streamcensus.simulator.names import SERVICE_BOTS
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.timeutil import GRID_SECONDS, day_start, grid_times

DAY = dt.date(2026, 11, 26)
HOURS = 1.0


@pytest.fixture(scope="module")
def hour(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, CollectionReport]:
    """The first hour of DAY collected at `small` with the default settings, every service
    bot of the simulator known by name (the default list leaves two out, as a real one
    would), so bot posters can be compared with the truth."""
    data_dir = tmp_path_factory.mktemp("hour")
    bots = [login for login, _, _ in SERVICE_BOTS]
    settings = load_settings(overrides={"data_dir": data_dir, "known_bots": bots}, environ={})
    report = collect_simulated(settings, first_day=DAY, hours=HOURS, scale="small", seed=42)
    return settings, report


def _ids() -> list[str]:
    return [snapshot_id(t) for t in grid_times(DAY, HOURS)]


def test_the_kinds_are_registered_once() -> None:
    from streamcensus.collect.chat import ACTIVITY_SCHEMA, COVERAGE_SCHEMA, COVERAGE_STATUSES

    assert DATA_KINDS["chat_activity"].schema is CHAT_ACTIVITY_SCHEMA is ACTIVITY_SCHEMA
    assert DATA_KINDS["chat_coverage"].schema is CHAT_COVERAGE_SCHEMA is COVERAGE_SCHEMA
    assert DATA_KINDS["chat_activity"].presence  # pseudonyms: retention applies (P2)
    assert not DATA_KINDS["chat_coverage"].presence
    assert COVERAGE_STATUSES == CHAT_STATUSES
    for status in CHAT_STATUSES:  # one manifest count per coverage status
        assert f"chat_channels_{status}" in ManifestRecord.model_fields


def test_every_window_of_the_lake_equals_the_truth(
    hour: tuple[Settings, CollectionReport],
    running_simulator: Callable[..., SimulatorHandle],
    realistic_world: World,
) -> None:
    settings, report = hour
    lake = settings.lake_dir
    assert report.collected == 12 and report.snapshots_partial == 0
    sim = running_simulator(realistic_world, start=day_start(DAY).timestamp())
    first, *rest = _ids()
    opening = manifest(lake, first)
    # no listener before it: nothing owed, not a fault (the coverage says not_joined)
    assert opening.chat_status == "not listening" and opening.status == "complete"
    assert opening.missing == []
    opening_rows = coverage(lake, first)  # every listed channel, none read
    assert len(opening_rows) == opening.channels_listed > 10
    assert {(r["status"], r["seconds_joined"]) for r in opening_rows.values()} == {
        ("not_joined", 0.0)
    }
    assert pq.read_table(raw_path(lake, "chat_activity", first)).num_rows == 0
    checked = {"complete": 0, "partial": 0, "messages": 0}
    # messages read between two snapshots (counters) may belong to the next window: only
    # the totals compare (every message of a closed window was read before it closed)
    received = kept = 0
    for sid in rest:
        record = manifest(lake, sid)
        assert record.status == record.chat_status == "complete", record.missing
        start, end = window_of(sid, lake)
        rows = coverage(lake, sid)
        streams = pq.read_table(raw_path(lake, "streams", sid)).column("channel_id").to_pylist()
        assert set(streams) <= set(rows)  # every listed channel has a coverage row
        got = tallies(lake, sid)
        assert set(got) <= set(rows)
        expected = truth(sim.base_url, sorted(rows), start, end)
        for channel_id, row in rows.items():
            mine = got.get(channel_id, (0, 0, 0, 0))
            seconds = row["seconds_joined"]
            if row["status"] == "complete":
                assert seconds == GRID_SECONDS
                assert mine == expected[channel_id], channel_id
                checked["complete"] += 1
                checked["messages"] += mine[1]
            elif row["status"] == "partial":
                # joined late (listed during the window) or parted early (went offline);
                # message times are whole milliseconds: half of one settles the boundary
                assert 0 < seconds < GRID_SECONDS
                joined = dt.timedelta(seconds=seconds + 0.0005)
                late = truth(sim.base_url, [channel_id], end - joined, end)
                early = truth(sim.base_url, [channel_id], start, start + joined)
                assert mine in (late[channel_id], early[channel_id]), (channel_id, seconds)
                checked["partial"] += 1
            else:
                assert row["status"] == "not_joined" and seconds == 0
                assert channel_id not in got
        statuses = [r["status"] for r in rows.values()]
        for status in CHAT_STATUSES:
            assert getattr(record, f"chat_channels_{status}") == statuses.count(status)
        assert record.activity_observations == sum(t[0] for t in got.values())
        assert record.chat_messages == sum(t[1] for t in got.values())
        received += record.chat_counters["messages"]
        kept += record.chat_messages
    assert received >= kept > 0
    assert checked["complete"] > 100 and checked["messages"] > 1000
    assert checked["partial"] > 0  # channels listed during a window: joined from then on
    assert report.activity_observations > 500 and report.chat_windows == {
        "complete": 11,
        "not listening": 1,
    }


def test_both_kinds_reach_the_warehouse(hour: tuple[Settings, CollectionReport]) -> None:
    settings, report = hour
    lake = settings.lake_dir
    load_days(settings, [DAY], clock=SimClock(day_start(DAY) + dt.timedelta(days=1), speed=0))
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        files = dict(
            con.execute(
                "select kind, sum(rows) from loaded_files"
                " where kind in ('chat_activity', 'chat_coverage') group by kind"
            ).fetchall()
        )
        coverage_rows = con.execute(
            "select count(*), count(distinct snapshot_id) from raw_chat_coverage"
        ).fetchall()
        columns = {r[0] for r in con.execute("describe raw_chat_coverage").fetchall()}
        manifests = con.execute(
            "select sum(activity_observations), count(*) filter (where chat_status = 'complete')"
            " from raw_manifests"
        ).fetchall()
    finally:
        con.close()
    on_disk = sum(pq.read_table(raw_path(lake, "chat_coverage", s)).num_rows for s in _ids())
    assert files == {"chat_activity": report.activity_observations, "chat_coverage": on_disk}
    assert coverage_rows == [(on_disk, 12)]
    assert set(CHAT_COVERAGE_SCHEMA.names) | {"day", "slot"} == columns
    assert manifests == [(report.activity_observations, 11)]


def test_retention_deletes_chat_activity(hour: tuple[Settings, CollectionReport]) -> None:
    settings, _ = hour
    lake = settings.lake_dir
    assert raw_day_dir(lake, "chat_activity", DAY).exists()
    later = SimClock(day_start(DAY) + dt.timedelta(days=settings.retention_days + 2), speed=0)
    report = load_days(settings, [], clock=later)
    assert report.retention is not None and DAY in report.retention.days
    assert not raw_day_dir(lake, "chat_activity", DAY).exists()  # pseudonyms (P2)
    assert raw_day_dir(lake, "chat_coverage", DAY).exists()  # no viewer in coverage
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        retired = con.execute(
            "select kind, bool_and(retired) from loaded_files group by kind order by kind"
        ).fetchall()
    finally:
        con.close()
    assert dict(retired) == {
        "chat_activity": True,
        "chat_coverage": False,
        "chatters": True,
        "followers": False,
        "manifest": False,
        "streams": False,
    }
