"""What a run of the models covers and is made of: parameters, days, models, results.

Shared by the runner and the Python models (`exposure`), below both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from streamcensus.config import DEFAULT_CONTRIBUTION_BOUND
from streamcensus.timeutil import GRID_MINUTES
from streamcensus.transform.engines import Queries
from streamcensus.transform.noise import DEFAULT_EPSILON

# Which presence source a figure rests on: the chat list (Helix Get Chatters: everyone in the
# chat, lurkers included; only channels whose broadcaster consents or that the operator
# moderates) or chat activity (who posted, read anonymously over Twitch chat: every joined
# channel). The SQL models spell the same values; `SIGNALS` orders them (chat list first).
CHAT_LIST = "chat_list"
CHAT_ACTIVITY = "chat_activity"
SIGNALS = (CHAT_LIST, CHAT_ACTIVITY)


class Progress(Protocol):
    """Reports progress: a step name, how many steps are done, and how many there are."""

    def __call__(self, step: str, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class RunParams:
    """Parameters the models read from `run_params`."""

    k: int = 10  # minimum published group of viewers (P3)
    bot_min_chats: int = 20  # accounts in this many chats at one snapshot count as bots
    interval_minutes: int = GRID_MINUTES  # minutes between snapshots (the grid)
    lookback_days: int = 7  # "returning chatter": seen in the same chat on one of these days
    exposure_sample: int = 1000  # viewers sampled per window for unicity
    seed: int = 20131  # seeds the exposure sample, so reloads give identical tables
    epsilon: float = DEFAULT_EPSILON  # ε spent on each published people count (P3)
    # chats a person counts in per day and signal, in the per-chat figures (P3)
    contribution_bound: int = DEFAULT_CONTRIBUTION_BOUND
    # seeds the noise of published people counts (noisekey.py); None: a key per process
    noise_key: bytes | None = field(default=None, repr=False)


@dataclass
class RunContext:
    """What one run of the models covers."""

    lake_dir: Path
    run_days: list[dt.date]
    params: RunParams = field(default_factory=RunParams)
    progress: Progress | None = None
    # rows of models computed ahead of the run (the loader's presence pass), by model name;
    # the runner uses them instead of the model's query (same columns, same rows)
    precomputed: dict[str, pa.Table] = field(default_factory=dict)
    # rows of models the runner asks for when it reaches them (from data kept by the presence
    # pass, with inputs built earlier in the run), by model name; same columns, same rows
    deferred: dict[str, Callable[[Queries], pa.Table]] = field(default_factory=dict)


PythonBuild = Callable[[Queries, RunContext], pa.Table]


@dataclass(frozen=True)
class Model:
    """One model: its query (or Python builder), materialisation and inputs."""

    name: str
    materialized: str
    inputs: tuple[str, ...]
    sql: str | None = None
    order_by: tuple[str, ...] = ()
    path: Path | None = None
    build: PythonBuild | None = None
    header: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRun:
    """How one model run went."""

    name: str
    materialized: str
    rows: int
    seconds: float
    cpu_seconds: float = 0.0  # process CPU time (all threads) while the model ran
