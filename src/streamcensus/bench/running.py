"""The collector as a user runs it: realistic permissions, chat activity on, a running clock.

The simulator child's clock never stops (as Twitch's does not): the collector's clock
mirrors it, its chat listener reads every listed channel anonymously, and each snapshot is
taken when its grid time comes, as `streamcensus collect --every 5m` takes it. Before the
measured snapshots, two lead snapshots run: the first (at the suite's grid time, clock at
`LEAD_SPEED`) lists the community (the listener joins it, within the join rate limit), the
second, at the first grid time after the joins (reached at `CATCH_UP_SPEED`), closes the
window they ended in; from then on the clock runs at `speed`, and every measured snapshot
closes a window the listener read in full. (The join's simulated time at `LEAD_SPEED` includes real
latencies times that speed: the `chat` suite measures it against its floor at x1.)

CPU: the collector's Helix snapshot and its chat listener share one event loop, so the
process's CPU is measured, and split: between two snapshots only the listener works (its
CPU per real second is measured there); a snapshot's Helix part is its CPU minus the
listener's rate over the snapshot's duration. `interval_cpu_s` is everything the process
did for one 5-minute interval (from one snapshot's end to the next one's end).

Chat against the truth: each window's stored activity (posters and messages per channel)
is compared with the simulator's ground truth of the messages it sent
(`/_sim/truth/chat_activity`): the messages received against the messages sent, over the
channels read for the whole window.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq

from streamcensus.bench.measure import peak_rss_bytes, reset_peak_rss, rss_bytes, to_mb
from streamcensus.bench.simproc import SimulatorError, SimulatorProcess
from streamcensus.bench.snapshots import CLIENT_ID, bench_settings, record_figures
from streamcensus.collect.chat import join_floor
from streamcensus.collect.session import CollectSession, open_collector
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import CHAT_COMPLETE
from streamcensus.timeutil import GRID_SECONDS, isoformat_z, to_epoch

LEAD_SPEED = 10.0  # simulated seconds per real second while the listener joins
CATCH_UP_SPEED = 60.0  # from the end of the joins to the window that closes them
WARM_AHEAD = 3.0  # real seconds before a grid time when its tick is computed
JOIN_TIMEOUT = 900.0  # real seconds
INTERVAL = dt.timedelta(seconds=GRID_SECONDS)


async def _until(session: CollectSession, moment: dt.datetime) -> None:
    """Sleep (real time) until the collector's clock reaches `moment`."""
    assert session.mirror is not None
    target = to_epoch(moment)
    while True:
        left = target - session.mirror.time()
        if left <= 0:
            return
        speed = session.mirror.speed or 1.0
        await asyncio.sleep(min(1.0, left / speed))


async def _warm_then_wait(
    session: CollectSession, sim: SimulatorProcess, moment: dt.datetime
) -> None:
    """Have the simulator compute the tick of `moment` just before it comes (real Twitch has
    no such step; the clock keeps running, so it is done ahead), then wait for it."""
    assert session.mirror is not None
    speed = session.mirror.speed or 1.0
    await _until(session, moment - dt.timedelta(seconds=WARM_AHEAD * speed))
    await asyncio.to_thread(sim.warm, moment)
    await _until(session, moment)


def truth_window(
    sim: SimulatorProcess, channel_ids: list[str], end: dt.datetime
) -> dict[str, tuple[int, int]]:
    """Channel id -> (posters, messages) the simulator sent in the window ending at `end`."""
    if not channel_ids:
        return {}
    start = end - INTERVAL
    response = httpx.get(
        f"{sim.base_url}/_sim/truth/chat_activity",
        params={
            "channel": ",".join(channel_ids),
            "start": start.timestamp(),
            "end": end.timestamp(),
        },
        timeout=300,
    )
    response.raise_for_status()
    return {
        str(r["channel_id"]): (int(r["posters"]), int(r["messages"]))
        for r in response.json()["channels"]
    }


def chat_figures(sim: SimulatorProcess, lake_dir: Path, record: ManifestRecord) -> dict[str, Any]:
    """A snapshot's chat window: what was stored, its bytes, and the truth of what was sent."""
    files = record.files
    if "chat_activity" not in files:
        return {"chat_status": record.chat_status}
    activity = pq.read_table(lake_dir / files["chat_activity"]["path"])
    coverage = pq.read_table(lake_dir / files["chat_coverage"]["path"]).to_pylist()
    posters: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    for channel_id, count in zip(
        activity.column("channel_id").to_pylist(),
        activity.column("messages").to_pylist(),
        strict=True,
    ):
        posters[channel_id] += 1
        messages[channel_id] += count
    complete = [r["channel_id"] for r in coverage if r["status"] == CHAT_COMPLETE]
    truth = truth_window(sim, complete, record.grid_time)
    sent = sum(m for _, m in truth.values())
    received = sum(messages[c] for c in complete)
    rows = activity.num_rows
    activity_bytes = int(files["chat_activity"]["bytes"])
    return {
        "chat_status": record.chat_status,
        "channels_complete": len(complete),
        "channels_equal_truth": sum(
            (posters[c], messages[c]) == truth.get(c, (0, 0)) for c in complete
        ),
        "messages_received": received,
        "messages_sent": sent,
        "received_over_sent": round(received / sent, 6) if sent else None,
        "activity_observations": rows,
        "activity_bytes": activity_bytes,
        "coverage_bytes": int(files["chat_coverage"]["bytes"]),
        "activity_bytes_per_obs": round(activity_bytes / rows, 3) if rows else None,
    }


async def _lead(
    session: CollectSession, sim: SimulatorProcess, first: dt.datetime
) -> tuple[dict[str, Any], dt.datetime]:
    """The lead snapshots: list the community at `first`, join it, then close the window
    the joins ended in (at the first grid time after them); return the join figures and
    that grid time."""
    chat = session.chat
    assert chat is not None and session.mirror is not None
    await session.collector.collect(first)  # its listing starts the listener's joins
    t0 = session.mirror.time()
    wanted = len(chat.channels)
    settled = await chat.settled(JOIN_TIMEOUT)
    joined = chat.joined()
    join_s = max(joined.values()) - t0 if joined else None
    floor = join_floor(wanted, chat.limits)
    done = session.mirror.time()
    closing = first + INTERVAL * (math.floor((done - to_epoch(first)) / GRID_SECONDS) + 1)
    sim.set_clock(speed=CATCH_UP_SPEED)  # nothing is measured until `closing`
    await session.sync_clock()
    await _warm_then_wait(session, sim, closing)
    await session.collector.collect(closing)
    figures = {
        "channels": wanted,
        "joined": len(joined),
        "settled": settled,
        "connections": len(chat.connections),
        "clock_speed": LEAD_SPEED,
        "join_s": round(join_s, 3) if join_s is not None else None,
        "floor_s": floor,
        "join_over_floor": round(join_s / floor, 4) if join_s and floor else None,
        "window_closed_at": isoformat_z(closing),
    }
    return figures, closing


async def running_series(
    sim: SimulatorProcess,
    data_dir: Path,
    grid: dt.datetime,
    count: int,
    speed: float,
    client_id: str = CLIENT_ID,
) -> dict[str, Any]:
    """`count` snapshots, one every 5 minutes after the lead snapshots (at `grid`, and at
    the first grid time after the listener joined), with chat on and the clock running.

    The clock only moves forward from `grid` (the simulated chat never delivers a message
    twice, so a clock set back delivers nothing until it is past where it was)."""
    first = grid
    sim.set_clock(first, speed=0)
    sim.warm(first)
    sim.set_clock(speed=LEAD_SPEED)  # the session sees a running clock: its listener starts
    settings = bench_settings(data_dir, client_id, chat=True)
    runs: list[dict[str, Any]] = []
    records: list[ManifestRecord] = []
    async with open_collector(settings, helix_url=sim.helix_url, auth_url=sim.auth_url) as session:
        if session.chat is None:
            raise SimulatorError("the collector's chat listener did not start")
        join, closing = await _lead(session, sim, first)
        sim.set_clock(speed=speed)
        await session.sync_clock()
        lake_dir = Path(session.collector.writer.lake_dir)  # the benchmarks' lake is local
        cpu_mark, real_mark = time.process_time(), time.perf_counter()
        for i in range(count):
            moment = closing + (1 + i) * INTERVAL
            await _warm_then_wait(session, sim, moment)
            between_cpu = time.process_time() - cpu_mark
            between_real = time.perf_counter() - real_mark
            reset_peak_rss()
            cpu0, real0 = time.process_time(), time.perf_counter()
            record = await session.collector.collect(moment)
            cpu, real = time.process_time() - cpu0, time.perf_counter() - real0
            cpu_mark, real_mark = time.process_time(), time.perf_counter()
            rate = between_cpu / between_real if between_real > 0 else 0.0
            helix = max(0.0, cpu - rate * real)
            interval = between_cpu + cpu
            runs.append(
                {
                    **record_figures(session, record),
                    "real_s": real,
                    "cpu_s": cpu,  # the process during the snapshot: Helix + listener
                    "helix_cpu_s": helix,
                    "listener_cpu_s": interval - helix,
                    "listener_cpu_share": rate,  # CPU seconds per real second, between snapshots
                    "interval_cpu_s": interval,
                    "interval_real_s": between_real + real,
                    "cpu_share_of_interval": interval / GRID_SECONDS,
                    "peak_rss_mb": to_mb(peak_rss_bytes()),
                    "rss_after_mb": to_mb(rss_bytes()),
                }
            )
            records.append(record)
    sim.set_clock(speed=0)
    for run, record in zip(runs, records, strict=True):  # after the timing: not in its CPU
        run.update(chat_figures(sim, lake_dir, record))
    return {
        "speed": speed,
        "lead_speed": LEAD_SPEED,
        "first_listing": isoformat_z(first),
        "join": join,
        "runs": runs,
    }
