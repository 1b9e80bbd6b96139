"""Chat faults seen from the snapshot: the stream facts always land, coverage says what the
chat missed, the manifest counts it.

The simulator runs in this process over HTTP and IRC on 127.0.0.1 with a standing clock
that the test sets to each grid time (the listener's pacing waits move it, as in the demo),
so each window is exact whatever the machine's speed.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from collect.chatlake import coverage, manifest
from streamcensus.collect.session import CollectSession, open_collector
from streamcensus.collect.simulated import collect_grid_time
from streamcensus.config import Settings, load_settings
from streamcensus.lake.manifest import CHAT_ACTIVITY, ManifestRecord
from streamcensus.lake.schema import raw_path
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.timeutil import GRID_SECONDS

EVENING = dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC)
SPEED = 120.0


def _settings(tmp_path: Path) -> Settings:
    return load_settings(overrides={"data_dir": tmp_path, "top_n": 30}, environ={})


def _grid(n: int) -> list[dt.datetime]:
    return [EVENING + dt.timedelta(seconds=GRID_SECONDS * i) for i in range(n)]


def _stream_facts_landed(settings: Settings, record: ManifestRecord) -> None:
    """The snapshot's stream facts are all there, whatever the chat did."""
    streams = pq.read_table(raw_path(settings.lake_dir, "streams", record.snapshot_id))
    assert streams.num_rows == record.channels_listed == 30
    assert record.channels_failed == 0
    rows = coverage(settings.lake_dir, record.snapshot_id)
    assert set(streams.column("channel_id").to_pylist()) <= set(rows)


async def test_a_dropped_chat_connection_is_marked_and_the_snapshot_lands(
    tmp_path: Path,
    running_simulator: Callable[..., SimulatorHandle],
    realistic_world: World,
) -> None:
    sim = running_simulator(realistic_world, start=EVENING.timestamp())
    settings = _settings(tmp_path)
    records: list[ManifestRecord] = []
    async with open_collector(
        settings, helix_url=sim.helix_url, auth_url=sim.auth_url, clock=sim.clock
    ) as session:
        assert session.chat is not None
        times = _grid(6)
        for moment in times[:3]:
            records.append(await collect_grid_time(session, sim.clock, moment, SPEED))
        victim = next(iter(session.chat.joined()))
        rule = {"path": f"/chat/message/{victim}", "fault": "irc_reset", "skip": 3, "count": 1}
        answer = httpx.post(f"{sim.base_url}/_sim/faults", json={"seed": 5, "rules": [rule]})
        assert answer.status_code == 200, answer.text
        for moment in times[3:]:
            records.append(await collect_grid_time(session, sim.clock, moment, SPEED))
    assert [r.chat_status for r in records[:3]] == ["not listening", "complete", "complete"]
    hit = records[3]
    assert hit.status == hit.chat_status == "partial"
    assert hit.chat_counters["dropped"] == 1
    gaps = {m["channel_id"]: m["reason"] for m in hit.missing if m["what"] == CHAT_ACTIVITY}
    assert gaps and None not in gaps  # channel by channel: only those of the connection
    assert [m for m in hit.missing if m["what"] != CHAT_ACTIVITY] == []
    rows = coverage(settings.lake_dir, hit.snapshot_id)
    for channel_id, reason in gaps.items():
        assert rows[channel_id]["status"] == "partial", reason
        assert 0 < rows[channel_id]["seconds_joined"] < GRID_SECONDS
    assert hit.chat_channels_partial >= len(gaps)
    for record in records:
        _stream_facts_landed(settings, record)
    assert records[-1].chat_status == "complete"  # rejoined: whole windows again


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connections are refused


async def _take(session: CollectSession, sim: SimulatorHandle, moment: dt.datetime) -> None:
    if sim.clock.time() < moment.timestamp():
        sim.clock.set(moment)
    await session.collector.collect(moment)


async def test_a_chat_server_that_is_down_loses_no_stream_fact(
    tmp_path: Path,
    running_simulator: Callable[..., SimulatorHandle],
    realistic_world: World,
) -> None:
    sim = running_simulator(realistic_world, start=EVENING.timestamp())
    settings = _settings(tmp_path)
    url = f"irc://127.0.0.1:{_closed_port()}"
    async with open_collector(
        settings, helix_url=sim.helix_url, auth_url=sim.auth_url, clock=sim.clock, chat_url=url
    ) as session:
        for moment in _grid(3):
            await _take(session, sim, moment)
        assert session.chat is not None and session.chat.counters.connection_failures > 0
    first, second, third = (manifest(settings.lake_dir, f"20261126T20{m:02d}Z") for m in (0, 5, 10))
    assert first.chat_status == "not listening"
    # listed at 20:00 exactly: joined from then on at best, not owed the 20:00-20:05 window
    assert second.chat_status == "complete"
    assert second.chat_channels_not_joined == len(coverage(settings.lake_dir, second.snapshot_id))
    assert third.status == third.chat_status == "partial"
    (gap,) = [m for m in third.missing if m["what"] == CHAT_ACTIVITY]
    assert gap["channel_id"] is None
    assert re.match(r"none of the \d+ channels listed throughout the window", gap["reason"])
    assert "refused" in gap["reason"].lower()  # why: the chat server's answer
    assert third.chat_source == url and third.activity_observations == 0
    rows = coverage(settings.lake_dir, third.snapshot_id)
    assert third.chat_channels_not_joined == len(rows) >= 30  # listed then, or before
    assert {r["status"] for r in rows.values()} == {"not_joined"}
    for record in (first, second, third):
        _stream_facts_landed(settings, record)
        assert record.chat_counters.get("messages", 0) == 0
