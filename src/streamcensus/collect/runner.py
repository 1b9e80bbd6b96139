"""Snapshots on the grid: one now, or one every interval until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import signal
from collections.abc import Callable

from streamcensus.collect.session import CollectSession
from streamcensus.collect.snapshot import summary_line
from streamcensus.errors import UserError
from streamcensus.lake.manifest import CHAT_ACTIVITY, LakeError, ManifestRecord
from streamcensus.lake.schema import snapshot_id
from streamcensus.timeutil import GRID_SECONDS, floor_to_grid, next_grid

log = logging.getLogger("streamcensus.collect")

_DURATION = re.compile(r"^\s*(\d+)\s*([smh]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_interval(text: str) -> int:
    """`5m`, `300s` or `300` → 300: the census runs on the 5-minute grid.

    The warehouse's models count one snapshot as five minutes of airtime and viewing, so
    another interval would give wrong figures; it is refused here rather than loaded.
    """
    match = _DURATION.match(text.lower())
    if not match:
        raise UserError(f"not an interval: {text!r} (use 5m)")
    seconds = int(match.group(1)) * _UNIT[match.group(2)]
    if seconds != GRID_SECONDS:
        raise UserError(f"interval {text!r} is not supported: the census runs every 5m")
    return seconds


def _check_new(session: CollectSession, grid_time: dt.datetime) -> None:
    """Refuse a grid time that has any raw file: raw files are never rewritten.

    Data files without a manifest are what a killed collector leaves; they stay as they
    are (reported as orphaned by `status`) and the next grid time is collected instead.
    """
    sid = snapshot_id(grid_time)
    if session.collector.writer.has_snapshot(sid):
        raise UserError(
            f"snapshot {sid} is already in the lake; "
            "raw files are never rewritten (wait for the next grid time)"
        )


async def collect_once(session: CollectSession, interval: int = 300) -> ManifestRecord:
    """The snapshot of the current grid time (the grid time at or before now).

    Its chat window is recorded as not listened to: no listener ran before that grid time.
    """
    await session.sync_clock()
    grid_time = floor_to_grid(session.collector.clock.now(), interval)
    _check_new(session, grid_time)
    record = await session.collector.collect(grid_time)
    log.info(summary_line(record))
    # the listing failed (stream facts missing); a single snapshot never has its chat window
    listing = [m for m in record.missing if m["channel_id"] is None and m["what"] != CHAT_ACTIVITY]
    if listing:
        raise UserError(
            f"snapshot {record.snapshot_id} written as partial: {listing[0]['what']} failed "
            f"({listing[0]['reason']})"
        )
    return record


async def _collect_or_log(session: CollectSession, grid_time: dt.datetime) -> ManifestRecord | None:
    """One snapshot of the loop; a grid time already in the lake or a failed write is logged
    and skipped, so a long-running collector goes on."""
    try:
        _check_new(session, grid_time)
        record = await session.collector.collect(grid_time)
    except UserError as exc:
        log.warning("%s; skipped", exc)
        return None
    except (LakeError, OSError) as exc:
        log.error("snapshot %s could not be written: %s", snapshot_id(grid_time), exc)
        return None
    log.info(summary_line(record))
    return record


async def collect_every(
    session: CollectSession,
    interval: int,
    *,
    stop: asyncio.Event | None = None,
    max_snapshots: int | None = None,
    on_record: Callable[[ManifestRecord], None] | None = None,
) -> int:
    """Collect at each grid time until `stop` is set (or SIGINT/SIGTERM); return the count.

    A stop signal during the wait ends at once; during a snapshot, the snapshot finishes
    first (its files are written atomically either way). Grid times missed because a
    snapshot overran are logged and skipped, never collected late.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    clock = session.collector.clock
    count = 0
    try:
        await session.sync_clock()
        grid_time = next_grid(clock.now(), interval)
        while not stop.is_set() and (max_snapshots is None or count < max_snapshots):
            wait = (grid_time - clock.now()).total_seconds()
            if wait > 0:
                sleeper = asyncio.ensure_future(clock.sleep(wait))
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
                for task in (sleeper, stopper):
                    task.cancel()
                if stop.is_set():
                    break
            await session.sync_clock()
            record = await _collect_or_log(session, grid_time)
            if record is not None:
                count += 1
                if on_record is not None:
                    on_record(record)
            following = next_grid(clock.now(), interval)
            skipped = int((following - grid_time).total_seconds() // interval) - 1
            if skipped > 0:
                log.warning(
                    "snapshot %s overran: skipped %d grid time(s)", snapshot_id(grid_time), skipped
                )
            grid_time = following
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    log.info("collector stopped after %d snapshot(s)", count)
    return count
