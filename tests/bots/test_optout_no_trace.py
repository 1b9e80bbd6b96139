"""An opted-out viewer leaves no trace: everything stored or shown is what it would be had
she never been in a chat.

Two runs against the same simulated population and the same pseudonym key: in the first
she is in chats and is opted out; in the second the simulator leaves her out of every chat
list and nobody is opted out. The lake (streams, chatters, manifests), every warehouse table,
the curated zone, `status`, and the collector's log lines must be equal, byte for byte
or row for row. What is left out of the comparison, and why:
- run timings and HTTP byte counts (`started_at`/`ended_at`, `cpu_seconds`,
  `wall_seconds`, `bytes_sent`, `bytes_received` in manifests; `load_seconds` and other
  `*_seconds`, `loaded_at`, `fingerprint` and `sha256` (hashes of files whose contents
  are compared above, manifests with their timings included) of the bookkeeping tables)
  and `source`, `chat_source` (the simulator's ports): they describe the run, not the
  audience;
- byte sizes that include manifests (`raw_bytes` of `pipeline_health`, the manifests' rows
  of `loaded_files`, the day's `raw_bytes` in `status`): a manifest's length varies with the
  digits of its timings. The chatters files' sizes are compared.
- Twitch's own `viewer_count` is what Twitch publishes whatever we do, so the simulator
  keeps it equal in both runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from load.lakebuilder import all_tables
from streamcensus.clock import SimClock
from streamcensus.collect.privacy import Pseudonymiser
from streamcensus.collect.session import open_collector
from streamcensus.config import Settings, load_settings
from streamcensus.keys import KEYS_FILE, KeyStore
from streamcensus.load.loader import load_days
from streamcensus.noisekey import NOISE_KEY_FILE
from streamcensus.simulator.permissions import Permissions
from streamcensus.simulator.protocol import ChatterList
from streamcensus.simulator.world import PopulationWorld
from streamcensus.status import collect_status
from streamcensus.timeutil import UTC, day_start

EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
MOMENTS = [EVENING + dt.timedelta(minutes=5 * i) for i in range(6)]
RUN_FIELDS = {
    "chat_source",
    "started_at",
    "ended_at",
    "cpu_seconds",
    "wall_seconds",
    "bytes_sent",
    "bytes_received",
    "source",
}
SEED = 5


class WorldWithout(PopulationWorld):
    """The same population, with one account in no chat list (she never chatted)."""

    def __init__(self, absent: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.absent = absent

    def chatters(self, broadcaster_id: str, t: float) -> ChatterList | None:
        found = super().chatters(broadcaster_id, t)
        if found is None:
            return None
        ids = found.account_ids
        return ChatterList(broadcaster_id, ids[ids != self.absent])


def _world(cls: type[PopulationWorld] = PopulationWorld, **kwargs: Any) -> PopulationWorld:
    return cls(scale="small", seed=SEED, permissions=Permissions(mode="all-moderated"), **kwargs)


def _someone_present_sometimes(world: PopulationWorld) -> tuple[int, str, int]:
    """A person (no bot, no broadcaster) in a listed chat at some of the moments, not all."""
    bots = set(world.bot_ids().tolist())
    seen: dict[int, int] = {}
    for moment in MOMENTS:
        t = moment.timestamp()
        here: set[int] = set()
        for stream in [s for s in world.live_streams(t) if s.language == "fr"][:20]:
            chat = world.chatters(stream.user_id, t)
            if chat is not None:
                here |= set(chat.account_ids.tolist())
        for account in here:
            seen[account] = seen.get(account, 0) + 1
    channels = {int(i) for i in world._channel_ids.tolist()}
    candidates = sorted(
        a for a, n in seen.items() if 2 <= n < len(MOMENTS) and a not in bots | channels
    )
    account = candidates[len(candidates) // 2]
    return account, world.logins(np.asarray([account]))[0], seen[account]


async def _run(
    settings: Settings, world: PopulationWorld, running_simulator: Any, caplog: Any
) -> list[str]:
    handle = running_simulator(world, start=MOMENTS[0].timestamp())
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        async with open_collector(
            settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
        ) as session:
            for moment in MOMENTS:
                handle.clock.set(moment.timestamp())
                await session.collector.collect(moment)
        load_days(
            settings,
            [EVENING.date()],
            clock=SimClock(day_start(EVENING.date() + dt.timedelta(days=1)), speed=0.0),
        )
    return [r.getMessage() for r in caplog.records if r.name.startswith("streamcensus")]


def _lake(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    root = settings.lake_dir
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        if path.suffix == ".json":
            doc = json.loads(path.read_bytes())
            out[name] = {k: v for k, v in doc.items() if k not in RUN_FIELDS}
        elif path.suffix == ".parquet":
            out[name] = pq.read_table(path).to_pylist()
        else:
            out[name] = path.read_bytes()
    return out


def _tables(settings: Settings) -> dict[str, Any]:
    tables = all_tables(settings)
    import duckdb

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        kept: dict[str, Any] = {}
        for name in tables:
            columns = [r[0] for r in con.execute(f"describe {name}").fetchall()]
            chosen = [
                c
                for c in columns
                if not c.endswith("_seconds")
                and c not in RUN_FIELDS
                and c not in ("loaded_at", "fingerprint", "sha256")
            ]
            if name == "pipeline_health":  # manifests' sizes vary with their timings' digits
                chosen = [c for c in chosen if c not in ("raw_bytes", "raw_bytes_per_observation")]
            if name == "loaded_files":  # a manifest's size varies with its timings' digits
                chosen = [
                    "case when kind = 'manifest' then null else bytes end" if c == "bytes" else c
                    for c in chosen
                ]
            rows = con.execute(f"select {', '.join(chosen)} from {name}").fetchall()
            kept[name] = sorted(map(repr, rows))
        return kept
    finally:
        con.close()


async def test_an_opted_out_viewer_leaves_no_trace(
    tmp_path: Path, running_simulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    full = _world()
    account, login, present = _someone_present_sometimes(full)
    assert 2 <= present < len(MOMENTS)  # a timeline there would be something to leak

    # chat lists only: the simulated chat cannot leave her out of the rooms without drawing
    # other posters anew; the chat door drops her posts before any count
    # (tests/collect/chat/test_windows.py)
    common = {"top_n": 20, "chat_enabled": False}
    opted = load_settings(
        overrides={"data_dir": tmp_path / "a", "optout_viewers": [login], **common},
        environ={},
    )
    never = load_settings(overrides={"data_dir": tmp_path / "b", **common}, environ={})
    logs_a = await _run(opted, full, running_simulator, caplog)
    # the same keys in both runs, so pseudonyms are comparable
    (never.key_store_dir).mkdir(parents=True)
    shutil.copy(opted.key_store_dir / KEYS_FILE, never.key_store_dir / KEYS_FILE)
    # and the same noise key, so that equal counts publish equal noisy figures
    shutil.copy(opted.key_store_dir / NOISE_KEY_FILE, never.key_store_dir / NOISE_KEY_FILE)
    logs_b = await _run(never, _world(WorldWithout, absent=account), running_simulator, caplog)

    lake_a, lake_b = _lake(opted), _lake(never)
    assert sorted(lake_a) == sorted(lake_b)
    for name in lake_a:
        assert lake_a[name] == lake_b[name], name
    tables_a, tables_b = _tables(opted), _tables(never)
    assert sorted(tables_a) == sorted(tables_b)
    for name in tables_a:
        assert tables_a[name] == tables_b[name], name
    status_a, status_b = collect_status(opted), collect_status(never)
    for status in (status_a, status_b):
        for day in status["days"].values():
            day.pop("raw_bytes")
    shown_a = json.dumps(status_a, default=str).replace(str(opted.data_dir), "D")
    shown_b = json.dumps(status_b, default=str).replace(str(never.data_dir), "D")
    assert shown_a == shown_b
    strip = (str(opted.data_dir), str(never.data_dir))
    clean_a = [m.replace(strip[0], "D") for m in logs_a]
    clean_b = [m.replace(strip[1], "D") for m in logs_b]
    assert clean_a == clean_b
    manifests = [doc for name, doc in lake_a.items() if name.startswith("raw/manifest/")]
    assert len(manifests) == len(MOMENTS)
    assert not any("optout" in key for doc in manifests for key in doc)
    # her pseudonym under the key is nowhere in the presence data
    key = KeyStore(opted.key_store_dir, 30, SimClock(MOMENTS[0].timestamp())).list_keys()[0]
    her = Pseudonymiser(key, [], []).pseudonym(str(account))
    chatters = [row for name, rows in lake_a.items() if "/chatters/" in name for row in rows]
    assert chatters and her not in {row["viewer"] for row in chatters}
