"""Suite `chat`, listener side: the collector's chat listener against the simulator child.

The listener (`collect.chat.ChatListener`, default limits) runs in this process on a
`ChildClock` that mirrors the child's clock (a pacing wait on the standing clock advances
the child's clock too, as a `SimClock` shared in process does); the child's chat is the
server. Measured:
- join: every live channel of the language is listed at once with the clock at x1; the
  time from `set_channels` to the last JOIN echo, in simulated seconds, against
  `join_floor` (the least time Twitch's limits allow), and the server's join-limit drops;
- real time: the clock runs at x1 for `seconds`; the listener's CPU seconds per simulated
  minute, the messages it read per second and its RSS;
- jumps: the clock jumps to the next grid time, as the demo drives it, and the window is
  closed with the simulator's barrier; messages, CPU per jump and per message, peak RSS and
  the RSS after each jump (flat memory), and the last full window against the truth;
- bytes: the last full window's activity table written as the raw lake writes its files
  (zstd-3 Parquet, PLAIN pseudonyms, with the snapshot's id and time as columns), per
  activity observation (one account that posted in one chat in one window);
- parsing: the hand-written PRIVMSG reader against irctokens on the same rendered lines.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa

from streamcensus.bench.measure import peak_rss_bytes, reset_peak_rss, rss_bytes, summary, to_mb
from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.clock import SimClock
from streamcensus.collect.chat import ChatChannel, ChatLimits, ChatListener, join_floor
from streamcensus.collect.chat.lines import privmsg, tag_value, tokenise
from streamcensus.config import Settings
from streamcensus.keys import KeyStore
from streamcensus.lake.schema import snapshot_id
from streamcensus.lake.writer import encode_parquet
from streamcensus.timeutil import GRID_SECONDS, from_epoch, isoformat_z

REALTIME_SECONDS = {"small": 20.0, "fr": 60.0}
JOIN_TIMEOUT = 900.0  # real seconds; the fr join takes about a minute at x1
PARSE_LINES = 60_000


class ChildClock:
    """The simulator child's clock, mirrored in this process.

    Reading it costs nothing (a local `SimClock` set from the child's answers). A wait on it
    while the clock stands still advances the child's clock as well, so the listener's
    pacing and the server's join limit keep measuring the same simulated time.
    """

    def __init__(self, sim: SimulatorProcess) -> None:
        self.sim = sim
        self.mirror = SimClock(sim.clock_epoch(), speed=0.0)

    def time(self) -> float:
        return self.mirror.time()

    def now(self) -> dt.datetime:
        return self.mirror.now()

    async def sleep(self, seconds: float) -> None:
        if self.mirror.speed > 0 or seconds <= 0:
            await self.mirror.sleep(seconds)
            return
        moment = from_epoch(self.mirror.time() + seconds)
        epoch = await asyncio.to_thread(self.sim.set_clock, moment, 0.0)
        self.mirror.set(epoch, speed=0.0)

    def set(self, moment: dt.datetime | None = None, speed: float = 0.0) -> None:
        """Set the child's clock (and this mirror): jump to `moment` and/or change speed."""
        epoch = self.sim.set_clock(moment, speed=speed)
        self.mirror.set(epoch, speed=speed)


def _live(sim: SimulatorProcess, language: str) -> list[ChatChannel]:
    streams = httpx.get(f"{sim.base_url}/_sim/truth/streams", timeout=120).json()["data"]
    return [
        ChatChannel(s["user_login"], s["user_id"]) for s in streams if s["language"] == language
    ]


def _truth_check(sim: SimulatorProcess, window: Any, channels: list[ChatChannel]) -> dict[str, Any]:
    """Complete channels of `window` whose posters and messages equal the truth."""
    rows = httpx.get(
        f"{sim.base_url}/_sim/truth/chat_activity",
        params={
            "channel": ",".join(c.channel_id for c in channels),
            "start": window.start.timestamp(),
            "end": window.end.timestamp(),
        },
        timeout=300,
    ).json()["channels"]
    truth = {r["channel_id"]: (r["posters"], r["messages"]) for r in rows}
    got: dict[str, list[int]] = {}
    for cid, messages in zip(
        window.activity["channel_id"].to_pylist(),
        window.activity["messages"].to_pylist(),
        strict=True,
    ):
        tally = got.setdefault(cid, [0, 0])
        tally[0] += 1
        tally[1] += messages
    complete = [r["channel_id"] for r in window.coverage.to_pylist() if r["status"] == "complete"]
    equal = sum(tuple(got.get(c, [0, 0])) == truth.get(c, (0, 0)) for c in complete)
    return {"channels_complete": len(complete), "channels_equal_truth": equal}


def _lake_bytes(window: Any) -> dict[str, Any]:
    """Bytes of the window's tables as the raw lake would write them, per observation."""
    end = window.end
    sid = snapshot_id(end)

    def with_snapshot(table: pa.Table) -> pa.Table:
        n = table.num_rows
        return table.add_column(
            0, "snapshot_ts", pa.repeat(pa.scalar(end, pa.timestamp("s", tz="UTC")), n)
        ).add_column(0, "snapshot_id", pa.repeat(pa.scalar(sid, pa.string()), n))

    activity = encode_parquet(with_snapshot(window.activity))
    coverage = encode_parquet(with_snapshot(window.coverage))
    rows = window.activity.num_rows
    return {
        "activity_observations": rows,
        "activity_bytes": len(activity),
        "coverage_bytes": len(coverage),
        "activity_bytes_per_obs": round(len(activity) / rows, 3) if rows else None,
        "with_coverage_bytes_per_obs": round((len(activity) + len(coverage)) / rows, 3)
        if rows
        else None,
    }


def parse_comparison(lines: list[bytes]) -> dict[str, Any]:
    """Microseconds per line: the listener's reader against irctokens plus the same look-ups."""

    def fast() -> None:
        for raw in lines:
            msg = privmsg(raw)
            if msg is None:
                tokenise(raw)

    def library() -> None:
        for raw in lines:
            line = tokenise(raw)
            if line is not None and line.command == "PRIVMSG":
                (
                    tag_value(line, "room-id"),
                    tag_value(line, "tmi-sent-ts"),
                    tag_value(line, "user-id"),
                    (line.source or "").split("!", 1)[0],
                )

    runs: dict[str, list[float]] = {"hand_written": [], "irctokens": []}
    for _ in range(3):  # alternating, side by side
        for name, run in (("hand_written", fast), ("irctokens", library)):
            began = time.perf_counter()
            run()
            runs[name].append((time.perf_counter() - began) / len(lines) * 1e6)
    hand = summary(runs["hand_written"], 3)
    lib = summary(runs["irctokens"], 3)
    return {
        "lines": len(lines),
        "hand_written_us_per_line": hand,
        "irctokens_us_per_line": lib,
        "irctokens_over_hand_written": round(lib["median"] / hand["median"], 2),
    }


def rendered_lines(n: int = PARSE_LINES, seed: int = 42) -> list[bytes]:
    """`n` chat lines of a busy tick of the small population, as the simulator sends them."""
    from streamcensus.simulator.chat.model import ChatModel
    from streamcensus.simulator.chat.render import Renderer
    from streamcensus.simulator.world import PopulationWorld

    world = PopulationWorld(scale="small", seed=seed)
    model = ChatModel(world)
    events = model.tick(model.tick_of(1_795_810_200))
    lines = Renderer(world, seed).render(events, np.arange(len(events), dtype=np.int64))
    stripped = [raw.rstrip(b"\r\n") for raw in lines]
    return (stripped * (n // len(stripped) + 1))[:n]


async def _listen(
    sim: SimulatorProcess, scale: str, language: str, repeat: int, state_dir: Path
) -> dict[str, Any]:
    info = httpx.get(f"{sim.base_url}/_sim/info").json()
    clock = ChildClock(sim)
    limits = ChatLimits()
    listener = ChatListener(
        info["chat"]["irc"],
        clock=clock,
        barrier=True,  # the simulator's: a PING is answered after everything up to its now
        keys=KeyStore(state_dir, 1, clock),
        known_bots=Settings.model_validate({"data_dir": state_dir}).all_known_bots,
        limits=limits,
    )
    channels = _live(sim, language)
    await listener.start()
    try:
        # join everything with the clock at x1
        clock.set(speed=1.0)
        t0 = clock.time()
        listener.set_channels(channels)
        settled = await listener.settled(JOIN_TIMEOUT)
        joined = listener.joined()
        join_s = max(joined.values()) - t0 if joined else None
        floor = join_floor(len(channels), limits)
        server = httpx.get(f"{sim.base_url}/_sim/chat").json()["counters"]
        after_join = listener.counters.as_dict()
        join = {
            "channels": len(channels),
            "joined": len(joined),
            "settled": settled,
            "connections": len(listener.connections),
            "join_s": round(join_s, 3) if join_s is not None else None,
            "floor_s": floor,
            "join_over_floor": round(join_s / floor, 4) if join_s and floor else None,
            "server_join_rate_dropped": server["join_rate_dropped"],
        }
        # real time at x1
        before = listener.counters.messages
        cpu0, t_real = time.process_time(), time.perf_counter()
        sim_t0 = clock.time()
        await asyncio.sleep(REALTIME_SECONDS.get(scale, 60.0))
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - t_real
        sim_minutes = (clock.time() - sim_t0) / 60.0
        got = listener.counters.messages - before
        realtime = {
            "seconds": round(wall, 2),
            "messages": got,
            "messages_per_s": round(got / wall, 1),
            "cpu_s": round(cpu, 3),
            "cpu_s_per_sim_minute": round(cpu / sim_minutes, 4),
            "cpu_share": round(cpu / wall, 4),
            "rss_mb": to_mb(rss_bytes()),
        }
        # jumps to the next grid times, windows closed with the barrier
        clock.set(speed=0.0)
        after_realtime = listener.counters.as_dict()
        jumps: list[dict[str, Any]] = []
        reset_peak_rss()
        last = None
        for _ in range(repeat + 1):  # the first window began before the jumps
            end = clock.time() - clock.time() % GRID_SECONDS + GRID_SECONDS
            clock.set(from_epoch(end), speed=0.0)
            before = listener.counters.messages
            cpu0, t_real = time.process_time(), time.perf_counter()
            windows = await listener.close_windows(from_epoch(end))
            cpu = time.process_time() - cpu0
            got = listener.counters.messages - before
            last = windows[-1]
            jumps.append(
                {
                    "window_end": isoformat_z(from_epoch(end)),
                    "messages": got,
                    "wall_s": round(time.perf_counter() - t_real, 3),
                    "cpu_s": round(cpu, 3),
                    "cpu_us_per_message": round(cpu / got * 1e6, 2) if got else None,
                    "window_posters": last.activity.num_rows,
                    "rss_mb": to_mb(rss_bytes()),
                }
            )
        full = jumps[1:]
        assert last is not None
        result = {
            "join": join,
            "realtime": realtime,
            "jump_messages": summary([j["messages"] for j in full], 0),
            "jump_cpu_s": summary([j["cpu_s"] for j in full], 3),
            "jump_cpu_us_per_message": summary([j["cpu_us_per_message"] for j in full], 2),
            "peak_rss_mb": to_mb(peak_rss_bytes()),
            "rss_after_each_jump_mb": [j["rss_mb"] for j in jumps],
            "jumps": jumps,
            "truth": _truth_check(sim, last, channels),
            "lake": _lake_bytes(last),
            "counters": listener.counters.as_dict(),
            "counters_after_join": after_join,
            "counters_after_realtime": after_realtime,
            "server_counters": httpx.get(f"{sim.base_url}/_sim/chat").json()["counters"],
        }
    finally:
        await listener.stop()
    return result


def run_listener_bench(
    sim: SimulatorProcess, scale: str, repeat: int, *, language: str = "fr"
) -> dict[str, Any]:
    """The listener side of the chat suite, on a running simulator child (see the module)."""
    with tempfile.TemporaryDirectory(prefix="streamcensus-chat-") as tmp:
        result = asyncio.run(_listen(sim, scale, language, repeat, Path(tmp)))
    result["parse"] = parse_comparison(rendered_lines())
    result["grid"] = isoformat_z(dt.datetime.fromtimestamp(sim.clock_epoch(), dt.UTC))
    return result
