"""An opted-out viewer leaves no trace: everything stored or shown is what it would be had
she never been in a chat, through either door (chat lists, and chat activity read over the
simulated Twitch chat).

Two runs against the same simulated population and the same pseudonym key: in the first
she is in chats, posts in them, and is opted out; in the second the simulator leaves her out
of every chat list and every chat event (the same chat otherwise: the same messages of
everyone else, drawn from the same rooms) and nobody is opted out. The lake (streams,
chatters, chat activity and coverage, manifests), every warehouse table, the curated zone,
`status`, every page of the JSON API, the collector's metrics and its log lines must be
equal, byte for byte or row for row. What is left out of the comparison, and why:
- run timings and HTTP byte counts (`started_at`/`ended_at`, `cpu_seconds`,
  `wall_seconds`, `bytes_sent`, `bytes_received` in manifests; `load_seconds` and other
  `*_seconds`, `loaded_at`, `fingerprint` and `sha256` (hashes of files whose contents
  are compared above, manifests with their timings included) of the bookkeeping tables)
  and `source`, `chat_source` (the simulator's ports): they describe the run, not the
  audience;
- byte sizes that include manifests (`raw_bytes` of `pipeline_health` and of the health
  page, the manifests' rows of `loaded_files`, the day's `raw_bytes` in `status`): a
  manifest's length varies with the digits of its timings. The chatters files' sizes are
  compared.
- Twitch's own `viewer_count` is what Twitch publishes whatever we do, so the simulator
  keeps it equal in both runs;
- the collector's snapshot durations (a histogram of wall time) and the creation times of
  its series, as the run timings above, and the process's own series (memory, CPU);
The chat listener's count of message lines read (`chat_counters.messages` in manifests,
the `messages` chat-event metric) is checked apart at the end: her lines are dropped at
the door before they are counted, so it is equal in both runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
import pytest
from prometheus_client import generate_latest

from load.lakebuilder import all_tables, query
from streamcensus.clock import SimClock
from streamcensus.collect.metrics import CollectorMetrics
from streamcensus.collect.privacy import Pseudonymiser
from streamcensus.collect.session import open_collector
from streamcensus.collect.simulated import collect_grid_time
from streamcensus.config import Settings, load_settings
from streamcensus.keys import KEYS_FILE, KeyStore
from streamcensus.load.loader import load_days
from streamcensus.noisekey import NOISE_KEY_FILE
from streamcensus.serve.app import create_app
from streamcensus.simulator.chat.model import ChatModel, ChatTick, Kind
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
PORT = re.compile(r"127\.0\.0\.1:\d+")
# counters of the chat listener that count protocol lines before its opt-out door
LINE_COUNTERS = ("messages",)


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


class ChatWithout(ChatModel):
    """The chat of the full population (the same rooms, so the same draws for everyone),
    with every event of one account taken out: she never posted, was never timed out,
    never joined or left."""

    def __init__(self, world: PopulationWorld, absent: int) -> None:
        super().__init__(world)
        self.absent = absent

    def _build(self, tick: int) -> ChatTick:
        built = super()._build(tick)
        keep = built.account != self.absent
        return dataclasses.replace(
            built,
            ts_ms=built.ts_ms[keep],
            room=built.room[keep],
            kind=built.kind[keep],
            sub=built.sub[keep],
            account=built.account[keep],
            role=built.role[keep],
            variant=built.variant[keep],
            extra=built.extra[keep],
        )

    def membership(
        self, tick: int
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]
    ]:
        room, user, joined, ts = super().membership(tick)
        keep = user != self.absent
        return room[keep], user[keep], joined[keep], ts[keep]


def _world(cls: type[PopulationWorld] = PopulationWorld, **kwargs: Any) -> PopulationWorld:
    return cls(scale="small", seed=SEED, permissions=Permissions(mode="all-moderated"), **kwargs)


def _posters(world: PopulationWorld, channels: set[int]) -> set[int]:
    """Accounts that post in those chats in the windows the collector reads."""
    model = ChatModel(world)
    first = model.tick_of(MOMENTS[0].timestamp())
    last = model.tick_of(MOMENTS[-1].timestamp())
    found: set[int] = set()
    for tick in range(first, last + 1):
        events = model.tick(tick)
        rooms = events.rooms.channel_ids[events.room]
        posted = (events.kind == Kind.PRIVMSG) & np.isin(rooms, list(channels))
        found |= set(events.account[posted].tolist())
    return found


def _someone_present_sometimes(world: PopulationWorld) -> tuple[int, str, int]:
    """A person (no bot, no broadcaster) in a listed chat at some of the moments, not all,
    who posts in one of those chats."""
    bots = set(world.bot_ids().tolist())
    seen: dict[int, int] = {}
    listed: set[int] = set()
    for moment in MOMENTS:
        t = moment.timestamp()
        here: set[int] = set()
        for stream in [s for s in world.live_streams(t) if s.language == "fr"][:20]:
            listed.add(int(stream.user_id))
            chat = world.chatters(stream.user_id, t)
            if chat is not None:
                here |= set(chat.account_ids.tolist())
        for account in here:
            seen[account] = seen.get(account, 0) + 1
    channels = {int(i) for i in world._channel_ids.tolist()}
    posters = _posters(world, listed)
    candidates = sorted(
        a
        for a, n in seen.items()
        if 2 <= n < len(MOMENTS) and a not in bots | channels and a in posters
    )
    account = candidates[len(candidates) // 2]
    return account, world.logins(np.asarray([account]))[0], seen[account]


async def _run(
    settings: Settings,
    world: PopulationWorld,
    running_simulator: Any,
    caplog: Any,
    chat: ChatModel | None = None,
) -> tuple[list[str], str]:
    """Collect the moments (chat lists and chat activity) and load the day; the log lines
    and the collector's metrics (fed by each snapshot, as the collector's loop does)."""
    handle = running_simulator(world, start=MOMENTS[0].timestamp())
    if chat is not None:
        handle.chat.model = chat
    metrics = CollectorMetrics(handle.clock)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        async with open_collector(
            settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
        ) as session:
            assert session.chat is not None
            for moment in MOMENTS:
                record = await collect_grid_time(session, handle.clock, moment, 0.0)
                metrics.observe_snapshot(record)
        load_days(
            settings,
            [EVENING.date()],
            clock=SimClock(day_start(EVENING.date() + dt.timedelta(days=1)), speed=0.0),
        )
    logs = [r.getMessage() for r in caplog.records if r.name.startswith("streamcensus")]
    # the collector's own series (not the process's memory and CPU), less the wall-clock
    # ones: when each series was created, how long each snapshot took
    series = [
        line
        for line in generate_latest(metrics.registry).decode().splitlines()
        if "streamcensus_" in line and "snapshot_duration" not in line and "_created" not in line
    ]
    return logs, "\n".join(series)


def _split_lines(series: str) -> tuple[str, list[str]]:
    """The metrics without the chat listener's line counters, and those apart."""
    apart = [f'event="{c}"' for c in LINE_COUNTERS]
    lines = series.splitlines()
    kept = [line for line in lines if not any(a in line for a in apart)]
    return "\n".join(kept), [line for line in lines if any(a in line for a in apart)]


async def _api(settings: Settings) -> dict[str, Any]:
    """Every page of the JSON API for the day, and each channel's page."""
    app = create_app(settings)
    day = EVENING.date().isoformat()
    pages: dict[str, Any] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:

            async def get(path: str, **params: Any) -> Any:
                response = await c.get(path, params=params)
                assert response.status_code == 200, (path, response.text)
                return response.json()

            pages["days"] = await get("/api/days")
            for path in ("overview", "schedules", "habits", "exposure", "health", "chat-lists"):
                pages[path] = await get(f"/api/{path}", day=day)
            for signal in ("chat_list", "chat_activity"):
                for window in (1, 7):
                    pages[f"map {signal} {window}"] = await get(
                        "/api/map", day=day, window=window, signal=signal
                    )
            logins = sorted(
                str(r[0])
                for r in query(
                    settings,
                    "select distinct channel_login from channel_day "
                    "where channel_login is not null",
                )
            )
            assert logins
            for login in logins:
                pages[f"channel {login}"] = await get(f"/api/channels/{login}", day=day)
    finally:
        app.state.serve.pool.close()
    return _without(json.loads(json.dumps(pages).replace(str(settings.data_dir), "D")))


def _without(doc: Any, keys: tuple[str, ...] = ("raw_bytes",)) -> Any:
    """`doc` less `keys` at any depth (`raw_bytes` includes manifests: see above)."""
    if isinstance(doc, dict):
        return {k: _without(v, keys) for k, v in doc.items() if k not in keys}
    if isinstance(doc, list):
        return [_without(v, keys) for v in doc]
    return doc


def _lake(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    root = settings.lake_dir
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        if path.suffix == ".json":
            doc = json.loads(path.read_bytes())
            counters = doc.get("chat_counters")
            if isinstance(counters, dict):
                lines = {c: counters.pop(c, None) for c in LINE_COUNTERS}
                out[f"{name} lines"] = lines
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
            if name == "raw_manifests":  # the line counters are checked apart (LINE_COUNTERS)
                patch = json.dumps(dict.fromkeys(LINE_COUNTERS))
                chosen = [
                    f"json_merge_patch(chat_counters_json, '{patch}')"
                    if c == "chat_counters_json"
                    else c
                    for c in chosen
                ]
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

    common = {"top_n": 20}
    opted = load_settings(
        overrides={"data_dir": tmp_path / "a", "optout_viewers": [login], **common},
        environ={},
    )
    never = load_settings(overrides={"data_dir": tmp_path / "b", **common}, environ={})
    logs_a, metrics_a = await _run(opted, full, running_simulator, caplog)
    # the same keys in both runs, so pseudonyms are comparable
    (never.key_store_dir).mkdir(parents=True)
    shutil.copy(opted.key_store_dir / KEYS_FILE, never.key_store_dir / KEYS_FILE)
    # and the same noise key, so that equal counts publish equal noisy figures
    shutil.copy(opted.key_store_dir / NOISE_KEY_FILE, never.key_store_dir / NOISE_KEY_FILE)
    logs_b, metrics_b = await _run(
        never,
        _world(WorldWithout, absent=account),
        running_simulator,
        caplog,
        chat=ChatWithout(_world(), account),
    )

    lake_a, lake_b = _lake(opted), _lake(never)
    assert sorted(lake_a) == sorted(lake_b)
    for name in lake_a:
        if not name.endswith(" lines"):  # LINE_COUNTERS: checked apart at the end
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
    # the simulator's ports differ from run to run
    clean_a = [PORT.sub("127.0.0.1:P", m.replace(strip[0], "D")) for m in logs_a]
    clean_b = [PORT.sub("127.0.0.1:P", m.replace(strip[1], "D")) for m in logs_b]
    assert clean_a == clean_b
    series_a, lines_a = _split_lines(metrics_a)
    series_b, lines_b = _split_lines(metrics_b)
    assert series_a == series_b
    assert "streamcensus_chat_events_total" in series_a  # the chat was read
    assert await _api(opted) == await _api(never)
    manifests = [
        doc
        for name, doc in lake_a.items()
        if name.startswith("raw/manifest/") and not name.endswith(" lines")
    ]
    assert len(manifests) == len(MOMENTS)
    assert not any("optout" in key for doc in manifests for key in doc)
    # her pseudonym under the key is nowhere in the presence data
    key = KeyStore(opted.key_store_dir, 30, SimClock(MOMENTS[0].timestamp())).list_keys()[0]
    her = Pseudonymiser(key, [], []).pseudonym(str(account))
    chatters = [row for name, rows in lake_a.items() if "/chatters/" in name for row in rows]
    assert chatters and her not in {row["viewer"] for row in chatters}
    posted = [row for name, rows in lake_a.items() if "/chat_activity/" in name for row in rows]
    assert posted and her not in {row["viewer"] for row in posted}
    # the listener's count of lines read (LINE_COUNTERS), checked apart: hers are dropped
    # before they are counted, so both runs read the same number of lines
    counted_a = [v for n, v in sorted(lake_a.items()) if n.endswith(" lines")] + lines_a
    counted_b = [v for n, v in sorted(lake_b.items()) if n.endswith(" lines")] + lines_b
    assert counted_a == counted_b
