"""Collecting a simulated period: the simulator in this process, the collector on its clock.

The simulator's clock is set to each grid time in turn and flows at `speed` during each
snapshot, so the rate limit is honoured on simulated time while a day is collected in
minutes. The chat listener shares that clock: after each snapshot the clock stands still
while it joins the new listing (its pacing waits move the standing clock, exactly as Twitch's
join limit allows), then the clock jumps to the next grid time; the simulator delivers the
jump's messages and the next snapshot closes the window with the simulator's PING barrier,
so every window is exact on any machine. Snapshots already in the lake are kept (raw files
are never rewritten), so a second run resumes. Used by `streamcensus demo` and by the
benchmarks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from streamcensus.clock import SimClock
from streamcensus.collect.session import CollectSession, open_collector
from streamcensus.collect.snapshot import summary_line
from streamcensus.config import Settings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import (
    CHAT_ACTIVITY,
    CHAT_COVERAGE,
    CHAT_STATUSES,
    KINDS,
    MANIFEST,
    raw_day_key,
    raw_key,
    snapshot_id,
)
from streamcensus.lake.storage import LakeStorage, as_storage
from streamcensus.lake.stores import open_lake
from streamcensus.simulator.permissions import Permissions
from streamcensus.simulator.server import running_simulator
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import grid_times

log = logging.getLogger("streamcensus.collect")

DEFAULT_SPEED = 120.0  # simulated seconds per real second during a snapshot
SETTLE_TIMEOUT = 600.0  # real seconds for the chat listener to join a listing


@dataclass
class CollectionReport:
    """What the lake holds for the demo's days, and what this run added."""

    collected: int = 0
    skipped_existing: int = 0
    snapshots_complete: int = 0
    snapshots_partial: int = 0
    channels: int = 0
    presence_observations: int = 0
    raw_bytes: int = 0
    chatters_bytes: int = 0
    wall_seconds: float = 0.0
    token_refreshes: int = 0
    token_validations: int = 0
    chat_lists_by_ground: dict[str, int] = field(default_factory=dict)
    follower_readings: int = 0
    activity_observations: int = 0  # (account, channel, window) rows of chat activity
    chat_messages: int = 0
    activity_bytes: int = 0  # chat_activity files
    coverage_bytes: int = 0  # chat_coverage files
    chat_windows: dict[str, int] = field(default_factory=dict)  # snapshots by chat_status
    chat_channel_windows: dict[str, int] = field(default_factory=dict)  # coverage by status

    def per_observation(self, size: int) -> float:
        return size / self.presence_observations if self.presence_observations else 0.0

    def per_activity_observation(self) -> float:
        if not self.activity_observations:
            return 0.0
        return self.activity_bytes / self.activity_observations

    def lines(self) -> list[str]:
        chat = self.activity_bytes + self.coverage_bytes  # not chat-list presence
        return [
            f"snapshots         {self.snapshots_complete:,} complete, "
            f"{self.snapshots_partial:,} partial "
            f"({self.collected:,} collected now, {self.skipped_existing:,} already in the lake)",
            f"channels seen     {self.channels:,}",
            f"presence obs.     {self.presence_observations:,}",
            f"raw lake bytes    {self.raw_bytes:,}",
            f"bytes/observation {self.per_observation(self.chatters_bytes):.2f} in chatters files, "
            f"{self.per_observation(self.raw_bytes - chat):.2f} with stream facts and "
            "manifests",
            f"user tokens       {self.token_refreshes:,} refreshes, "
            f"{self.token_validations:,} validations (device code flow, hourly validation)",
            "chat lists read   "
            + (
                ", ".join(f"{n:,} by {g}" for g, n in sorted(self.chat_lists_by_ground.items()))
                or "none"
            ),
            f"follower totals   {self.follower_readings:,} (hourly)",
            f"chat activity     {self.activity_observations:,} observations (account × channel "
            f"× window), {self.chat_messages:,} messages, "
            f"{self.per_activity_observation():.2f} B/observation in chat_activity files "
            f"({self.coverage_bytes:,} B of chat_coverage)",
            "chat windows      "
            + (", ".join(f"{n:,} {s}" for s, n in sorted(self.chat_windows.items())) or "none")
            + " (snapshots); channel windows "
            + (
                ", ".join(f"{n:,} {s}" for s, n in sorted(self.chat_channel_windows.items()))
                or "none"
            ),
            f"wall time         {self.wall_seconds:.1f} s",
        ]


def _add_chat(report: CollectionReport, record: ManifestRecord) -> None:
    """Count a manifest's chat window into `report`."""
    if not record.chat_status:
        return
    report.activity_observations += record.activity_observations
    report.chat_messages += record.chat_messages
    windows = report.chat_windows
    windows[record.chat_status] = windows.get(record.chat_status, 0) + 1
    for status in CHAT_STATUSES:
        n = getattr(record, f"chat_channels_{status}")
        if n:
            channels = report.chat_channel_windows
            channels[status] = channels.get(status, 0) + n


def summarise_lake(lake: LakeStorage | Path, days: list[dt.date], report: CollectionReport) -> None:
    """Fill `report` from the manifests and files of `days` (what the lake holds, not memory)."""
    storage = as_storage(lake)
    channels: set[str] = set()
    for day in days:
        for kind in KINDS:
            entries = storage.list_files(raw_day_key(kind, day))
            size = sum(e.size for e in entries)
            report.raw_bytes += size
            if kind == "chatters":
                report.chatters_bytes += size
            if kind == CHAT_ACTIVITY.name:
                report.activity_bytes += size
            if kind == CHAT_COVERAGE.name:
                report.coverage_bytes += size
            if kind not in ("streams", MANIFEST):
                continue
            for data in storage.read_many([e.key for e in entries]).values():
                if isinstance(data, OSError):
                    continue
                if kind == "streams":
                    table = pq.read_table(pa.BufferReader(data), columns=["channel_id"])
                    channels.update(table.column("channel_id").to_pylist())
                    continue
                record = ManifestRecord.from_bytes(data)
                report.snapshots_complete += record.status == "complete"
                report.snapshots_partial += record.status == "partial"
                report.presence_observations += record.presence_observations
                report.token_refreshes += record.token_refreshes
                report.token_validations += record.token_validations
                report.follower_readings += record.followers_channels
                for ground in record.chat_list_grounds.values():
                    grounds = report.chat_lists_by_ground
                    grounds[ground] = grounds.get(ground, 0) + 1
                _add_chat(report, record)
    report.channels = len(channels)


async def collect_grid_time(
    session: CollectSession, clock: SimClock, grid_time: dt.datetime, speed: float
) -> ManifestRecord:
    """One snapshot as the demo takes it, on the simulator's own clock (`clock`).

    The clock jumps to `grid_time` (the simulator delivers the chat of the jump) and flows
    at `speed` while the snapshot is taken; then it stands still while the chat listener
    joins the new listing, its pacing waits moving the standing clock.
    """
    if clock.time() < grid_time.timestamp():
        clock.set(grid_time, speed=speed)
    else:
        clock.set_speed(speed)
    record = await session.collector.collect(grid_time)
    clock.set_speed(0)
    if session.chat is not None and not await session.chat.settled(SETTLE_TIMEOUT):
        log.warning("chat: the listing of %s was not joined in time", record.snapshot_id)
    log.info(summary_line(record))
    return record


async def collect_times(
    settings: Settings,
    world_scale: str,
    seed: int,
    times: list[dt.datetime],
    speed: float,
    on_record: Callable[[ManifestRecord | None], None],
    permissions: Permissions | None = None,
) -> None:
    """Collect each grid time of `times` from an in-process simulator; `on_record` gets
    each record (None for a grid time already in the lake). The collector obtains its user
    tokens by the device code flow, approved by the simulated operator and broadcasters."""
    world = PopulationWorld(scale=world_scale, seed=seed, permissions=permissions)
    clock = SimClock(times[0], speed=0)
    with running_simulator(world, clock) as handle:
        async with open_collector(
            settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=clock
        ) as session:
            for grid_time in times:
                if session.collector.writer.storage.exists(
                    raw_key(MANIFEST, snapshot_id(grid_time))
                ):
                    on_record(None)
                    continue
                on_record(await collect_grid_time(session, clock, grid_time, speed))


def collect_simulated(
    settings: Settings,
    *,
    first_day: dt.date,
    hours: float,
    scale: str,
    seed: int,
    speed: float = DEFAULT_SPEED,
    on_record: Callable[[ManifestRecord | None], None] | None = None,
    permissions: Permissions | None = None,
) -> CollectionReport:
    """Simulate and collect `hours` from midnight of `first_day`; summarise the lake.

    `permissions` defaults to the realistic ones; the benchmarks pass the load-test mode.
    """
    times = grid_times(first_day, hours)
    report = CollectionReport()
    began = time.monotonic()

    def count(record: ManifestRecord | None) -> None:
        if record is None:
            report.skipped_existing += 1
        else:
            report.collected += 1
        if on_record is not None:
            on_record(record)

    asyncio.run(collect_times(settings, scale, seed, times, speed, count, permissions))
    report.wall_seconds = time.monotonic() - began
    summarise_lake(open_lake(settings), sorted({t.date() for t in times}), report)
    return report
