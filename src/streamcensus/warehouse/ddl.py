"""Warehouse tables derived from the lake's declarations, and the load's bookkeeping tables.

- `raw_<kind>` of every data kind that is not presence: the kind's Arrow schema
  (`lake/schema.py`) plus `day`, `slot` and the kind's epoch columns;
- `raw_manifests`: the fields of `ManifestRecord` (`lake/manifest.py`), containers as
  `<name>_json` text, plus its summaries (`day`, `slot`, `duration_seconds`, ...);
- presence kinds get no table: `attach_presence` makes the temporary view `raw_<kind>`;
- bookkeeping (`loaded_files`, `loaded_days`, `curated_files`, ...), declared here.

`ensure_tables` creates what is missing and brings an existing table to its declaration
(adds new columns, drops removed ones), so a field added to a declaration needs no
migration by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import AwareDatetime

from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import DATA_KINDS, RawKind
from streamcensus.timeutil import GRID_SECONDS
from streamcensus.warehouse.connection import Connection, table_columns, table_exists


@dataclass(frozen=True)
class Column:
    """One warehouse column."""

    name: str
    type: str  # DuckDB type
    nullable: bool = True

    def sql(self) -> str:
        return f"{self.name} {self.type}{'' if self.nullable else ' not null'}"


def arrow_type(data_type: pa.DataType) -> str:
    """The DuckDB type of an Arrow type of the lake's schemas."""
    if pa.types.is_timestamp(data_type):
        return "timestamptz"
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "varchar"
    if pa.types.is_boolean(data_type):
        return "boolean"
    if pa.types.is_int32(data_type) or pa.types.is_int16(data_type):
        return "integer"
    if pa.types.is_int64(data_type):
        return "bigint"
    if pa.types.is_floating(data_type):
        return "double"
    if pa.types.is_date(data_type):
        return "date"
    raise TypeError(f"no warehouse type for Arrow type {data_type}")


_PYTHON_TYPES: dict[Any, str] = {
    int: "bigint",
    float: "double",
    str: "varchar",
    bool: "boolean",
    dt.datetime: "timestamptz",
    dt.date: "date",
}


def _python_type(annotation: Any) -> tuple[str, bool]:
    """(DuckDB type, is a JSON container) of a pydantic field's annotation."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin in (dict, list):
        return "varchar", True
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _python_type(inner[0])
    if origin is typing.Literal:
        return "varchar", False
    if annotation is AwareDatetime or (
        isinstance(annotation, type) and issubclass(annotation, dt.datetime)
    ):
        return "timestamptz", False
    try:
        return _PYTHON_TYPES[annotation], False
    except KeyError:
        raise TypeError(f"no warehouse type for {annotation!r}") from None


def _kind_columns(kind: RawKind) -> list[Column]:
    columns = [Column("day", "date", False), Column("slot", "bigint", False)]
    columns += [Column(name, "bigint", False) for name in kind.epochs]
    columns += [Column(f.name, arrow_type(f.type), f.nullable) for f in kind.schema]
    return columns


_REQUIRED_MANIFEST = {"day", "slot", "snapshot_id", "grid_time", "status"}


def _manifest_columns() -> list[Column]:
    columns = [
        Column(name, _PYTHON_TYPES[kind], name not in _REQUIRED_MANIFEST)
        for name, kind in ManifestRecord.SUMMARIES.items()
        if name in ("day", "slot")
    ]
    for name, field in ManifestRecord.model_fields.items():
        if name in ManifestRecord.NOT_IN_WAREHOUSE:
            continue
        sql_type, container = _python_type(field.annotation)
        columns.append(
            Column(f"{name}_json" if container else name, sql_type, name not in _REQUIRED_MANIFEST)
        )
    columns += [
        Column(name, _PYTHON_TYPES[kind])
        for name, kind in ManifestRecord.SUMMARIES.items()
        if name not in ("day", "slot")
    ]
    return columns


MANIFEST_COLUMNS = _manifest_columns()


def manifest_row(record: ManifestRecord) -> dict[str, Any]:
    """The `raw_manifests` row of a record (same derivation as the columns)."""
    doc = record.model_dump()
    row: dict[str, Any] = {}
    for column in MANIFEST_COLUMNS:
        name = column.name
        if name in ManifestRecord.SUMMARIES:
            row[name] = getattr(record, name)
        elif name.endswith("_json") and name.removesuffix("_json") in doc:
            row[name] = json.dumps(doc[name.removesuffix("_json")], sort_keys=True)
        else:
            row[name] = doc[name]
    return row


def manifest_arrow_schema() -> pa.Schema:
    """The Arrow schema of `manifest_row` rows, for inserting many at once."""
    to_arrow = {
        "bigint": pa.int64(),
        "integer": pa.int32(),
        "double": pa.float64(),
        "varchar": pa.string(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamptz": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([(c.name, to_arrow[c.type]) for c in MANIFEST_COLUMNS])


BOOKKEEPING: dict[str, list[Column]] = {
    "loaded_files": [
        Column("day", "date", False),
        Column("kind", "varchar", False),
        Column("snapshot_id", "varchar", False),
        Column("path", "varchar", False),
        Column("bytes", "bigint", False),
        Column("rows", "bigint", False),
        Column("sha256", "varchar", False),
        Column("loaded_at", "timestamptz", False),
        Column("retired", "boolean", False),
    ],
    # data files not loaded because no manifest vouches for them (a killed collector)
    "orphaned_files": [
        Column("day", "date", False),
        Column("kind", "varchar", False),
        Column("snapshot_id", "varchar", False),
        Column("path", "varchar", False),
        Column("bytes", "bigint", False),
    ],
    "quarantined_files": [
        Column("day", "date", False),
        Column("kind", "varchar", False),
        Column("path", "varchar", False),
        Column("quarantine_path", "varchar", False),
        Column("bytes", "bigint", False),
        Column("sha256", "varchar", False),
        Column("reason", "varchar", False),
        Column("quarantined_at", "timestamptz", False),
    ],
    "loaded_days": [
        Column("day", "date", False),
        Column("files", "integer", False),
        Column("fingerprint", "varchar", False),
        Column("loaded_at", "timestamptz", False),
        Column("presence_retired", "boolean", False),
        # false while the day was not over when loaded (`load --day today`): partial
        Column("complete", "boolean"),
        # wall seconds the latest load of this day took (its share of a load of several days)
        Column("load_seconds", "double"),
    ],
    "curated_files": [
        Column("model", "varchar", False),
        Column("day", "date", False),
        Column("path", "varchar", False),
        Column("bytes", "bigint", False),
        Column("rows", "bigint", False),
        Column("retired", "boolean", False),
    ],
}


def declared_tables() -> dict[str, list[Column]]:
    """Every table `load` owns, with its columns."""
    tables = {kind.table: _kind_columns(kind) for kind in DATA_KINDS.values() if not kind.presence}
    tables["raw_manifests"] = MANIFEST_COLUMNS
    tables.update(BOOKKEEPING)
    return tables


def ensure_table(con: Connection, name: str, columns: Sequence[Column]) -> None:
    """Create `name`, or add its missing columns and drop those no longer declared."""
    if not table_exists(con, name):
        con.execute(f"create table {name} ({', '.join(c.sql() for c in columns)})")
        return
    present = {column for column, _ in table_columns(con, name)}
    declared = {c.name for c in columns}
    for column in columns:
        if column.name not in present:
            con.execute(f"alter table {name} add column {column.name} {column.type}")
    for stale in sorted(present - declared):
        con.execute(f"alter table {name} drop column {stale}")


def ensure_tables(con: Connection) -> None:
    """Create or update every declared table."""
    for name, columns in declared_tables().items():
        ensure_table(con, name, columns)


def column_list(name: str) -> str:
    """The declared columns of a table, comma-separated (for inserts)."""
    return ", ".join(c.name for c in declared_tables()[name])


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def attach_presence(con: Connection, kind: RawKind, paths: Sequence[Path]) -> None:
    """The temporary view `raw_<kind>` over the run's files of a presence kind, with `day`
    and `slot`; typed and empty when there are none."""
    names = ", ".join(kind.schema.names)
    derived = (
        "cast(snapshot_ts as date) as day, "
        f"cast(floor(epoch(snapshot_ts) / {GRID_SECONDS}) as bigint) as slot"
    )
    if paths:
        source = f"read_parquet([{', '.join(_sql_text(str(p)) for p in paths)}])"
    else:
        nulls = ", ".join(f"cast(null as {arrow_type(f.type)}) as {f.name}" for f in kind.schema)
        source = f"(select {nulls} where 1 = 0)"
    con.execute(
        f"create or replace temp view {kind.table} as select {names}, {derived} "
        f"from {source} as source"
    )
