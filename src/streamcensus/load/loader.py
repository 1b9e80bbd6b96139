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

Only days that are over are loaded on their own (`--all`, the daily load of `run`): the
clock's current UTC day is loaded only when asked for by name, and is then recorded as
partial (`loaded_days.complete = false`, `pipeline_health.day_complete`) until a later load
after midnight completes it. Every data file is used only if its snapshot's manifest lists
it with the same SHA-256; a data file without such a manifest (a collector killed before
writing it) is left in place, not loaded, and reported as orphaned.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from streamcensus import noisekey
from streamcensus.clock import Clock, WallClock
from streamcensus.config import Settings
from streamcensus.errors import UserError
from streamcensus.keys import KeyStore
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import (
    CHATTERS,
    DATA_KINDS,
    MANIFEST,
    STREAMS,
    RawKind,
    snapshot_time,
)
from streamcensus.lake.stores import open_lake
from streamcensus.load.quarantine import Quarantined, quarantine_file
from streamcensus.load.rawfiles import (
    BadFile,
    RawFile,
    RawSource,
    day_files,
    day_listing,
    fingerprint,
    lake_days,
    read_manifest,
    read_parquet,
    scrub_manifest,
)
from streamcensus.load.retention import RetentionReport, apply_retention
from streamcensus.timeutil import GRID_SECONDS
from streamcensus.transform import checker as checks
from streamcensus.transform.context import ModelRun, Progress, RunContext, RunParams
from streamcensus.transform.engines import Engine
from streamcensus.transform.engines.spark import LOCAL_MASTER
from streamcensus.transform.presence import SIGNAL_KINDS, DayPresence, combine_days
from streamcensus.transform.presence_people import MODELS as PEOPLE_MODELS
from streamcensus.transform.presence_people import PresencePeople
from streamcensus.transform.runner import run_models
from streamcensus.warehouse import curated, ddl
from streamcensus.warehouse.connection import (
    Connection,
    incomplete_days,
    loaded_day_rows,
    open_warehouse,
)

REFRESH_DAYS = 7  # later days whose rolling aggregates read a reloaded day
READ_THREADS = 2  # files decoded (and checked) ahead of the presence pass
READ_AHEAD = 8


@dataclass
class DayReport:
    """What loading one day did."""

    day: dt.date
    status: str  # "loaded", "reloaded", or "refreshed" (reloaded after an earlier day)
    files: int = 0
    raw_bytes: int = 0
    snapshots: int = 0
    stream_facts: int = 0
    presence_observations: int = 0  # chat-list observations (rows of the chatters files)
    activity_observations: int = 0  # chat-activity observations (who posted, per window)
    viewing_sessions: int = 0
    curated_bytes: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)  # data files no manifest vouches for
    complete: bool = True  # False: the day was not over when loaded (partial)


@dataclass
class LoadReport:
    """What a `load` did: days loaded, files quarantined, retention, timings."""

    days: list[DayReport] = field(default_factory=list)
    skipped: list[dt.date] = field(default_factory=list)  # unchanged or final
    not_over: list[dt.date] = field(default_factory=list)  # today's data, left for later
    retention: RetentionReport | None = None
    load_seconds: float = 0.0
    transform_seconds: float = 0.0
    check_seconds: float = 0.0
    presence_pass_seconds: float = 0.0  # sessionising while reading (inside load_seconds)
    models: list[ModelRun] = field(default_factory=list)

    @property
    def quarantined(self) -> list[Quarantined]:
        return [q for day in self.days for q in day.quarantined]


@dataclass
class _DayData:
    report: DayReport
    files: list[RawFile]  # every file used (manifests and data files)
    tables: dict[str, list[pa.Table]]  # kind -> rows of the kinds copied into the warehouse
    presence: dict[str, list[RawFile]]  # kind -> files of the presence kinds
    manifests: list[ManifestRecord]
    orphans: list[RawFile]
    rows: dict[str, int]  # data file (relative path) -> rows
    # the day sessionised as it was read, one pass per signal (none: the SQL runs)
    sessionisers: dict[str, DayPresence] = field(default_factory=dict)
    pass_seconds: float = 0.0  # spent in the presence pass


def run_params(settings: Settings, bot_min_chats: int | None = None) -> RunParams:
    """Model parameters from the settings (`bot_min_chats` overrides the setting)."""
    return RunParams(
        k=settings.k,
        bot_min_chats=bot_min_chats or settings.bot_min_chats,
        epsilon=settings.privacy_epsilon,
        contribution_bound=settings.privacy_contribution_bound,
        noise_key=noisekey.load_or_create(settings.key_store_dir),
    )


def _vouched(raw: RawFile, manifests: dict[str, ManifestRecord]) -> bool:
    """True if the file's manifest lists it (path and kind); raises BadFile on a SHA-256
    that differs from the one recorded."""
    record = manifests.get(raw.snapshot_id)
    entry = None if record is None else record.files.get(raw.kind)
    if entry is None or entry["path"] != raw.rel:
        return False
    if entry["sha256"] != raw.sha256:
        raise BadFile("SHA-256 differs from the one its manifest recorded")
    return True


def _checked(raw: RawFile, manifests: dict[str, ManifestRecord]) -> pa.Table | BadFile | None:
    """A data file's rows if its manifest vouches for it and it checks; None for an orphan;
    the BadFile when it fails (runs in a reader thread)."""
    try:
        if not _vouched(raw, manifests):
            return None
        return read_parquet(raw)
    except BadFile as exc:
        return exc


def _read_ahead(
    files: list[RawFile], manifests: dict[str, ManifestRecord]
) -> Iterator[tuple[RawFile, pa.Table | BadFile | None]]:
    """Each data file with its outcome, in order, decoded by `READ_THREADS` threads at most
    `READ_AHEAD` files ahead (memory stays bounded by a few snapshots)."""
    with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="load-read") as pool:
        pending: deque[tuple[RawFile, Future[pa.Table | BadFile | None]]] = deque()
        upcoming = iter(files)
        for raw in upcoming:
            pending.append((raw, pool.submit(_checked, raw, manifests)))
            if len(pending) >= READ_AHEAD:
                break
        while pending:
            raw, future = pending.popleft()
            following = next(upcoming, None)
            if following is not None:
                pending.append((following, pool.submit(_checked, following, manifests)))
            yield raw, future.result()


def _read_day(
    raw_lake: RawSource,
    day: dt.date,
    now: dt.datetime,
    status: str,
    params: RunParams,
    presence_pass: bool = True,
) -> _DayData:
    """Validate a day's files, quarantining the bad ones; keep what loads.

    Stream facts are read first, then presence in time order, each presence file handed
    to its signal's presence pass while it is in memory (`transform/presence.py`).
    """
    report = DayReport(day=day, status=status)
    data = _DayData(report, [], {}, {}, [], [], {})
    if presence_pass:
        data.sessionisers = {
            signal: DayPresence(day, params.bot_min_chats, params.interval_minutes, signal)
            for signal in SIGNAL_KINDS.values()
        }
    files = day_files(raw_lake, day)
    manifests: dict[str, ManifestRecord] = {}
    for raw in (f for f in files if f.kind == MANIFEST):
        try:
            manifests[raw.snapshot_id] = read_manifest(raw)
        except BadFile as exc:
            report.quarantined.append(quarantine_file(raw_lake, raw, str(exc), now))
            continue
        data.files.append(scrub_manifest(raw_lake, raw, manifests[raw.snapshot_id]))
    ordered = sorted(
        (f for f in files if f.kind != MANIFEST),
        key=lambda f: (DATA_KINDS[f.kind].presence, f.snapshot_id, f.kind),
    )
    for raw, outcome in _read_ahead(ordered, manifests):
        kind = DATA_KINDS[raw.kind]
        if outcome is None:
            data.orphans.append(raw)
            report.orphaned.append(raw.rel)
            continue
        if isinstance(outcome, BadFile):
            report.quarantined.append(quarantine_file(raw_lake, raw, str(outcome), now))
            continue
        table = outcome
        data.files.append(raw)
        data.rows[raw.rel] = table.num_rows
        if kind.presence:
            data.presence.setdefault(kind.name, []).append(raw)
            if kind.name == CHATTERS.name:
                report.presence_observations += table.num_rows
            else:
                report.activity_observations += table.num_rows
            sessioniser = data.sessionisers.get(SIGNAL_KINDS.get(kind.name, ""))
            if sessioniser is not None:
                began = time.perf_counter()
                moment = snapshot_time(raw.snapshot_id)
                sessioniser.add(moment, table)
                data.pass_seconds += time.perf_counter() - began
        else:
            data.tables.setdefault(kind.name, []).append(table)
            if kind.name == STREAMS.name:
                report.stream_facts += table.num_rows
        del table
    data.manifests = list(manifests.values())
    report.files = len(data.files)
    report.raw_bytes = sum(f.bytes for f in data.files)
    report.snapshots = len(manifests)
    return data


def _warehouse_rows(kind: RawKind, tables: list[pa.Table], day: dt.date) -> pa.Table:
    """A kind's rows with the warehouse's derived columns: day, slot and epochs."""
    table = pa.concat_tables(tables) if tables else kind.schema.empty_table()
    snapshot_epoch = pc.cast(table.column("snapshot_ts"), pa.int64())
    derived: dict[str, pa.Array | pa.ChunkedArray] = {
        "day": pa.array([day] * table.num_rows, pa.date32()),
        "slot": pc.divide(snapshot_epoch, GRID_SECONDS),
    }
    for name, column in kind.epochs.items():
        derived[name] = pc.cast(table.column(column), pa.int64())
    for position, (name, values) in enumerate(derived.items()):
        table = table.add_column(position, name, values)
    return table


def _insert_arrow(con: Connection, target: str, table: pa.Table) -> None:
    if table.num_rows == 0:
        return
    columns = ddl.column_list(target)
    con.register("_load_arrow", table)
    try:
        con.execute(f"insert into {target} ({columns}) select {columns} from _load_arrow")
    finally:
        con.unregister("_load_arrow")


def _record(con: Connection, data: _DayData, now: dt.datetime, complete: bool) -> None:
    """Replace the day's source rows and file records (inside the load transaction)."""
    day = data.report.day
    for kind in DATA_KINDS.values():
        if kind.presence:
            continue
        con.execute(f"delete from {kind.table} where day = ?", [day])
        _insert_arrow(con, kind.table, _warehouse_rows(kind, data.tables.get(kind.name, []), day))
    con.execute("delete from raw_manifests where day = ?", [day])
    rows = [ddl.manifest_row(m) for m in data.manifests]
    _insert_arrow(
        con, "raw_manifests", pa.Table.from_pylist(rows, schema=ddl.manifest_arrow_schema())
    )
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
    con.execute("delete from orphaned_files where day = ?", [day])
    for raw in data.orphans:
        con.execute(
            "insert into orphaned_files values (?, ?, ?, ?, ?)",
            [day, raw.kind, raw.snapshot_id, raw.rel, raw.bytes],
        )
    digest = fingerprint(data.files)
    old = con.execute(
        "select fingerprint, loaded_at, load_seconds from loaded_days where day = ?", [day]
    ).fetchall()
    same = bool(old) and old[0][0] == digest
    loaded_at, load_seconds = (old[0][1], old[0][2]) if same else (now, None)
    con.execute("delete from loaded_days where day = ?", [day])
    con.execute(
        f"insert into loaded_days ({ddl.column_list('loaded_days')}) "
        "values (?, ?, ?, ?, false, ?, ?)",
        [day, len(data.files), digest, loaded_at, complete, load_seconds],
    )


def _record_quarantine(con: Connection, records: list[Quarantined], now: dt.datetime) -> None:
    for q in records:
        con.execute(
            "insert into quarantined_files values (?, ?, ?, ?, ?, ?, ?, ?)",
            [q.day, q.kind, q.path, q.quarantine_path, q.bytes, q.sha256, q.reason, now],
        )


def _load_group(
    con: Connection,
    raw_lake: RawSource,
    lake_dir: Path,
    group: list[dt.date],
    params: RunParams,
    now: dt.datetime,
    progress: Progress | None,
    report: LoadReport,
    first_status: str,
    presence_pass: bool = True,
    engine: Engine = "duckdb",
    spark_master: str = LOCAL_MASTER,
) -> None:
    started = group_started = time.perf_counter()
    today = now.date()
    datas: list[_DayData] = []
    for index, day in enumerate(group):
        if progress is not None:
            progress(f"read {day}", index, len(group))
        status = first_status if index == 0 else "refreshed"
        datas.append(_read_day(raw_lake, day, now, status, params, presence_pass))
    _record_quarantine(con, [q for d in datas for q in d.report.quarantined], now)
    con.execute("begin transaction")
    try:
        for data in datas:
            data.report.complete = data.report.day < today
            _record(con, data, now, data.report.complete)
        for kind in DATA_KINDS.values():
            if kind.presence:
                paths = [f.path for d in datas for f in d.presence.get(kind.name, [])]
                ddl.attach_presence(con, kind, paths)
        report.load_seconds += time.perf_counter() - started
        started = time.perf_counter()
        known = sorted(loaded_day_rows(con))
        ctx = RunContext(lake_dir=lake_dir, run_days=list(group), params=params, progress=progress)
        began = time.perf_counter()
        passes = [d.sessionisers for d in datas]
        precomputed = (
            combine_days([s.finish() for p in passes for s in p.values()]) if all(passes) else None
        )
        report.presence_pass_seconds += time.perf_counter() - began
        report.presence_pass_seconds += sum(d.pass_seconds for d in datas)
        if precomputed is not None:
            ctx.precomputed.update(precomputed)
            people = PresencePeople([s for p in passes for s in p.values()])
            ctx.deferred.update({name: partial(people.rows, name) for name in PEOPLE_MODELS})
        report.models += run_models(con, ctx, known, engine=engine, spark_master=spark_master)
        checks_started = time.perf_counter()
        checks.assert_checks(con, ", ".join(d.isoformat() for d in group))
        curated_rows = {
            r[0]: (int(r[1]), int(r[2]))
            for r in con.execute(
                "select day, rows, bytes from curated_files "
                "where model = 'viewing_sessions' and day in (select day from run_days)"
            ).fetchall()
        }
        report.check_seconds += time.perf_counter() - checks_started
        # measured once per content: loading the same files again changes nothing
        con.execute(
            "update loaded_days set load_seconds = ? "
            "where day in (select day from run_days) and load_seconds is null",
            [(time.perf_counter() - group_started) / len(group)],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for kind in DATA_KINDS.values():
            if kind.presence:
                con.execute(f"drop view if exists {kind.table}")
        # the curated zone follows the outcome: files of the losing side are deleted
        curated.collect_garbage(con, lake_dir)
        raw_lake.clear_scratch()  # local copies of object-storage files
    report.transform_seconds += time.perf_counter() - started
    for data in datas:
        data.report.viewing_sessions, data.report.curated_bytes = curated_rows.get(
            data.report.day, (0, 0)
        )
        report.days.append(data.report)


def pending_days(
    con: Connection, lake_dir: RawSource | Path, today: dt.date
) -> tuple[list[dt.date], list[dt.date], list[dt.date]]:
    """(days to load because new, changed or loaded partial; days skipped as unchanged or
    final; days not over yet, left for a load after midnight)."""
    loaded = loaded_day_rows(con)
    partial = incomplete_days(con)
    recorded: dict[dt.date, dict[str, int]] = {}
    for day, path, size in con.execute(
        "select day, path, bytes from loaded_files where not retired "
        "union all select day, path, bytes from orphaned_files"
    ).fetchall():
        recorded.setdefault(day, {})[str(path)] = int(size)
    todo: list[dt.date] = []
    skipped: list[dt.date] = []
    not_over: list[dt.date] = []
    for day in lake_days(lake_dir):
        known = loaded.get(day)
        if day >= today:
            not_over.append(day)
        elif known is not None and (
            known[1] or (day not in partial and day_listing(lake_dir, day) == recorded.get(day, {}))
        ):
            skipped.append(day)
        else:
            todo.append(day)
    return todo, skipped, not_over


def load_days(
    settings: Settings,
    days: Sequence[dt.date] | None,
    progress: Progress | None = None,
    *,
    clock: Clock | None = None,
    bot_min_chats: int | None = None,
    presence_pass: bool = True,
    engine: Engine | None = None,
) -> LoadReport:
    """Load `days` (or, with None, every new or changed day that is over), run the models,
    the checks and retention.

    The clock's UTC day is the current one: with `days=None` it is left for later; named
    in `days`, it is loaded and recorded as partial. `presence_pass=False` computes the
    presence models with their SQL instead of while reading (the same rows; for tests and
    comparisons). `engine` runs the models on DuckDB or Spark (default: the `engine`
    setting). Retention deletes presence older
    than `settings.retention_days` before the clock's day: pass the simulator's clock when
    loading simulated days.
    """
    now = (clock or WallClock()).now()
    params = run_params(settings, bot_min_chats)
    report = LoadReport()
    lake_dir = settings.lake_dir  # the curated zone, beside the warehouse
    raw_lake = RawSource(open_lake(settings, check=True), settings.staging_dir)
    with open_warehouse(settings.warehouse_path) as con:
        ddl.ensure_tables(con)
        curated.collect_garbage(con, lake_dir)  # what a crash mid-load may have left
        loaded = loaded_day_rows(con)
        if days is None:
            targets, report.skipped, report.not_over = pending_days(con, raw_lake, now.date())
        else:
            targets = sorted(set(days))
            for day in targets:
                if day in loaded and loaded[day][1]:
                    raise UserError(
                        f"{day} is past the retention period: its presence was deleted and its "
                        "aggregates are final"
                    )
                if not day_listing(raw_lake, day):
                    raise UserError(
                        f"no raw files for {day} under {raw_lake.storage.describe('raw')} "
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
            _load_group(
                con,
                raw_lake,
                lake_dir,
                group,
                params,
                now,
                progress,
                report,
                status,
                presence_pass,
                engine or settings.engine,
                settings.spark_master,
            )
            done.update(group)
        report.retention = apply_retention(
            con, raw_lake, now.date(), settings.retention_days, lake_dir
        )
    # P2: a key older than rotation + retention made nothing that is still kept
    keys = KeyStore(settings.key_store_dir, settings.key_rotation_days, clock or WallClock())
    report.retention.keys_deleted = keys.purge_expired(now, keep_days=settings.retention_days)
    return report
