"""The API suite's load generator, run as its own process (`python -m ...api_client`).

It reads a plan from standard input (JSON: host, port, concurrency, and requests as
[endpoint, path, [[param, value], ...]]), sends every request over `concurrency`
keep-alive connections (`bench/rawhttp.py`), and prints one JSON document: per endpoint,
each request's latency in milliseconds and status, every request's latency in plan order,
and the wall time of the whole plan.
Running apart from the bench process keeps its CPU off the server's measurements' GIL.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from streamcensus.bench.rawhttp import RawClient


async def run_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """Send the plan's requests, `concurrency` at a time; latencies per endpoint."""
    requests: list[tuple[str, str, list[tuple[str, str]]]] = [
        (str(name), str(path), [(str(k), str(v)) for k, v in params])
        for name, path, params in plan["requests"]
    ]
    queue: asyncio.Queue[tuple[int, tuple[str, str, list[tuple[str, str]]]]] = asyncio.Queue()
    for index, request in enumerate(requests):
        queue.put_nowait((index, request))
    latencies: dict[str, list[float]] = {}
    in_order: list[float] = [0.0] * len(requests)
    statuses: dict[str, dict[str, int]] = {}
    headers = {"Accept": "application/json"}
    async with RawClient(plan["host"], int(plan["port"]), int(plan["concurrency"])) as client:

        async def worker() -> None:
            while not queue.empty():
                index, (name, path, params) = queue.get_nowait()
                began = time.perf_counter()
                status, _ = await client.get(path, params, headers)
                elapsed = (time.perf_counter() - began) * 1000
                latencies.setdefault(name, []).append(elapsed)
                in_order[index] = elapsed
                counts = statuses.setdefault(name, {})
                counts[str(status)] = counts.get(str(status), 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(int(plan["concurrency"]))))
        wall = time.perf_counter() - began
    return {
        "wall_s": wall,
        "latency_ms": latencies,
        "statuses": statuses,
        "latency_ms_in_order": in_order,
    }


def main() -> None:
    plan = json.loads(sys.stdin.read())
    json.dump(asyncio.run(run_plan(plan)), sys.stdout)


if __name__ == "__main__":
    main()
