"""Bot detection against the simulator's truth: precision and recall of `int_bots`.

The suite writes ground-truth lakes (`truthlake.py`: the collector's pseudonyms, known bots
flagged by id) of `HISTORY_DAYS` whole days, loads them, then writes and loads a night of
`NIGHT_HOURS` hours from midnight UTC on the next day (a quiet, partial day, loaded on its
own as the daily load would). For the last whole day and for the night it compares the
accounts `int_bots` flags with the simulator's bot accounts (`PopulationWorld.bot_truth`,
served as `/_sim/truth/bots`), pseudonymised with the same key: precision (flagged accounts
that are bots) and recall (bots seen that day that are flagged), for the rolling 7-day
rule and for the one-day rule it replaces (that day's peak only), side by side.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from streamcensus.bench.truthlake import write_truth_day
from streamcensus.clock import SimClock
from streamcensus.collect.privacy import Pseudonymiser
from streamcensus.config import Settings
from streamcensus.keys import KeyStore
from streamcensus.load.loader import load_days
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import day_start
from streamcensus.warehouse.curated import partition_dir

HISTORY_DAYS = 6  # whole days before the night: the last of them has a full 7-day window
NIGHT_HOURS = 3.0
Progress = Callable[[str], None]


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def score(flagged: np.ndarray[Any, Any], truth: np.ndarray[Any, Any]) -> dict[str, Any]:
    """Precision and recall of boolean predictions against boolean truth (same accounts)."""
    tp = int((flagged & truth).sum())
    fp = int((flagged & ~truth).sum())
    fn = int((~flagged & truth).sum())
    return {
        "flagged": tp + fp,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
    }


def measure_day(
    settings: Settings, day: dt.date, bots: dict[str, set[int]], bot_min_chats: int
) -> dict[str, Any]:
    """Both rules' precision and recall over the accounts `int_bots` holds for `day`."""
    path = partition_dir(settings.lake_dir, "int_bots", day) / "*.parquet"
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"select viewer, is_bot, is_known_bot, peak_chats from read_parquet('{path}')"
        ).fetchnumpy()
    finally:
        con.close()
    viewer = np.asarray(rows["viewer"], dtype=np.int64)
    window = np.asarray(rows["is_bot"], dtype=np.bool_)
    known = np.asarray(rows["is_known_bot"], dtype=np.bool_)
    one_day = known | (np.asarray(rows["peak_chats"]) >= bot_min_chats)
    lurkers = np.isin(viewer, np.fromiter(bots["lurker"], np.int64))
    service = np.isin(viewer, np.fromiter(bots["service"], np.int64))
    truth = lurkers | service
    return {
        "day": day.isoformat(),
        "accounts": int(viewer.shape[0]),
        "bots_seen": int(truth.sum()),
        "lurker_bots_seen": int(lurkers.sum()),
        "service_bots_seen": int(service.sum()),
        "rolling_window": score(window, truth),
        "one_day": score(one_day, truth),
        "lurker_recall_rolling": _ratio(int((window & lurkers).sum()), int(lurkers.sum())),
        "lurker_recall_one_day": _ratio(int((one_day & lurkers).sum()), int(lurkers.sum())),
    }


def run_bots_suite(
    scale: str,
    *,
    first_day: dt.date,
    history_days: int = HISTORY_DAYS,
    history_hours: float = 24.0,
    night_hours: float = NIGHT_HOURS,
    seed: int = 42,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write and load the history days, then the night; score the last day and the night."""
    say = progress or (lambda message: None)
    began = time.perf_counter()
    world = PopulationWorld(scale=scale, seed=seed)
    truth = world.bot_truth()
    with tempfile.TemporaryDirectory(prefix="streamcensus-bench-bots-") as tmp:
        settings = Settings.model_validate({"data_dir": Path(tmp)})
        known = settings.all_known_bots
        days = [first_day + dt.timedelta(days=i) for i in range(history_days)]
        night = first_day + dt.timedelta(days=history_days)
        for day in days:
            say(f"bots suite: ground-truth day {day} ({scale})")
            write_truth_day(
                settings.lake_dir,
                settings.state_dir,
                day,
                scale=scale,
                seed=seed,
                hours=history_hours,
                language=settings.language,
                top_n=settings.top_n,
                known_bots=known,
            )
        clock = SimClock(day_start(night), speed=0.0)
        load_days(settings, days, clock=clock)
        say(f"bots suite: {night_hours:g}-hour night {night}")
        write_truth_day(
            settings.lake_dir,
            settings.state_dir,
            night,
            scale=scale,
            seed=seed,
            hours=night_hours,
            language=settings.language,
            top_n=settings.top_n,
            known_bots=known,
        )
        load_days(settings, [night], clock=SimClock(day_start(night) + dt.timedelta(days=1)))
        keys = KeyStore(settings.key_store_dir, settings.key_rotation_days, clock).list_keys()
        if len(keys) != 1:
            raise RuntimeError(f"expected one pseudonym key over the suite's days, got {len(keys)}")
        hasher = Pseudonymiser(keys[0], (), ())
        bots = {
            kind: {hasher.pseudonym(b["user_id"]) for b in truth[f"{kind}_bots"]}
            for kind in ("lurker", "service")
        }
        result = {
            "scale": scale,
            "seed": seed,
            "bot_min_chats": settings.bot_min_chats,
            "known_bots_listed": len(known),
            "lurker_bots": len(truth["lurker_bots"]),
            "service_bots": len(truth["service_bots"]),
            "history_days": history_days,
            "history_hours": history_hours,
            "night_hours": night_hours,
            "full_day": measure_day(settings, days[-1], bots, settings.bot_min_chats),
            "night": measure_day(settings, night, bots, settings.bot_min_chats),
        }
    result["wall_s"] = round(time.perf_counter() - began, 1)
    return result
