"""The Spark engine: the models' queries run on Apache Spark, in local mode or on a cluster.

One Spark application per process (`spark_session`), one fresh session per run of the
models, so a run's temporary views never outlive it. The models are DuckDB-dialect SQL,
transpiled to Spark SQL by sqlglot (`engines/sql.py`). A query's inputs are resolved by
name when Spark first needs them: a staging model becomes a Spark view over its inputs; any
other relation (the day's raw sources, the run's helper tables, the history of incremental
tables, the curated zone) is handed over from the warehouse as Arrow. The rows a model
returns come back as Arrow and are materialised in the warehouse by the runner, exactly as on
DuckDB, so `serve` reads the same serving tables whichever engine built them; the warehouse
stays the record of what was loaded.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from streamcensus.errors import StreamcensusError
from streamcensus.transform.engines.sql import bind, referenced_tables, to_spark
from streamcensus.warehouse.connection import Connection, table_exists

LOCAL_MASTER = "local[2]"
LOCAL_SHUFFLE_PARTITIONS = 2  # Spark local: one per core (a community's day is megabytes)
_LOCK = threading.Lock()
_SESSION: Any = None


class SparkUnavailable(StreamcensusError):
    """Spark could not start (no Java, a master that does not answer)."""


def _config(master: str) -> dict[str, str]:
    conf = {
        "spark.app.name": "streamcensus",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # DuckDB's semantics for the models: a division by zero or a failed cast is null
        "spark.sql.ansi.enabled": "false",
    }
    if master.startswith("local"):
        # Spark local serves one machine's day of one community (megabytes): its fixed costs
        # per query dominate, so the driver compiles less (C1 JIT only, no whole-stage code
        # generation, no adaptive re-planning) and collects garbage on one thread. A
        # cluster master keeps Spark's defaults.
        conf["spark.driver.extraJavaOptions"] = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
        conf["spark.sql.codegen.wholeStage"] = "false"
        conf["spark.sql.adaptive.enabled"] = "false"
        conf["spark.sql.shuffle.partitions"] = str(LOCAL_SHUFFLE_PARTITIONS)
        conf["spark.default.parallelism"] = str(LOCAL_SHUFFLE_PARTITIONS)
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    return conf


def spark_session(master: str = LOCAL_MASTER) -> Any:
    """The process's Spark application (started on first use), as a new session."""
    global _SESSION
    with _LOCK:
        if _SESSION is None:
            if master.startswith("local") and not (
                os.environ.get("JAVA_HOME") or shutil.which("java")
            ):
                raise SparkUnavailable(
                    "the Spark engine needs Java 17 or later: install it "
                    "(e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
                )
            if master.startswith("local"):
                os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            from pyspark.sql import SparkSession

            builder = SparkSession.builder.master(master)
            for key, value in _config(master).items():
                builder = builder.config(key, value)
            try:
                _SESSION = builder.getOrCreate()
            except Exception as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise SparkUnavailable(
                    f"Spark could not start on master {master!r}: {first} "
                    "(check Java and the spark_master setting)"
                ) from None
            _SESSION.sparkContext.setLogLevel("ERROR")
        return _SESSION.newSession()


def stop_spark() -> None:
    """Stop the process's Spark application (the next run starts a new one)."""
    global _SESSION
    with _LOCK:
        if _SESSION is not None:
            _SESSION.stop()
            _SESSION = None


def _portable(table: pa.Table) -> pa.Table:
    """Arrow columns Spark takes as DuckDB meant them: 128-bit integers (sums) as int64."""
    fields = []
    for field in table.schema:
        kind = field.type
        whole = pa.types.is_decimal(kind) and kind.scale == 0
        if whole or pa.types.is_unsigned_integer(kind):
            kind = pa.int64()
        fields.append(pa.field(field.name, kind))
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema)


class SparkRun:
    """One run of the models on Spark, beside the warehouse connection `con`."""

    def __init__(self, con: Connection, master: str = LOCAL_MASTER) -> None:
        self.con = con
        self.spark = spark_session(master)
        self.views: set[str] = set()  # relations this run defined in Spark
        self.pending: dict[str, str] = {}  # views defined when a query first reads them

    def _ensure(self, sql: str) -> None:
        """Define in Spark every relation `sql` reads: a pending view over its own inputs,
        anything else handed over from the warehouse."""
        for name in sorted(referenced_tables(sql) - self.views):
            definition = self.pending.pop(name, None)
            if definition is not None:
                self._ensure(definition)
                self.spark.sql(f"create or replace temporary view {name} as {to_spark(definition)}")
            else:
                rows = _portable(self.con.sql(f"select * from {name}").to_arrow_table())
                self.spark.createDataFrame(rows).createOrReplaceTempView(name)
            self.views.add(name)

    def view(self, name: str, sql: str) -> None:
        """A Spark view of the model `name` (a staging model), defined when first read: a
        source no Spark query reads (presence the presence pass already sessionised) is
        never handed over."""
        self.forget(name)
        self.pending[name] = sql

    def arrow(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        """A query's rows (DuckDB dialect, `?` placeholders), computed by Spark."""
        query = bind(sql, params) if params else sql
        self._ensure(query)
        table: pa.Table = self.spark.sql(to_spark(query)).toArrow()
        return table

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """A query's rows as tuples."""
        table = self.arrow(sql, params)
        return [tuple(row.values()) for row in table.to_pylist()]

    def has_table(self, name: str) -> bool:
        """Whether the warehouse holds `name` (handed over to Spark when a query reads it)."""
        return table_exists(self.con, name)

    def forget(self, name: str) -> None:
        """`name` changed in the warehouse: hand it over again when next read."""
        if name in self.views:
            self.spark.catalog.dropTempView(name)
            self.views.discard(name)

    def close(self) -> None:
        """Drop the run's views (the application stays up for the next run)."""
        for name in sorted(self.views):
            self.spark.catalog.dropTempView(name)
        self.views.clear()
        self.pending.clear()
