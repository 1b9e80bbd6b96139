"""Loading days of the raw lake into the warehouse, then running the models and checks.

A day is loaded as a whole, in one transaction: its stream facts and manifests replace the
day's rows, its chatters files are attached for the run, the models rebuild the day's rows,
and the checks must pass or nothing is kept. Loading a day twice therefore leaves every
table as after the first load. What was loaded is recorded per file (size, rows, SHA-256)
and per day (a fingerprint of its files); `--all` loads days not loaded yet and days whose
files differ from the record (a file added, removed or resized).

Rolling aggregates (7-day overlap, returning chatters, loyalty) of later days depend on a
day, so reloading a day also reloads the loaded days in the week after it. Days whose
presence retention deleted are final and never reloaded.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from streamcensus.clock import Clock, WallClock
from streamcensus.config import Settings
from streamcensus.errors import UserError
from streamcensus.keys import KeyStore
from streamcensus.lake.schema import STREAMS_SCHEMA
from streamcensus.load.quarantine import Quarantined, quarantine_file
from streamcensus.load.rawfiles import (
    MANIFEST_COUNTS,
    BadFile,
    RawFile,
    day_files,
    day_listing,
    fingerprint,
    lake_days,
    manifest_checksums,
    read_manifest,
    read_parquet,
)
from streamcensus.load.retention import RetentionReport, apply_retention
from streamcensus.transform import checker as checks
from streamcensus.transform.context import ModelRun, Progress, RunContext, RunParams
from streamcensus.transform.runner import run_models
from streamcensus.warehouse.connection import Connection, loaded_day_rows, open_warehouse

REFRESH_DAYS = 7  # later days whose rolling aggregates read a reloaded day

MANIFEST_COLUMNS = (
    "day, slot, snapshot_id, grid_time, started_at, ended_at, duration_seconds, source, "
    "language, top_n, status, channels_listed, channels_tracked, channels_with_chatters, "
    "channels_forbidden, channels_failed, channels_offline, presence_observations, "
    "optout_dropped, requests, retries, rate_limit_waits, rate_limit_wait_seconds, http_429, "
    "errors_total, errors_json, missing_count, missing_json, key_id, collector_version"
)
STREAM_COLUMNS = "day, slot, snapshot_epoch, started_epoch, " + ", ".join(STREAMS_SCHEMA.names)
CHATTER_COLUMNS = "snapshot_id, snapshot_ts, channel_id, viewer, key_id, is_bot, bot_name"
_MANIFEST_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("slot", pa.int64()),
        ("snapshot_id", pa.string()),
        ("grid_time", pa.timestamp("us", tz="UTC")),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("ended_at", pa.timestamp("us", tz="UTC")),
        ("duration_seconds", pa.float64()),
        ("source", pa.string()),
        ("language", pa.string()),
        ("status", pa.string()),
        *[(name, pa.int64()) for name in MANIFEST_COUNTS],
        ("rate_limit_wait_seconds", pa.float64()),
        ("errors_total", pa.int64()),
        ("errors_json", pa.string()),
        ("missing_count", pa.int64()),
        ("missing_json", pa.string()),
        ("key_id", pa.string()),
        ("collector_version", pa.string()),
    ]
)


@dataclass
class DayReport:
    """What loading one day did."""

    day: dt.date
    status: str  # "loaded", "reloaded", or "refreshed" (reloaded after an earlier day)
    files: int = 0
    raw_bytes: int = 0
    snapshots: int = 0
    stream_facts: int = 0
    presence_observations: int = 0
    viewing_sessions: int = 0
    curated_bytes: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)


@dataclass
class LoadReport:
    """What a `load` did: days loaded, files quarantined, retention, timings."""

    days: list[DayReport] = field(default_factory=list)
    skipped: list[dt.date] = field(default_factory=list)  # unchanged or final
    retention: RetentionReport | None = None
    load_seconds: float = 0.0
    transform_seconds: float = 0.0
    check_seconds: float = 0.0
    models: list[ModelRun] = field(default_factory=list)

    @property
    def quarantined(self) -> list[Quarantined]:
        return [q for day in self.days for q in day.quarantined]


@dataclass
class _DayData:
    report: DayReport
    files: list[RawFile]
    streams: list[pa.Table]
    manifests: list[dict[str, Any]]
    chatters: list[RawFile]
    rows: dict[str, int]  # data file (relative path) -> rows


def run_params(settings: Settings, bot_min_chats: int | None = None) -> RunParams:
    """Model parameters from the settings (`bot_min_chats` overrides the setting)."""
    chats = bot_min_chats or settings.bot_min_chats
    return RunParams(
        k=settings.k,
        bot_min_chats=chats,
        interval_minutes=max(5, settings.interval_seconds // 60),
    )


def _read_day(lake_dir: Path, day: dt.date, now: dt.datetime, status: str) -> _DayData:
    """Validate a day's files, quarantining the bad ones; keep what loads."""
    report = DayReport(day=day, status=status)
    data = _DayData(report, [], [], [], [], {})
    files = day_files(lake_dir, day)
    manifests: dict[str, dict[str, Any]] = {}
    for raw in (f for f in files if f.kind == "manifest"):
        try:
            manifests[raw.snapshot_id] = read_manifest(raw)
        except BadFile as exc:
            report.quarantined.append(quarantine_file(lake_dir, raw, str(exc), now))
            continue
        data.files.append(raw)
    for raw in (f for f in files if f.kind != "manifest"):
        try:
            table = read_parquet(raw)
            recorded = manifest_checksums(manifests.get(raw.snapshot_id, {})).get(raw.kind)
            if recorded is not None and recorded != raw.sha256:
                raise BadFile("SHA-256 differs from the one its manifest recorded")
        except BadFile as exc:
            report.quarantined.append(quarantine_file(lake_dir, raw, str(exc), now))
            continue
        data.files.append(raw)
        data.rows[raw.rel] = table.num_rows
        if raw.kind == "streams":
            data.streams.append(table)
            report.stream_facts += table.num_rows
        else:
            data.chatters.append(raw)
            report.presence_observations += table.num_rows
        del table
    data.manifests = [{k: v for k, v in m.items() if k != "files"} for m in manifests.values()]
    report.files = len(data.files)
    report.raw_bytes = sum(f.bytes for f in data.files)
    report.snapshots = len(manifests)
    return data


def _stream_rows(tables: list[pa.Table], day: dt.date) -> pa.Table:
    table = pa.concat_tables(tables) if tables else STREAMS_SCHEMA.empty_table()
    snapshot_epoch = pc.cast(table.column("snapshot_ts"), pa.int64())
    started_epoch = pc.cast(table.column("started_at"), pa.int64())
    extra = {
        "day": pa.array([day] * table.num_rows, pa.date32()),
        "slot": pc.divide(snapshot_epoch, 300),
        "snapshot_epoch": snapshot_epoch,
        "started_epoch": started_epoch,
    }
    for position, (name, column) in enumerate(extra.items()):
        table = table.add_column(position, name, column)
    return table


def _insert_arrow(con: Connection, target: str, columns: str, table: pa.Table) -> None:
    if table.num_rows == 0:
        return
    con.register("_load_arrow", table)
    try:
        con.execute(f"insert into {target} ({columns}) select {columns} from _load_arrow")
    finally:
        con.unregister("_load_arrow")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def attach_chatters(con: Connection, paths: list[Path]) -> None:
    """The temporary view `raw_chatters` over the run's chatters files, with day and slot."""
    derived = (
        "cast(snapshot_ts as date) as day, cast(floor(epoch(snapshot_ts) / 300) as bigint) as slot"
    )
    if paths:
        listed = ", ".join(_sql_text(str(p)) for p in paths)
        source = f"read_parquet([{listed}])"
    else:
        source = (
            "(select cast(null as varchar) as snapshot_id,"
            " cast(null as timestamptz) as snapshot_ts,"
            " cast(null as varchar) as channel_id, cast(null as bigint) as viewer,"
            " cast(null as varchar) as key_id, cast(null as boolean) as is_bot,"
            " cast(null as varchar) as bot_name where 1 = 0)"
        )
    con.execute(
        f"create or replace temp view raw_chatters as select {CHATTER_COLUMNS}, {derived} "
        f"from {source} as chatters"
    )


def _record(con: Connection, data: _DayData, now: dt.datetime) -> None:
    """Replace the day's source rows and file records (inside the load transaction)."""
    day = data.report.day
    con.execute("delete from raw_streams where day = ?", [day])
    con.execute("delete from raw_manifests where day = ?", [day])
    _insert_arrow(con, "raw_streams", STREAM_COLUMNS, _stream_rows(data.streams, day))
    manifests = pa.Table.from_pylist(data.manifests, schema=_MANIFEST_SCHEMA)
    _insert_arrow(con, "raw_manifests", MANIFEST_COLUMNS, manifests)
    previous = {
        (str(r[0]), str(r[1])): r[2]
        for r in con.execute(
            "select path, sha256, loaded_at from loaded_files where day = ?", [day]
        ).fetchall()
    }
    con.execute("delete from loaded_files where day = ?", [day])
    for raw in data.files:
        con.execute(
            "insert into loaded_files values (?, ?, ?, ?, ?, ?, ?, ?, false)",
            [
                day,
                raw.kind,
                raw.snapshot_id,
                raw.rel,
                raw.bytes,
                data.rows.get(raw.rel, 1),
                raw.sha256,
                previous.get((raw.rel, raw.sha256), now),
            ],
        )
    digest = fingerprint(data.files)
    old = con.execute(
        "select fingerprint, loaded_at from loaded_days where day = ?", [day]
    ).fetchall()
    loaded_at = old[0][1] if old and old[0][0] == digest else now
    con.execute("delete from loaded_days where day = ?", [day])
    con.execute(
        "insert into loaded_days values (?, ?, ?, ?, false)",
        [day, len(data.files), digest, loaded_at],
    )


def _record_quarantine(con: Connection, records: list[Quarantined], now: dt.datetime) -> None:
    for q in records:
        con.execute(
            "insert into quarantined_files values (?, ?, ?, ?, ?, ?, ?, ?)",
            [q.day, q.kind, q.path, q.quarantine_path, q.bytes, q.sha256, q.reason, now],
        )


def _load_group(
    con: Connection,
    lake_dir: Path,
    group: list[dt.date],
    params: RunParams,
    now: dt.datetime,
    progress: Progress | None,
    report: LoadReport,
    first_status: str,
) -> None:
    started = time.perf_counter()
    datas: list[_DayData] = []
    for index, day in enumerate(group):
        if progress is not None:
            progress(f"read {day}", index, len(group))
        datas.append(_read_day(lake_dir, day, now, first_status if index == 0 else "refreshed"))
    _record_quarantine(con, [q for d in datas for q in d.report.quarantined], now)
    con.execute("begin transaction")
    try:
        for data in datas:
            _record(con, data, now)
        attach_chatters(con, [f.path for d in datas for f in d.chatters])
        report.load_seconds += time.perf_counter() - started
        started = time.perf_counter()
        known = sorted(loaded_day_rows(con))
        ctx = RunContext(lake_dir=lake_dir, run_days=list(group), params=params, progress=progress)
        report.models += run_models(con, ctx, known)
        checks_started = time.perf_counter()
        checks.assert_checks(con, ", ".join(d.isoformat() for d in group))
        curated = {
            r[0]: (int(r[1]), int(r[2]))
            for r in con.execute(
                "select day, rows, bytes from curated_files "
                "where model = 'viewing_sessions' and day in (select day from run_days)"
            ).fetchall()
        }
        report.check_seconds += time.perf_counter() - checks_started
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop view if exists raw_chatters")
    report.transform_seconds += time.perf_counter() - started
    for data in datas:
        data.report.viewing_sessions, data.report.curated_bytes = curated.get(
            data.report.day, (0, 0)
        )
        report.days.append(data.report)


def pending_days(con: Connection, lake_dir: Path) -> tuple[list[dt.date], list[dt.date]]:
    """(days to load because new or changed, days skipped as unchanged or final)."""
    loaded = loaded_day_rows(con)
    recorded: dict[dt.date, dict[str, int]] = {}
    for day, path, size in con.execute(
        "select day, path, bytes from loaded_files where not retired"
    ).fetchall():
        recorded.setdefault(day, {})[str(path)] = int(size)
    todo: list[dt.date] = []
    skipped: list[dt.date] = []
    for day in lake_days(lake_dir):
        known = loaded.get(day)
        if known is not None and (known[1] or day_listing(lake_dir, day) == recorded.get(day, {})):
            skipped.append(day)
        else:
            todo.append(day)
    return todo, skipped


def load_days(
    settings: Settings,
    days: Sequence[dt.date] | None,
    progress: Progress | None = None,
    *,
    clock: Clock | None = None,
    bot_min_chats: int | None = None,
) -> LoadReport:
    """Load `days` (or, with None, every new or changed day), run models, checks, retention.

    Retention deletes presence older than `settings.retention_days` before the clock's
    today; pass the simulator's clock when loading simulated days.
    """
    now = (clock or WallClock()).now()
    params = run_params(settings, bot_min_chats)
    report = LoadReport()
    lake_dir = settings.lake_dir
    with open_warehouse(settings.warehouse_path) as con:
        loaded = loaded_day_rows(con)
        if days is None:
            targets, report.skipped = pending_days(con, lake_dir)
        else:
            targets = sorted(set(days))
            for day in targets:
                if day in loaded and loaded[day][1]:
                    raise UserError(
                        f"{day} is past the retention period: its presence was deleted and its "
                        "aggregates are final"
                    )
                if not day_files(lake_dir, day):
                    raise UserError(
                        f"no raw files for {day} under {lake_dir / 'raw'} "
                        "(collect first, or check --data-dir)"
                    )
        done: set[dt.date] = set()
        for day in targets:
            if day in done:
                continue
            loaded = loaded_day_rows(con)
            later = [
                d
                for d in sorted(loaded)
                if day < d <= day + dt.timedelta(days=REFRESH_DAYS) and not loaded[d][1]
            ]
            group = [day, *(d for d in later if d not in done)]
            status = "reloaded" if day in loaded else "loaded"
            _load_group(con, lake_dir, group, params, now, progress, report, status)
            done.update(group)
        report.retention = apply_retention(con, lake_dir, now.date(), settings.retention_days)
    # P2: a key older than rotation + retention made nothing that is still kept
    keys = KeyStore(settings.key_store_dir, settings.key_rotation_days, clock or WallClock())
    report.retention.keys_deleted = keys.purge_expired(now, keep_days=settings.retention_days)
    return report
