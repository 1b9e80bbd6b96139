"""Suite `communities`: detected audience communities scored against the simulator's truth.

The warehouse holds `days` consecutive days of the simulator's ground truth
(`bench/truthlake.py`), each loaded as `run` loads it (the day after, the clock at the next
midnight), so the daily load finds the communities (`transform/communities.py`) on the
published overlap pairs. Then, for each window (1, 7, 30 days) and presence signal:

- quality on the last day: normalised mutual information (NMI) and adjusted Rand index
  (ARI) between the detected communities and the true ones (`communities_truth`, each
  channel's primary community), over the channels the detection placed; beside it, the
  same scores of a naive partition by each channel's main game;
- stability from day to day: NMI between consecutive days' partitions (channels in both),
  and the share of those channels whose community id was kept;
- time: the model run alone on the loaded warehouse for the last day (every window and
  signal), `repeat` times.

NMI and ARI are igraph's `compare_communities`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import igraph as ig

from streamcensus.bench.measure import summary
from streamcensus.bench.truthlake import write_truth_day
from streamcensus.clock import SimClock
from streamcensus.config import Settings
from streamcensus.load.loader import load_days
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import day_start
from streamcensus.transform import communities
from streamcensus.transform.context import SIGNALS, RunContext
from streamcensus.transform.engines import DuckQueries
from streamcensus.warehouse.connection import open_warehouse

Progress = Callable[[str], None]
Partition = dict[str, int]  # channel id -> community


def _quiet(message: str) -> None:
    del message


def compare(a: Partition, b: Partition) -> dict[str, float | int | None]:
    """NMI and ARI of two partitions over the channels both place."""
    common = sorted(set(a) & set(b))
    if len(common) < 2:
        return {"channels": len(common), "nmi": None, "ari": None}

    def labels(p: Partition) -> list[int]:
        index: dict[int, int] = {}
        return [index.setdefault(p[c], len(index)) for c in common]

    left, right = labels(a), labels(b)
    return {
        "channels": len(common),
        "nmi": round(float(ig.compare_communities(left, right, method="nmi")), 4),
        "ari": round(float(ig.compare_communities(left, right, method="ari")), 4),
    }


def _detected(settings: Settings, window: int, signal: str) -> dict[dt.date, Partition]:
    found: dict[dt.date, Partition] = {}
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        rows = con.execute(
            "select day, channel_id, community_id from communities "
            "where window_days = ? and signal = ?",
            [window, signal],
        ).fetchall()
    for day, channel, cid in rows:
        found.setdefault(day, {})[str(channel)] = int(cid)
    return found


def _by_game(settings: Settings, day: dt.date, window: int, signal: str) -> Partition:
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        rows = con.execute(
            "select channel_id, coalesce(main_game, '') from communities "
            "where day = ? and window_days = ? and signal = ?",
            [day, window, signal],
        ).fetchall()
    games: dict[str, int] = {}
    return {str(c): games.setdefault(str(g), len(games)) for c, g in rows}


def score(settings: Settings, truth: Partition, last: dt.date) -> dict[str, Any]:
    """Quality on the last day and stability over the days, per window and signal."""
    scores: dict[str, Any] = {}
    for window in communities.WINDOWS:
        for signal in SIGNALS:
            days = _detected(settings, window, signal)
            if last not in days:
                continue
            ordered = sorted(days)
            steps = [compare(days[a], days[b]) for a, b in itertools.pairwise(ordered)]
            kept = [
                sum(days[a][c] == days[b][c] for c in set(days[a]) & set(days[b]))
                / max(1, len(set(days[a]) & set(days[b])))
                for a, b in itertools.pairwise(ordered)
            ]
            nmis = [s["nmi"] for s in steps if s["nmi"] is not None]
            scores[f"{window}d_{signal}"] = {
                "communities": len(set(days[last].values())),
                "truth_communities": len({truth[c] for c in days[last] if c in truth}),
                "detected": compare(days[last], truth),
                "by_main_game": compare(_by_game(settings, last, window, signal), truth),
                "day_to_day_nmi": round(statistics.median(nmis), 4) if nmis else None,
                "ids_kept": round(statistics.median(kept), 4) if kept else None,
            }
    return scores


def run_communities_suite(
    scale: str,
    repeat: int,
    *,
    first_day: dt.date,
    days: int,
    seed: int = 42,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Load `days` ground-truth days, score the communities, time the model."""
    with tempfile.TemporaryDirectory(prefix="streamcensus-bench-") as tmp:
        settings = Settings.model_validate({"data_dir": Path(tmp) / "data"})
        last = first_day + dt.timedelta(days=days - 1)
        load_s: list[float] = []
        for index in range(days):
            day = first_day + dt.timedelta(days=index)
            progress(f"communities: day {index + 1}/{days} ({day}): write the truth, load")
            write_truth_day(
                settings.lake_dir,
                settings.state_dir,
                day,
                scale=scale,
                seed=seed,
                language=settings.language,
                top_n=settings.top_n,
                known_bots=settings.known_bots,
            )
            began = time.perf_counter()
            load_days(settings, [day], clock=SimClock(day_start(day + dt.timedelta(days=1)), 0.0))
            load_s.append(time.perf_counter() - began)
        truth_doc = PopulationWorld(scale=scale, seed=seed).communities_truth()
        numbers: dict[str, int] = {}
        truth = {
            str(c["id"]): numbers.setdefault(str(c["community"]), len(numbers))
            for c in truth_doc["channels"]
        }
        progress("communities: score against the truth")
        scores = score(settings, truth, last)
        ctx = RunContext(lake_dir=settings.lake_dir, run_days=[last])
        model_s: list[float] = []
        with open_warehouse(settings.warehouse_path, read_only=True) as con:
            edges = con.execute(
                "select window_days, count(*) from audience_overlap where day = ? "
                "group by window_days order by window_days",
                [last],
            ).fetchall()
            for _ in range(repeat):
                began = time.perf_counter()
                communities.build(DuckQueries(con), ctx)
                model_s.append(time.perf_counter() - began)
    return {
        "days": days,
        "last_day": last.isoformat(),
        "overlap_pairs_last_day": {f"{w}d": int(n) for w, n in edges},
        "load_s": summary(load_s, 2),
        "model_s": summary(model_s, 3),
        "scores": scores,
    }
