"""The engines the models run on: DuckDB (the default, in the warehouse) and Apache Spark.

Both run the same model definitions: the `.sql` files (DuckDB's dialect, transpiled to Spark
SQL by sqlglot) and the Python models, which read their inputs through `Queries` so they
ask either engine alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

import pyarrow as pa

from streamcensus.warehouse.connection import Connection, table_exists

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")


class Queries(Protocol):
    """Where a Python model reads its inputs: DuckDB-dialect SQL with `?` placeholders."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]: ...

    def arrow(self, sql: str, params: Sequence[object] = ()) -> pa.Table: ...

    def has_table(self, name: str) -> bool:
        """Whether the warehouse holds the table `name` (every engine reads the warehouse's
        tables: Spark has them handed over)."""
        ...


class DuckQueries:
    """`Queries` answered by the warehouse's DuckDB connection."""

    def __init__(self, con: Connection) -> None:
        self.con = con

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def arrow(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        table: pa.Table = self.con.sql(sql, params=list(params) or None).to_arrow_table()
        return table

    def has_table(self, name: str) -> bool:
        return table_exists(self.con, name)
