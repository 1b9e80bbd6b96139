"""Runs the SQL models (`transform/models/*.sql`) and Python models in dependency order.

Each `.sql` file is one model named after the file. Its header comment says what it reads
and builds, and one line tells the runner how to materialise it:

- `view`: a temporary view, rebuilt every run (staging models over the raw sources);
- `temp`: a temporary table of the run's rows (intermediate per-snapshot presence counts);
- `table`: rebuilt completely every run (`create or replace table`);
- `incremental`: rows of the run's days replaced (`delete` then `insert`), others kept, so
  aggregates outlive the pseudonymous presence they came from (P2). With a
  `-- unique_key: col` header the model may return rows of earlier days too (a broadcast
  that began before midnight): rows whose key it returns, and rows of the run's days,
  are replaced;
- `curated`: written per run day as sorted zstd Parquet under `lake/curated/<model>/`
  and attached as a temporary view over every retained partition (see `warehouse/curated.py`).

Dependencies are the relations a query reads, as sqlglot parses them (its own common table
expressions excluded), plus any listed in an `-- after:` header line (for bookkeeping a model
writes as a side effect). Besides the models and
the warehouse tables, a run provides three small temporary tables: `run_days(day)`,
`run_params` (k, thresholds, the contribution bound and its secret salt) and
`calendar(day, day_number, isodow)`; with them the models
need no engine-specific date arithmetic and stay portable to Spark SQL.

Before an incremental model's rows are materialised, `protect.apply` replaces the people
counts of the models that publish them by their noisy values (P3, `transform/protect.py`).

Engines (`transform/engines/`): on DuckDB (the default) a model's query runs in the
warehouse. On Spark (`engine="spark"`) the same query, transpiled, runs on Spark: a `view`
is defined there too, and the rows of every other model are computed by Spark and
materialised in the warehouse exactly as on DuckDB (typed by the query, replaced by day);
the Python models ask whichever engine runs through `Queries`.

A model whose rows the run already has (`RunContext.precomputed`, from the loader's presence
pass) is not queried: its rows are inserted into a table shaped by its query, so the types
are the query's own, and materialised as usual. So is a model in `RunContext.deferred`,
whose rows are computed (from the warehouse's tables) when the runner reaches it.
"""

from __future__ import annotations

import datetime as dt
import graphlib
import re
import time
from pathlib import Path

import pyarrow as pa

from streamcensus.errors import StreamcensusError
from streamcensus.transform import communities, exposure, grounds, protect, rankings
from streamcensus.transform.context import (
    Model,
    ModelRun,
    RunContext,
)
from streamcensus.transform.engines import ENGINES, DuckQueries, Engine, Queries
from streamcensus.transform.engines.spark import LOCAL_MASTER, SparkRun
from streamcensus.transform.engines.sql import SqlError, referenced_tables
from streamcensus.transform.noise import contribution_salt
from streamcensus.warehouse import curated
from streamcensus.warehouse.connection import Connection, table_columns, table_exists

MODELS_DIR = Path(__file__).with_name("models")
MATERIALIZATIONS = ("view", "temp", "curated", "incremental", "table")
_RANK = {name: rank for rank, name in enumerate(MATERIALIZATIONS)}
_HEADER = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*)$")
_EPOCH = dt.date(1970, 1, 1)


class TransformError(StreamcensusError):
    """A model could not be built."""


def parse_header(sql: str) -> dict[str, str]:
    """The `-- key: value` lines at the top of a model (continuation lines appended)."""
    header: dict[str, str] = {}
    last: str | None = None
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        match = _HEADER.match(stripped)
        if match:
            last = match.group(1).lower()
            header[last] = match.group(2).strip()
        elif last is not None:
            header[last] = f"{header[last]} {stripped.lstrip('-').strip()}".strip()
    return header


def strip_comments(sql: str) -> str:
    """The query without `--` comments."""
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def referenced_names(sql: str) -> set[str]:
    """Relation names a query reads from, as sqlglot parses it (its CTEs excluded)."""
    try:
        return referenced_tables(strip_comments(sql).strip().rstrip(";"))
    except SqlError as exc:
        raise TransformError(f"a model's SQL does not parse: {exc}") from None


def python_models() -> list[Model]:
    """Models computed in Python: bounded numpy work the SQL engines do poorly, and the
    manifests' JSON containers (parsed alike whatever the engine)."""
    return [
        Model(
            name="exposure",
            materialized="incremental",
            inputs=exposure.INPUTS,
            build=exposure.build,
            header={"grain": exposure.GRAIN},
        ),
        Model(
            name="chat_list_grounds",
            materialized="incremental",
            inputs=grounds.INPUTS,
            build=grounds.build_grounds,
            header={"grain": grounds.GROUNDS_GRAIN},
        ),
        Model(
            name="chat_list_readers",
            materialized="incremental",
            inputs=grounds.INPUTS,
            build=grounds.build_readers,
            header={"grain": grounds.READERS_GRAIN},
        ),
        Model(
            name=communities.NAME,
            materialized="incremental",
            inputs=communities.INPUTS,
            build=communities.build,
            header={"grain": communities.GRAIN},
        ),
        Model(
            name=rankings.NAME,
            materialized="incremental",
            inputs=rankings.INPUTS,
            build=rankings.build,
            header={"grain": rankings.GRAIN},
        ),
    ]


def load_models(models_dir: Path = MODELS_DIR) -> dict[str, Model]:
    """Every model: the `.sql` files of `models_dir` plus the Python models."""
    raw: dict[str, tuple[Path, str, dict[str, str]]] = {}
    for path in sorted(models_dir.glob("*.sql")):
        sql = path.read_text()
        raw[path.stem] = (path, sql, parse_header(sql))
    python = {m.name: m for m in python_models()}
    names = set(raw) | set(python)
    models: dict[str, Model] = {}
    for name, (path, sql, header) in raw.items():
        materialized = (
            header.get("materialized", "").split()[0] if header.get("materialized") else ""
        )
        if materialized not in MATERIALIZATIONS:
            raise TransformError(f"model {name}: unknown materialization {materialized!r}")
        order_by = tuple(c.strip() for c in header.get("order", "").split(",") if c.strip())
        after = {a.strip() for a in header.get("after", "").split(",") if a.strip()}
        inputs = tuple(sorted(((referenced_names(sql) | after) & names) - {name}))
        models[name] = Model(name, materialized, inputs, sql, order_by, path, None, header)
    for name, model in python.items():
        if name in models:
            raise TransformError(f"model {name} is defined twice")
        models[name] = Model(
            name,
            model.materialized,
            tuple(sorted(set(model.inputs) & names)),
            build=model.build,
            header=model.header,
        )
    return models


def model_order(models: dict[str, Model]) -> list[Model]:
    """Models in an order where every input comes first (views, then curated, ...)."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for model in models.values():
        sorter.add(model.name, *model.inputs)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise TransformError(f"models depend on each other in a cycle: {exc.args[1]}") from None
    ordered: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda n: (_RANK[models[n].materialized], n))
        for name in ready:
            ordered.append(models[name])
            sorter.done(name)
    return ordered


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def prepare_run(con: Connection, ctx: RunContext, known_days: list[dt.date]) -> None:
    """Create the run's helper tables: `run_days`, `run_params` and `calendar`."""
    p = ctx.params
    con.execute("create or replace temp table run_days (day date not null)")
    if ctx.run_days:
        con.executemany("insert into run_days values (?)", [[d] for d in sorted(ctx.run_days)])
    con.execute(
        "create or replace temp table run_params as select "
        "? as k, ? as bot_min_chats, ? as interval_minutes, ? as lookback_days, "
        "? as exposure_sample, ? as snapshots_per_day, ? as contribution_bound, "
        "? as contribution_salt",
        [
            p.k,
            p.bot_min_chats,
            p.interval_minutes,
            p.lookback_days,
            p.exposure_sample,
            24 * 60 // p.interval_minutes,
            p.contribution_bound,
            contribution_salt(p.noise_key),
        ],
    )
    span = [*known_days, *ctx.run_days]
    con.execute(
        "create or replace temp table calendar "
        "(day date not null, day_number integer not null, isodow integer not null)"
    )
    if span:
        first = min(span) - dt.timedelta(days=p.lookback_days + 7)
        last = max(span) + dt.timedelta(days=p.lookback_days + 7)
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        con.executemany(
            "insert into calendar values (?, ?, ?)",
            [[d, day_number(d), d.isoweekday()] for d in days],
        )


def _query(model: Model) -> str:
    assert model.sql is not None
    return strip_comments(model.sql).strip().rstrip(";")


def _stage_rows(con: Connection, model: Model, rows: pa.Table) -> None:
    """`_model_rows` shaped by the model's query (its types, on DuckDB) holding `rows`."""
    con.execute(
        f"create or replace temp table _model_rows as "
        f"select * from ({_query(model)}) as q where 1 = 0"
    )
    con.register("_model_arrow", rows)
    try:
        con.execute("insert into _model_rows by name select * from _model_arrow")
    finally:
        con.unregister("_model_arrow")


def _shaped(con: Connection, model: Model, rows: pa.Table) -> pa.Table:
    """`rows` cast to the Arrow types of the model's query (as `_stage_rows` would type
    them, without copying them into DuckDB)."""
    schema = con.sql(f"select * from ({_query(model)}) as q where 1 = 0").to_arrow_table().schema
    return rows.select(schema.names).cast(schema)


def _stage(con: Connection, model: Model, ctx: RunContext, spark: SparkRun | None) -> None:
    """Compute the model's new rows into the temporary table `_model_rows`."""
    rows = ctx.precomputed.get(model.name)
    deferred = ctx.deferred.get(model.name)
    if rows is None and deferred is not None:
        rows = deferred(DuckQueries(con))
    if rows is not None:
        _stage_rows(con, model, rows)
    elif model.build is not None:
        queries: Queries = spark if spark is not None else DuckQueries(con)
        table = model.build(queries, ctx)
        con.register("_model_arrow", table)
        try:
            con.execute("create or replace temp table _model_rows as select * from _model_arrow")
        finally:
            con.unregister("_model_arrow")
    elif spark is not None:
        _stage_rows(con, model, spark.arrow(_query(model)))
    else:
        con.execute(f"create or replace temp table _model_rows as {_query(model)}")


_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}


def _shape(columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Column names and types, integer widths alike (an insert casts between them: a
    counter that became `bigint` where it was `hugeint` keeps its history)."""
    return [(name, "INTEGER" if kind in _INTEGERS else kind) for name, kind in columns]


def _replace_days(con: Connection, model: Model) -> None:
    key = model.header.get("unique_key", "").strip()
    outside = 0
    if not key:
        outside = con.execute(
            "select count(*) from _model_rows where day not in (select day from run_days)"
        ).fetchall()[0][0]
    if outside:
        raise TransformError(f"model {model.name} produced {outside} rows outside the run's days")
    if not table_exists(con, model.name):
        con.execute(f"create table {model.name} as select * from _model_rows")
        return
    if _shape(table_columns(con, model.name)) != _shape(table_columns(con, "_model_rows")):
        raise TransformError(
            f"model {model.name} changed its columns; drop table {model.name} in the warehouse "
            "(its history is rebuilt only for days whose presence is still retained)"
        )
    stale = "day in (select day from run_days)"
    if key:
        stale += f" or {key} in (select {key} from _model_rows)"
    con.execute(f"delete from {model.name} where {stale}")
    con.execute(f"insert into {model.name} select * from _model_rows")


def run_model(
    con: Connection, model: Model, ctx: RunContext, spark: SparkRun | None = None
) -> ModelRun:
    """Build one model according to its materialisation (its query on Spark when `spark`
    is given, the rows materialised in the warehouse either way)."""
    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    if model.materialized == "view":
        con.execute(f"create or replace temp view {model.name} as {_query(model)}")
        if spark is not None:
            spark.view(model.name, _query(model))
    elif model.materialized == "temp":
        _stage(con, model, ctx, spark)
        con.execute(f"create or replace temp table {model.name} as select * from _model_rows")
        rows = int(con.execute("select count(*) from _model_rows").fetchall()[0][0])
    elif model.materialized == "table":
        if spark is not None:
            _stage(con, model, ctx, spark)
            con.execute(f"create or replace table {model.name} as select * from _model_rows")
        else:
            con.execute(f"create or replace table {model.name} as {_query(model)}")
        rows = int(con.execute(f"select count(*) from {model.name}").fetchall()[0][0])
    elif model.materialized == "incremental":
        _stage(con, model, ctx, spark)
        protect.apply(con, model.name, ctx)  # people counts: noise, then k (P3)
        _replace_days(con, model)
        rows = int(con.execute("select count(*) from _model_rows").fetchall()[0][0])
    else:
        source = None
        precomputed = ctx.precomputed.get(model.name)
        if precomputed is not None:
            # the pass's rows go straight to the sorted Parquet write (no copy into DuckDB)
            con.register("_curated_arrow", _shaped(con, model, precomputed))
            source = "_curated_arrow"
        elif spark is not None:
            _stage(con, model, ctx, spark)
            source = "_model_rows"
        try:
            rows = curated.materialize(
                con, model.name, _query(model), model.order_by, ctx.lake_dir, ctx.run_days, source
            )
        finally:
            if precomputed is not None:
                con.unregister("_curated_arrow")
    con.execute("drop table if exists _model_rows")
    if spark is not None and model.materialized != "view":
        spark.forget(model.name)  # changed in the warehouse: read again from there
        if model.materialized == "curated":
            spark.forget("curated_files")  # its bookkeeping, written beside it
    return ModelRun(
        model.name,
        model.materialized,
        rows,
        time.perf_counter() - started,
        time.process_time() - cpu,
    )


def run_models(
    con: Connection,
    ctx: RunContext,
    known_days: list[dt.date],
    models: dict[str, Model] | None = None,
    *,
    engine: Engine = "duckdb",
    spark_master: str = LOCAL_MASTER,
) -> list[ModelRun]:
    """Prepare the run and build every model in dependency order on `engine`."""
    if engine not in ENGINES:
        raise TransformError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    chosen = load_models() if models is None else models
    prepare_run(con, ctx, known_days)
    ordered = model_order(chosen)
    results: list[ModelRun] = []
    spark = SparkRun(con, spark_master) if engine == "spark" else None
    try:
        for done, model in enumerate(ordered):
            if ctx.progress is not None:
                ctx.progress(f"model {model.name}", done, len(ordered))
            try:
                results.append(run_model(con, model, ctx, spark))
            except TransformError:
                raise
            except Exception as exc:
                text = str(exc).strip()
                first = text.splitlines()[0] if text else type(exc).__name__
                raise TransformError(f"model {model.name} failed: {first}") from exc
    finally:
        if spark is not None:
            spark.close()
    if ctx.progress is not None:
        ctx.progress("models", len(ordered), len(ordered))
    return results
