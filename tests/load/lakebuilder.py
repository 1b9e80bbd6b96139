"""Builds raw lakes by hand for tests: streams, chatters, chat activity and coverage, and
manifest files per snapshot.

Files follow the lake contract (`streamcensus.lake.schema`) and are encoded the way the
collector writes them (Parquet, zstd level 3, one row group, chatters sorted by channel and
viewer), without depending on the lake writer. `synthetic_day` generates a whole day of
snapshots with realistic viewing sessions for measurements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from streamcensus.clock import SimClock
from streamcensus.config import Settings
from streamcensus.lake.schema import (
    CHAT_ACTIVITY_SCHEMA,
    CHAT_COVERAGE_SCHEMA,
    CHATTERS_SCHEMA,
    FOLLOWERS_SCHEMA,
    STREAMS_SCHEMA,
    raw_path,
    snapshot_id,
)
from streamcensus.load.loader import LoadReport, load_days
from streamcensus.timeutil import UTC, day_start, isoformat_z

DAY = dt.date(2026, 11, 27)  # a Friday
KEY_ID = "k1"
WINDOW_SECONDS = 300.0
# seconds joined that a coverage status is written with
JOINED_SECONDS = {"complete": 300.0, "partial": 150.0, "not_joined": 0.0, "suspended": 0.0}

Activity = Mapping[str, Mapping[int, int] | Iterable[int]]  # channel -> posters (-> messages)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    """`day` at `HH:MM` UTC."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def grid(start: dt.datetime, end: dt.datetime, step_minutes: int = 5) -> Iterator[dt.datetime]:
    """Grid times from `start` to `end`, both included."""
    moment = start
    while moment <= end:
        yield moment
        moment += dt.timedelta(minutes=step_minutes)


@dataclass(frozen=True)
class Stream:
    """One live channel at one snapshot."""

    channel_id: str
    viewer_count: int
    started_at: dt.datetime
    game_id: str = "509658"
    game_name: str = "Just Chatting"
    title: str = "live"
    login: str | None = None
    stream_id: str | None = None
    chatters_status: str = "ok"
    tracked: bool = False


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(
        table, sink, compression="zstd", compression_level=3, row_group_size=max(1, table.num_rows)
    )
    return bytes(sink.getvalue().to_pybytes())


class LakeBuilder:
    """Writes snapshots into `lake_dir`; viewers in `known_bots` are flagged as bots."""

    def __init__(self, lake_dir: Path, known_bots: Iterable[int] = ()) -> None:
        self.lake_dir = lake_dir
        self.known_bots = np.asarray(sorted(set(known_bots)), dtype=np.int64)

    def path(self, kind: str, sid: str) -> Path:
        return raw_path(self.lake_dir, kind, sid)

    def _write(self, kind: str, sid: str, data: bytes, rows: int) -> dict[str, Any]:
        path = self.path(kind, sid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return {
            "path": path.relative_to(self.lake_dir).as_posix(),
            "bytes": len(data),
            "rows": rows,
            "sha256": hashlib.sha256(data).hexdigest(),
        }

    def snapshot(
        self,
        moment: dt.datetime,
        streams: Sequence[Stream],
        chatters: Mapping[str, Iterable[int]] | None = None,
        *,
        status: str = "complete",
        manifest: Mapping[str, Any] | None = None,
        write_manifest: bool = True,
        activity: Activity | None = None,
        coverage: Mapping[str, str] | None = None,
        write_chatters: bool = True,
        followers: Mapping[str, int] | None = None,
    ) -> str:
        """Write one snapshot; `chatters` maps channel id → viewer pseudonyms.

        `activity` (channel id → posters, or posters → messages) and `coverage` (channel
        id → status; by default `complete` for every channel of `activity`) write the
        chat-activity and chat-coverage files of the window ending at `moment`;
        `followers` (channel id → total) its follower-totals file.
        """
        channels: list[str] = []
        viewers: list[int] = []
        for channel, members in (chatters or {}).items():
            for viewer in members:
                channels.append(channel)
                viewers.append(viewer)
        return self.snapshot_arrays(
            moment,
            streams,
            np.asarray(channels, dtype=object),
            np.asarray(viewers, dtype=np.int64),
            status=status,
            manifest=manifest,
            write_manifest=write_manifest,
            activity=activity,
            coverage=coverage,
            write_chatters=write_chatters,
            followers=followers,
        )

    def _chat_tables(
        self, sid: str, moment: dt.datetime, activity: Activity, coverage: Mapping[str, str]
    ) -> tuple[pa.Table, pa.Table]:
        rows: list[tuple[str, int, int]] = []
        for channel, posters in activity.items():
            counted = posters if isinstance(posters, Mapping) else dict.fromkeys(posters, 1)
            rows += [(channel, int(v), int(n)) for v, n in counted.items()]
        n = len(rows)
        bots = set(self.known_bots.tolist())
        act = pa.table(
            {
                "snapshot_id": [sid] * n,
                "snapshot_ts": pa.array([moment] * n, pa.timestamp("s", tz="UTC")),
                "channel_id": [r[0] for r in rows],
                "viewer": pa.array([r[1] for r in rows], pa.int64()),
                "key_id": [KEY_ID] * n,
                "is_bot": [r[1] in bots for r in rows],
                "bot_name": pa.array(
                    [f"bot{r[1]}" if r[1] in bots else None for r in rows], pa.string()
                ),
                "messages": pa.array([r[2] for r in rows], pa.int32()),
            },
            schema=CHAT_ACTIVITY_SCHEMA,
        ).sort_by([("channel_id", "ascending"), ("viewer", "ascending")])
        channels = sorted(coverage)
        m = len(channels)
        zeros = pa.array([0] * m, pa.int32())
        cov = pa.table(
            {
                "snapshot_id": [sid] * m,
                "snapshot_ts": pa.array([moment] * m, pa.timestamp("s", tz="UTC")),
                "channel_id": channels,
                "seconds_joined": pa.array(
                    [JOINED_SECONDS[coverage[c]] for c in channels], pa.float64()
                ),
                "status": [coverage[c] for c in channels],
                "usernotices": zeros,
                "clearchats": zeros,
                "notices": zeros,
                "malformed_lines": zeros,
            },
            schema=CHAT_COVERAGE_SCHEMA,
        )
        return act, cov

    def snapshot_arrays(
        self,
        moment: dt.datetime,
        streams: Sequence[Stream],
        chat_channels: npt.NDArray[Any],
        chat_viewers: npt.NDArray[np.int64],
        *,
        status: str = "complete",
        manifest: Mapping[str, Any] | None = None,
        write_manifest: bool = True,
        activity: Activity | None = None,
        coverage: Mapping[str, str] | None = None,
        write_chatters: bool = True,
        followers: Mapping[str, int] | None = None,
    ) -> str:
        """Write one snapshot from parallel arrays of (channel id, viewer) observations
        (`activity`, `coverage`, `write_chatters`: as in `snapshot`)."""
        sid = snapshot_id(moment)
        n = len(streams)
        stream_table = pa.table(
            {
                "snapshot_id": [sid] * n,
                "snapshot_ts": pa.array([moment] * n, pa.timestamp("s", tz="UTC")),
                "channel_id": [s.channel_id for s in streams],
                "channel_login": [s.login or f"chan{s.channel_id}" for s in streams],
                "channel_name": [(s.login or f"chan{s.channel_id}").title() for s in streams],
                "stream_id": [
                    s.stream_id or f"{s.channel_id}-{s.started_at:%Y%m%d%H%M}" for s in streams
                ],
                "language": ["fr"] * n,
                "game_id": [s.game_id for s in streams],
                "game_name": [s.game_name for s in streams],
                "title": [s.title for s in streams],
                "viewer_count": pa.array([s.viewer_count for s in streams], pa.int32()),
                "started_at": pa.array(
                    [s.started_at for s in streams], pa.timestamp("s", tz="UTC")
                ),
                "is_mature": [False] * n,
                "tags": ["Français"] * n,
                "rank": pa.array(range(1, n + 1), pa.int32()),
                "tracked": [s.tracked for s in streams],
                "chatters_status": [s.chatters_status for s in streams],
                "chatters_total": pa.array([None] * n, pa.int32()),
            },
            schema=STREAMS_SCHEMA,
        )
        m = len(chat_viewers)
        is_bot = np.isin(chat_viewers, self.known_bots)
        chat_table = pa.table(
            {
                "snapshot_id": pa.array(np.full(m, sid, dtype=object), pa.string()),
                "snapshot_ts": pa.array(
                    np.full(m, moment, dtype=object), pa.timestamp("s", tz="UTC")
                ),
                "channel_id": pa.array(chat_channels, pa.string()),
                "viewer": pa.array(chat_viewers, pa.int64()),
                "key_id": pa.array(np.full(m, KEY_ID, dtype=object), pa.string()),
                "is_bot": pa.array(is_bot, pa.bool_()),
                "bot_name": pa.array(
                    [
                        f"bot{v}" if b else None
                        for v, b in zip(chat_viewers.tolist(), is_bot, strict=True)
                    ],
                    pa.string(),
                ),
            },
            schema=CHATTERS_SCHEMA,
        ).sort_by([("channel_id", "ascending"), ("viewer", "ascending")])
        files = {"streams": self._write("streams", sid, _parquet_bytes(stream_table), n)}
        if write_chatters:
            files["chatters"] = self._write("chatters", sid, _parquet_bytes(chat_table), m)
        if activity is not None or coverage is not None:
            act, cov = self._chat_tables(
                sid,
                moment,
                activity or {},
                coverage if coverage is not None else dict.fromkeys(activity or {}, "complete"),
            )
            files["chat_activity"] = self._write(
                "chat_activity", sid, _parquet_bytes(act), act.num_rows
            )
            files["chat_coverage"] = self._write(
                "chat_coverage", sid, _parquet_bytes(cov), cov.num_rows
            )
        if followers is not None:
            channels = sorted(followers)
            totals = pa.table(
                {
                    "snapshot_id": [sid] * len(channels),
                    "snapshot_ts": pa.array([moment] * len(channels), pa.timestamp("s", tz="UTC")),
                    "channel_id": channels,
                    "followers_total": pa.array([followers[c] for c in channels], pa.int64()),
                },
                schema=FOLLOWERS_SCHEMA,
            )
            files["followers"] = self._write(
                "followers", sid, _parquet_bytes(totals), totals.num_rows
            )
        if write_manifest:
            doc: dict[str, Any] = {
                "snapshot_id": sid,
                "grid_time": isoformat_z(moment),
                "started_at": isoformat_z(moment),
                "ended_at": isoformat_z(moment + dt.timedelta(seconds=20)),
                "source": "http://127.0.0.1:8080/helix",
                "language": "fr",
                "top_n": 2000,
                "status": status,
                "channels_listed": n,
                "channels_tracked": sum(s.tracked for s in streams),
                "channels_with_chatters": sum(s.chatters_status == "ok" for s in streams),
                "channels_forbidden": sum(s.chatters_status == "forbidden" for s in streams),
                "channels_failed": sum(s.chatters_status == "error" for s in streams),
                "channels_offline": sum(s.chatters_status == "offline" for s in streams),
                "presence_observations": m,
                "optout_dropped": 0,
                "requests": 1 + n,
                "retries": 0,
                "rate_limit_waits": 0,
                "rate_limit_wait_seconds": 0.0,
                "http_429": 0,
                "errors": {},
                "missing": [],
                "key_id": KEY_ID,
                "files": files,
                "collector_version": "0.1.0",
            }
            doc.update(manifest or {})
            data = (json.dumps(doc, sort_keys=True, indent=1) + "\n").encode()
            path = self.path("manifest", sid)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return sid


@dataclass(frozen=True)
class SyntheticDay:
    """What `synthetic_day` wrote."""

    snapshots: int
    stream_facts: int
    presence_observations: int


def synthetic_day(
    builder: LakeBuilder,
    day: dt.date,
    live_channels: int = 150,
    chatters_per_snapshot: int = 20_000,
    seed: int = 7,
    mean_stay_snapshots: float = 6.0,
    gap_rate: float = 0.03,
    known_bots: int = 5,
    lurker_bots: int = 10,
    snapshots: int = 288,
    posting_share: float = 0.0,
    followers: bool = False,
    grounds: bool = False,
) -> SyntheticDay:
    """A day of 288 snapshots: channels live half the day, viewers staying ~30 minutes.

    Viewers have three favourite channels drawn by a power-law popularity and a heavy-tailed
    activity; a session continues from one snapshot to the next with probability
    1 - 1/mean_stay_snapshots; `gap_rate` of observations are missed (one-snapshot gaps).
    Known bots sit in every live chat, lurker bots in 40% of them. With `posting_share`,
    that share of each snapshot's observations also posted in the window ending at it
    (chat activity, every live channel's window complete). With `followers`, the top of
    each hour reads every live channel's follower total (growing with its popularity).
    With `grounds`, each manifest records the chat lists as read by the operator's token
    (moderation), the first live channel's by its broadcaster's (consent).
    """
    rng = np.random.default_rng(seed)
    n_channels = 2 * live_channels
    offsets = rng.integers(0, 288, n_channels)
    popularity = 1.0 / (np.arange(n_channels) + 1.0) ** 1.1
    population = chatters_per_snapshot * 8
    pseudonyms = rng.integers(
        -(2**62), 2**62, population + known_bots + lurker_bots, dtype=np.int64
    )
    people = pseudonyms[:population]
    bots = pseudonyms[population:]
    builder.known_bots = np.union1d(builder.known_bots, bots[:known_bots])
    activity = rng.pareto(1.5, population) + 1.0
    activity /= activity.sum()
    favourites = rng.choice(n_channels, size=(population, 3), p=popularity / popularity.sum())
    channel_ids = np.asarray([f"{100000 + c}" for c in range(n_channels)], dtype=object)
    act_v = np.empty(0, dtype=np.int64)
    act_c = np.empty(0, dtype=np.int64)
    facts = observations = 0
    start = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    for slot in range(snapshots):
        phase = (slot - offsets) % 288
        live = phase < 144
        keep = (rng.random(len(act_v)) < 1 - 1 / mean_stay_snapshots) & live[act_c]
        act_v, act_c = act_v[keep], act_c[keep]
        need = chatters_per_snapshot - len(act_v)
        if need > 0:
            new_v = rng.choice(population, size=int(need * 1.2), p=activity)
            new_c = favourites[new_v, rng.integers(0, 3, len(new_v))]
            live_ids = np.flatnonzero(live)
            weights = popularity[live_ids] / popularity[live_ids].sum()
            fallback = rng.choice(live_ids, size=len(new_v), p=weights)
            new_c = np.where(live[new_c], new_c, fallback)
            keys = np.concatenate([act_v * n_channels + act_c, new_v * n_channels + new_c])
            _, first = np.unique(keys, return_index=True)
            first = np.sort(first)[:chatters_per_snapshot]
            act_v = np.concatenate([act_v, new_v])[first]
            act_c = np.concatenate([act_c, new_c])[first]
        seen = rng.random(len(act_v)) >= gap_rate
        obs_v, obs_c = people[act_v[seen]], act_c[seen]
        live_ids = np.flatnonzero(live)
        bot_v = [np.repeat(bots[:known_bots], len(live_ids))]
        bot_c = [np.tile(live_ids, known_bots)]
        for lurker in bots[known_bots:]:
            chosen = live_ids[rng.random(len(live_ids)) < 0.4]
            bot_v.append(np.full(len(chosen), lurker, dtype=np.int64))
            bot_c.append(chosen)
        all_v = np.concatenate([obs_v, *bot_v])
        all_c = np.concatenate([obs_c, *bot_c])
        counts = np.bincount(all_c, minlength=n_channels)
        moment = start + dt.timedelta(minutes=5 * slot)
        streams = [
            Stream(
                channel_id=str(channel_ids[c]),
                viewer_count=int(counts[c] * 3 + 5),
                started_at=moment - dt.timedelta(minutes=5 * int(phase[c])),
                game_id=str(c % 12),
                game_name=f"Game {c % 12}",
                title=f"stream of {channel_ids[c]}",
            )
            for c in live_ids
        ]
        posters: dict[str, list[int]] | None = None
        if posting_share > 0:
            posted = rng.random(len(all_v)) < posting_share
            posters = {str(channel_ids[c]): [] for c in live_ids}
            for c, v in zip(all_c[posted].tolist(), all_v[posted].tolist(), strict=True):
                posters[str(channel_ids[c])].append(v)
        totals = None
        if followers and slot % 12 == 0:
            totals = {
                str(channel_ids[c]): int(100_000 * popularity[c]) + slot * (1 + c % 7)
                for c in live_ids
            }
        manifest = None
        if grounds:
            read = [str(channel_ids[c]) for c in live_ids]
            by = {c: "consent" if i == 0 else "moderation" for i, c in enumerate(read)}
            manifest = {
                "chat_list_grounds": by,
                "chat_list_readers": [
                    {
                        "user_id": user_id,
                        "login": login,
                        "ground": ground,
                        "channels_listed": n,
                        "channels_read": n,
                        "state": "ok",
                        "reason": "",
                    }
                    for user_id, login, ground, n in (
                        ("900001", "operator", "moderation", len(read) - 1),
                        (read[0], f"chan{read[0]}", "consent", 1),
                    )
                ],
            }
        builder.snapshot_arrays(
            moment,
            streams,
            channel_ids[all_c],
            all_v,
            activity=posters,
            followers=totals,
            manifest=manifest,
        )
        facts += len(streams)
        observations += len(all_v)
    return SyntheticDay(snapshots=snapshots, stream_facts=facts, presence_observations=observations)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings with everything under `data_dir`."""
    return Settings(data_dir=data_dir, **overrides)


def run_load(
    settings: Settings,
    days: Sequence[dt.date] | None = None,
    today: dt.date = DAY + dt.timedelta(days=2),
    **kwargs: Any,
) -> LoadReport:
    """`load_days` with a clock standing at midnight of `today` (drives retention; days
    from `today` on are not over)."""
    return load_days(settings, days, clock=SimClock(day_start(today), speed=0.0), **kwargs)


def query(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query on the warehouse, opened read-only."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def one(settings: Settings, sql: str, params: Sequence[Any] = ()) -> dict[str, Any]:
    """The single row of a query, as a dict."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        result = con.execute(sql, list(params))
        names = [d[0] for d in result.description]
        rows = result.fetchall()
    finally:
        con.close()
    assert len(rows) == 1, f"expected one row, got {len(rows)}"
    return dict(zip(names, rows[0], strict=True))


def all_tables(
    settings: Settings, without: tuple[str, ...] = ()
) -> dict[str, list[tuple[Any, ...]]]:
    """Every persistent table of the warehouse with its rows, sorted; columns named in
    `without` (measurements such as `load_seconds`) are left out."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        tables: dict[str, list[tuple[Any, ...]]] = {}
        for name in sorted(names):
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                if r[0] not in without
            ]
            query = f"select {', '.join(columns)} from {name}"
            tables[name] = sorted(con.execute(query).fetchall(), key=repr)
        return tables
    finally:
        con.close()
