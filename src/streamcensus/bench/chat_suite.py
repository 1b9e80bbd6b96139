"""Suite `chat`: the simulated chat server at the community's peak message rate.

A simulator child (clock standing at a Friday evening) serves its chat; this process opens
as many anonymous IRC connections as the join rate limit needs (20 joins per connection
while the clock stands still) and joins every live channel of the language. Then:
- real time: the clock runs at x1 for `seconds`; messages received per second and the
  server's CPU share are measured (the rate a real deployment sees);
- jumps: the clock jumps 5 minutes at a time, as the demo drives it, and every connection
  waits for its PONG barrier; messages delivered per second of wall time and the server's
  CPU per jump are measured (how fast a simulated day can be replayed).

Then, on the same child, the collector's chat listener is measured (`chat_listener.py`):
join time against its floor, CPU and memory at the peak rate, bytes per activity
observation; its figures are under `"listener"`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from typing import Any

import httpx

from streamcensus.bench.chat_listener import run_listener_bench
from streamcensus.bench.measure import median_of, summary
from streamcensus.bench.simproc import NO_RATE_LIMIT, SimulatorProcess
from streamcensus.simulator.chat.connection import JOIN_LIMIT

JUMP_SECONDS = 300.0


class ChatReader:
    """One anonymous connection: counts PRIVMSG lines and answers the server's PING."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.privmsgs = 0
        self.lines = 0
        self.pongs: asyncio.Queue[str] = asyncio.Queue()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            raw = await self.reader.readline()
            if not raw:
                return
            self.lines += 1
            if b" PRIVMSG #" in raw:
                self.privmsgs += 1
            elif raw.startswith(b"PING"):
                self.writer.write(b"PONG :tmi.twitch.tv\r\n")
            elif b" PONG " in raw:
                await self.pongs.put(raw.decode().rsplit(":", 1)[-1].strip())

    async def send(self, *lines: str) -> None:
        self.writer.write("".join(f"{text}\r\n" for text in lines).encode())
        await self.writer.drain()

    async def barrier(self, token: str) -> None:
        await self.send(f"PING :{token}")
        while await self.pongs.get() != token:
            pass

    async def close(self) -> None:
        self.task.cancel()
        self.writer.close()


async def _connect(host: str, port: int, n: int) -> list[ChatReader]:
    readers = []
    for i in range(n):
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        conn = ChatReader(reader, writer)
        await conn.send("CAP REQ :twitch.tv/tags twitch.tv/commands", f"NICK justinfan{1000 + i}")
        readers.append(conn)
    return readers


async def _barrier_all(readers: list[ChatReader], token: str) -> None:
    await asyncio.gather(*(r.barrier(token) for r in readers))


async def _run(
    sim: SimulatorProcess, logins: list[str], seconds: float, repeat: int
) -> dict[str, Any]:
    info = httpx.get(f"{sim.base_url}/_sim/info").json()
    host, port = info["chat"]["irc"].rsplit(":", 1)
    n_conn = math.ceil(len(logins) / JOIN_LIMIT)
    began = time.perf_counter()
    readers = await _connect(host, int(port), n_conn)
    for i, conn in enumerate(readers):
        part = logins[i * JOIN_LIMIT : (i + 1) * JOIN_LIMIT]
        await conn.send("JOIN " + ",".join(f"#{x}" for x in part))
    await _barrier_all(readers, "joined")
    joined_s = time.perf_counter() - began
    try:
        # real time: the clock at x1
        before = sum(r.privmsgs for r in readers)
        cpu0 = sim.cpu_seconds()
        sim.set_clock(speed=1.0)
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        sim.set_clock(speed=0.0)
        await _barrier_all(readers, "realtime")
        wall = time.perf_counter() - t0
        realtime = {
            "seconds": round(wall, 2),
            "messages": sum(r.privmsgs for r in readers) - before,
            "server_cpu_s": round(sim.cpu_seconds() - cpu0, 3),
        }
        realtime["messages_per_s"] = round(realtime["messages"] / wall, 1)
        realtime["server_cpu_share"] = round(realtime["server_cpu_s"] / wall, 4)
        # jumps of five minutes, as the demo drives the clock
        jumps: list[dict[str, Any]] = []
        for i in range(repeat):
            before = sum(r.privmsgs for r in readers)
            epoch = sim.clock_epoch()
            cpu0 = sim.cpu_seconds()
            t0 = time.perf_counter()
            sim.set_clock(dt.datetime.fromtimestamp(epoch + JUMP_SECONDS, dt.UTC))
            await _barrier_all(readers, f"jump{i}")
            wall = time.perf_counter() - t0
            got = sum(r.privmsgs for r in readers) - before
            cpu = sim.cpu_seconds() - cpu0
            jumps.append(
                {
                    "messages": got,
                    "wall_s": wall,
                    "messages_per_s": got / wall if wall > 0 else None,
                    "server_cpu_s": cpu,
                    "server_cpu_us_per_message": cpu / got * 1e6 if got else None,
                }
            )
        rss = sim.rss_bytes()
    finally:
        for conn in readers:
            await conn.close()
    return {
        "connections": n_conn,
        "channels": len(logins),
        "join_wall_s": round(joined_s, 2),
        "realtime": realtime,
        "jump_messages": median_of(jumps, "messages"),
        "jump_wall_s": median_of(jumps, "wall_s"),
        "jump_messages_per_s": median_of(jumps, "messages_per_s"),
        "jump_server_cpu_s": median_of(jumps, "server_cpu_s"),
        "jump_server_cpu_us_per_message": median_of(jumps, "server_cpu_us_per_message"),
        "server_rss_mb": round(rss / 2**20, 1),
        "jumps": jumps,
    }


def run_chat_suite(
    scale: str,
    grid: dt.datetime,
    repeat: int,
    *,
    seed: int = 42,
    language: str = "fr",
    seconds: float = 60.0,
) -> dict[str, Any]:
    """Messages/s and server CPU with every live channel of `language` joined."""
    with SimulatorProcess(scale, grid, seed=seed, rate_limit=NO_RATE_LIMIT) as sim:
        streams = httpx.get(f"{sim.base_url}/_sim/truth/streams", timeout=120).json()["data"]
        logins = [s["user_login"] for s in streams if s["language"] == language]
        result = asyncio.run(_run(sim, logins, seconds, repeat))
        listener = run_listener_bench(sim, scale, repeat, language=language)
    return {
        "scale": scale,
        "seed": seed,
        "grid_time": grid.isoformat(),
        "language": language,
        "realtime_seconds": seconds,
        "jump_seconds": JUMP_SECONDS,
        **result,
        "summary": summary([j["messages_per_s"] for j in result["jumps"]]),
        "listener": listener,
    }
