"""Suite `api`: the JSON API's latency under concurrent load, and the dashboard's weight.

The warehouse holds `days` consecutive days (30 by default) of the simulator's ground
truth (`bench/truthlake.py`), each loaded as `run` loads it: the day after, with the clock
at the next midnight (retention and key purge included). Then:

- the server is a child process (`python -m streamcensus serve` on 127.0.0.1, a free
  port), as a user runs it;
- the load generator is another child (`bench/api_client.py`, keep-alive connections,
  `concurrency` in flight), so neither shares a GIL with the other or with the bench;
- every JSON endpoint gets `requests` requests, their `day` spread over the loaded days
  (the channel page over the day's top channels), all endpoints interleaved; latency is
  from writing the request to reading the whole body, per endpoint p50/p90/p99/max.

`replicate_to` (`--replicate-to N`): a month of `fr` cannot be written and loaded on a small
machine in a session (one `fr` day took about 23 minutes to write and load there), so the
suite can load `days` true days and then give the warehouse N days of volume by copying the
loaded days' rows to the N - `days` days before them (`replicate_days`): every table with
a `day` column, its dates and timestamps shifted by whole days, its stream and snapshot ids
suffixed with the day they were copied to. The result says so (`replicated_to`,
`loaded_days`, `replica_days`). What a copy does not have: its 7- and 30-day windows
(overlap, communities, rankings) hold what they held over the loaded days, not over a month;
every per-day table and every per-snapshot table has a month's rows.

The server keeps answers until the warehouse changes (`serve/cache.py`) and, as
`streamcensus serve` does after every load, warms the answers of each page's default view
of every loaded day (`serve/warm.py`); the suite waits for that warm-up to end
(`server_warm_up_s`, `answers_warmed`) before measuring; the warm-up first builds the
per-channel tables (`serve/channelstore.py`; rows, bytes and build seconds in
`channel_tables`). Channel pages and searches are not warmed: the first request for such a
URL costs its queries (over those tables), the next ones do not. So
besides p50/p90/p99/max over all requests, each endpoint reports `first_requests` (URLs
it was asked for the first time in the run, after the suite's warm-up of 45 requests) and
their latencies (`first_p50`, `first_max`): for the warmed endpoints these are already
kept answers.

Page weight: each dashboard page's first load, the HTML and every script, style sheet and
vendored file it names, in bytes as served (no cache).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx

from streamcensus.bench.measure import percentiles_ms
from streamcensus.bench.simproc import free_port
from streamcensus.bench.truthlake import write_truth_day
from streamcensus.clock import SimClock
from streamcensus.config import Settings
from streamcensus.load.loader import load_days
from streamcensus.serve.pages import PAGES
from streamcensus.timeutil import day_start

Progress = Callable[[str], None]
DEFAULT_DAYS = 30
CONCURRENCY = 8
REQUESTS_PER_ENDPOINT = 200
STARTUP_TIMEOUT_S = 120.0
_ASSET = re.compile(r"""(?:src|href)="(/(?:static|vendor)/[^"?#]+)""")


REPLICA_ID_COLUMNS = ("stream_id", "snapshot_id")  # ids that must stay unique across days
REPLICA_SKIP_TABLES = ("curated_files",)  # rows naming files on disk, not served


def _quiet(message: str) -> None:
    del message


def replicate_days(warehouse: Path, loaded: list[dt.date], target_days: int) -> dict[str, Any]:
    """Copy the rows of the `loaded` days to the `target_days - len(loaded)` days before
    them, cycling through the loaded days (the day before the first loaded one is a copy
    of the last loaded one, and so on): dates and timestamps shifted by whole days, stream
    and snapshot ids suffixed with the copy's day. Rows per table after the copy."""
    began = time.perf_counter()
    replicas = [loaded[0] - dt.timedelta(days=n) for n in range(1, target_days - len(loaded) + 1)]
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("set enable_progress_bar = false")
        tables = [
            str(r[0])
            for r in con.execute(
                "select table_name from information_schema.columns where column_name = 'day' "
                "and table_name in (select table_name from information_schema.tables "
                "where table_type = 'BASE TABLE') order by table_name"
            ).fetchall()
            if str(r[0]) not in REPLICA_SKIP_TABLES
        ]
        sources = [loaded[-1 - (n - 1) % len(loaded)] for n in range(1, len(replicas) + 1)]
        con.execute("begin")
        con.execute(
            "create temp table replica_map as select * from (values "
            + ", ".join(
                f"(date '{t}', date '{src}', {(t - src).days}::integer)"
                for t, src in zip(replicas, sources, strict=True)
            )
            + ") as m(replica_day, source_day, shift)"
        )
        for table in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            exprs = []
            for name, kind in columns:
                quoted = f't."{name}"'
                if kind == "DATE":
                    exprs.append(f"{quoted} + m.shift")
                elif str(kind).startswith("TIMESTAMP"):
                    exprs.append(f"{quoted} + to_days(m.shift)")
                elif name in REPLICA_ID_COLUMNS:
                    exprs.append(f"{quoted} || '~' || strftime(m.replica_day, '%Y-%m-%d')")
                else:
                    exprs.append(quoted)
            con.execute(
                f'insert into "{table}" select {", ".join(exprs)} from "{table}" as t '
                "join replica_map as m on t.day = m.source_day order by m.replica_day"
            )
        con.execute("commit")
        con.execute("checkpoint")
        rows = {t: int(con.sql(f'select count(*) from "{t}"').fetchall()[0][0]) for t in tables}
    finally:
        con.close()
    return {"replica_days": len(replicas), "rows": rows, "seconds": time.perf_counter() - began}


def build_warehouse(
    settings: Settings, first: dt.date, days: int, scale: str, seed: int, progress: Progress
) -> dict[str, Any]:
    """Write and load `days` ground-truth days, one at a time: seconds spent on each."""
    write_s: list[float] = []
    load_s: list[float] = []
    for index in range(days):
        day = first + dt.timedelta(days=index)
        progress(f"api: day {index + 1}/{days} ({day}): write the {scale} ground truth, load")
        began = time.perf_counter()
        write_truth_day(
            settings.lake_dir,
            settings.state_dir,
            day,
            scale=scale,
            seed=seed,
            language=settings.language,
            top_n=settings.top_n,
            known_bots=settings.all_known_bots,
        )
        write_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        clock = SimClock(day_start(day + dt.timedelta(days=1)), speed=0.0)
        load_days(settings, [day], clock=clock)
        load_s.append(time.perf_counter() - began)
    return {"write_s": write_s, "load_s": load_s}


class ServerProcess:
    """`streamcensus serve` in a child process on 127.0.0.1."""

    def __init__(self, data_dir: Path, python: str | None = None) -> None:
        self.data_dir = data_dir
        self.python = python or sys.executable  # another checkout's, for a side-by-side run
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        env = {**os.environ, "STREAMCENSUS_DATA_DIR": str(self.data_dir)}
        command = [self.python, "-m", "streamcensus", "serve", "--host", "127.0.0.1"]
        self._proc = subprocess.Popen(
            [*command, "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"streamcensus serve exited with {self._proc.returncode}")
            try:
                if httpx.get(f"{self.base_url}/api/days", timeout=2.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("streamcensus serve did not answer /api/days in time")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


WARM_TIMEOUT_S = 900.0
WARM_UP = 9 * 5  # requests of the plan sent before the measured run
_GAUGE = re.compile(r"^(streamcensus_api_\w+) ([0-9.e+-]+)$", re.M)


def wait_for_warm_answers(base_url: str) -> dict[str, float]:
    """Wait until the server has warmed its answers (the pages' default views of every
    loaded day, `serve/warm.py`), as its `/metrics` says: seconds waited, answers warmed."""
    began = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        http.get("/api/days")  # a first request starts the warm-up
        while time.monotonic() - began < WARM_TIMEOUT_S:
            gauges = {k: float(v) for k, v in _GAUGE.findall(http.get("/metrics").text)}
            if gauges.get("streamcensus_api_warming", 1.0) == 0.0:
                return {
                    "seconds": time.monotonic() - began,
                    "answers_warmed": gauges.get("streamcensus_api_answers_warmed", 0.0),
                    **{  # the per-channel tables, built first (serve/channelstore.py)
                        name.removeprefix("streamcensus_api_"): value
                        for name, value in gauges.items()
                        if name.startswith("streamcensus_api_channel_tables_")
                        and not name.endswith("_served")  # none yet: before the requests
                    },
                }
            time.sleep(0.5)
    raise RuntimeError("streamcensus serve did not finish warming its answers in time")


def plan_requests(base_url: str, per_endpoint: int) -> list[tuple[str, str, list[list[str]]]]:
    """Every JSON endpoint `per_endpoint` times, days spread over the loaded ones."""
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        days = [str(d) for d in http.get("/api/days").json()["days"]]
        logins: dict[str, list[str]] = {}
        for day in days:
            overview = http.get("/api/overview", params={"day": day, "limit": 10}).json()
            logins[day] = [str(c["channel_login"]) for c in overview.get("top_channels", [])] or [
                ""
            ]
    plan: list[tuple[str, str, list[list[str]]]] = []
    for index in range(per_endpoint):
        day = days[index % len(days)]
        login = logins[day][index % len(logins[day])]
        plan += [
            ("days", "/api/days", []),
            ("overview", "/api/overview", [["day", day]]),
            ("schedules", "/api/schedules", [["day", day]]),
            ("channels (search)", "/api/channels", [["q", login[:3] or "a"]]),
            ("channels/{login}", f"/api/channels/{login}", [["day", day]]),
            ("map (7 days)", "/api/map", [["day", day], ["window", "7"]]),
            ("habits", "/api/habits", [["day", day]]),
            ("exposure", "/api/exposure", [["day", day]]),
            ("health (30 days)", "/api/health", [["day", day]]),
        ]
    return plan


def run_client(base_url: str, plan: list[Any], concurrency: int) -> dict[str, Any]:
    """The load generator in its own process; its JSON result."""
    port = int(base_url.rsplit(":", 1)[1])
    document = {"host": "127.0.0.1", "port": port, "concurrency": concurrency, "requests": plan}
    done = subprocess.run(
        [sys.executable, "-m", "streamcensus.bench.api_client"],
        input=json.dumps(document).encode(),
        capture_output=True,
        check=True,
        timeout=3600,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def page_weight(base_url: str) -> dict[str, dict[str, int]]:
    """Bytes of each page's first load: its HTML and every asset it names."""
    weights: dict[str, dict[str, int]] = {}
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        for page in PAGES.values():
            if not page.nav:
                continue
            html = http.get(page.path)
            assets = sorted(set(_ASSET.findall(html.text)))
            sizes = [len(http.get(asset).content) for asset in assets]
            weights[page.name] = {
                "html_bytes": len(html.content),
                "asset_bytes": sum(sizes),
                "assets": len(assets),
                "total_bytes": len(html.content) + sum(sizes),
            }
    return weights


def first_requests(plan: list[Any], warm_up: int) -> list[bool]:
    """For each request of the measured run: is it the first of its URL (the warm-up's
    `warm_up` first requests of the plan included)?"""
    seen: set[str] = set()
    for _, path, params in plan[:warm_up]:
        seen.add(f"{path}?{params}")
    first: list[bool] = []
    for _, path, params in plan:
        url = f"{path}?{params}"
        first.append(url not in seen)
        seen.add(url)
    return first


def endpoint_figures(plan: list[Any], result: dict[str, Any], warm_up: int) -> dict[str, Any]:
    """Per endpoint: requests, statuses, p50/p90/p99/max, and the first requests' figures."""
    firsts = first_requests(plan, warm_up)
    cold: dict[str, list[float]] = {}
    for (name, _, _), ms, first in zip(plan, result["latency_ms_in_order"], firsts, strict=True):
        if first:
            cold.setdefault(name, []).append(ms)
    figures: dict[str, Any] = {}
    for name, values in result["latency_ms"].items():
        cold_ms = percentiles_ms([v / 1000 for v in cold.get(name, [])])
        figures[name] = {
            "requests": len(values),
            "statuses": result["statuses"][name],
            **percentiles_ms([v / 1000 for v in values]),
            "first_requests": len(cold.get(name, [])),
            "first_p50": cold_ms["p50"],
            "first_max": cold_ms["max"],
        }
    return figures


def measure_served(
    data_dir: Path,
    *,
    python: str | None = None,
    requests: int = REQUESTS_PER_ENDPOINT,
    concurrency: int = CONCURRENCY,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Serve `data_dir` (with `python`: another checkout's interpreter), wait for its
    warm-up, send the plan after a warm-up of `WARM_UP` requests: the raw figures."""
    with ServerProcess(data_dir, python) as server:
        progress("api: wait for the server to warm the pages' answers of every day")
        warmed = wait_for_warm_answers(server.base_url)
        plan = plan_requests(server.base_url, requests)
        progress(f"api: {len(plan)} requests, {concurrency} in flight")
        load_start = [round(x, 2) for x in os.getloadavg()]
        run_client(server.base_url, plan[: min(len(plan), WARM_UP)], concurrency)
        result = run_client(server.base_url, plan, concurrency)
        load_end = [round(x, 2) for x in os.getloadavg()]
        weights = page_weight(server.base_url)
    return {
        "warmed": warmed,
        "plan": plan,
        "result": result,
        "load_start": load_start,
        "load_end": load_end,
        "weights": weights,
    }


def compare_served(
    data_dir: Path, baseline_python: str, *, progress: Progress = _quiet
) -> dict[str, Any]:
    """The same data served by another checkout (`baseline_python`) then by this one,
    back to back: per endpoint figures of each, the load average around each."""
    figures: dict[str, Any] = {}
    for name, python in (("baseline", baseline_python), ("this", None)):
        progress(f"api: measure {name} ({python or sys.executable})")
        served = measure_served(data_dir, python=python, progress=progress)
        figures[name] = {
            "python": python or sys.executable,
            "server_warm_up_s": served["warmed"]["seconds"],
            "warmed": served["warmed"],
            "load_average_during": {"start": served["load_start"], "end": served["load_end"]},
            "wall_s": served["result"]["wall_s"],
            "endpoints": endpoint_figures(served["plan"], served["result"], WARM_UP),
        }
    return figures


def main(argv: list[str] | None = None) -> None:
    """`python -m streamcensus.bench.api_suite DATA_DIR --baseline-python PY [--out F]`:
    the API of an existing data directory measured side by side (another checkout's
    server, then this one's), as the api suite measures it."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m streamcensus.bench.api_suite")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--baseline-python", required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not (args.data_dir / "warehouse.duckdb").is_file():
        parser.error(f"no warehouse.duckdb in {args.data_dir}: load data there first")
    figures = compare_served(args.data_dir, args.baseline_python, progress=print)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2, default=str))
    for name, side in figures.items():
        print(f"{name}: load average {side['load_average_during']}")
        for endpoint, e in side["endpoints"].items():
            print(
                f"  {endpoint:20s} p50 {e['p50']:7.1f} p99 {e['p99']:7.1f} max {e['max']:7.1f} "
                f"first {e['first_requests']:3d} p50 {e['first_p50'] or 0:7.1f} "
                f"max {e['first_max'] or 0:7.1f} {e['statuses']}"
            )


def run_api_suite(
    scale: str,
    *,
    first_day: dt.date,
    days: int = DEFAULT_DAYS,
    replicate_to: int | None = None,
    seed: int = 42,
    requests: int = REQUESTS_PER_ENDPOINT,
    concurrency: int = CONCURRENCY,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Build the warehouse (and copy its days up to `replicate_to` days), serve it, load it:
    every figure in one dict."""
    served_days = max(days, replicate_to or days)
    warm_up = WARM_UP
    with tempfile.TemporaryDirectory(prefix="streamcensus-bench-api-") as tmp:
        settings = Settings.model_validate({"data_dir": Path(tmp)})
        built = build_warehouse(settings, first_day, days, scale, seed, progress)
        replicated: dict[str, Any] | None = None
        if served_days > days:
            progress(f"api: copy the {days} loaded days' rows to {served_days} days of volume")
            loaded = [first_day + dt.timedelta(days=n) for n in range(days)]
            replicated = replicate_days(settings.warehouse_path, loaded, served_days)
        served = measure_served(
            settings.data_dir, requests=requests, concurrency=concurrency, progress=progress
        )
    warmed, plan, result = served["warmed"], served["plan"], served["result"]
    load_start, load_end, weights = served["load_start"], served["load_end"], served["weights"]
    endpoints = endpoint_figures(plan, result, warm_up)
    return {
        "scale": scale,
        "days": served_days,
        "loaded_days": days,
        "replicated_to": replicate_to if replicated else None,
        "replica_days": replicated["replica_days"] if replicated else 0,
        "replicated_rows": replicated["rows"] if replicated else None,
        "replicate_s": replicated["seconds"] if replicated else None,
        "first_day": first_day.isoformat(),
        "concurrency": concurrency,
        "requests": len(plan),
        "requests_per_s": len(plan) / result["wall_s"],
        "wall_s": result["wall_s"],
        "load_average_during": {"start": load_start, "end": load_end},
        "server_warm_up_s": warmed["seconds"],
        "answers_warmed": int(warmed["answers_warmed"]),
        "channel_tables": {  # serve/channelstore.py's last build, as /metrics says
            k: v for k, v in warmed.items() if k.startswith("channel_tables_")
        },
        "endpoints": endpoints,
        "p99_max_ms": max(e["p99"] or 0.0 for e in endpoints.values()),
        "pages": weights,
        "build": {
            "write_s_total": sum(built["write_s"]),
            "load_s_total": sum(built["load_s"]),
            "load_s_last": built["load_s"][-1],
        },
    }


if __name__ == "__main__":
    main()
