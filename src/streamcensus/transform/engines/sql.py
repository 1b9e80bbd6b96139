"""The models' SQL as sqlglot reads it: the relations a query reads, and its Spark SQL.

The models are written once, in DuckDB's dialect; sqlglot parses them, so the runner takes a
model's inputs from the parsed table references (common table expressions excluded), and the
Spark engine runs the same text transpiled to Spark SQL at run time.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

import sqlglot
from sqlglot import exp

READ = "duckdb"


class SqlError(ValueError):
    """A query sqlglot cannot read or cannot write for Spark."""


@functools.lru_cache(maxsize=512)
def _parse(sql: str) -> exp.Expr:
    try:
        return sqlglot.parse_one(sql, read=READ)
    except sqlglot.errors.ParseError as exc:
        raise SqlError(str(exc).splitlines()[0]) from None


def referenced_tables(sql: str) -> set[str]:
    """Names of the relations a query reads, lowercase, its own CTEs excluded."""
    tree = _parse(sql)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return {t.name.lower() for t in tree.find_all(exp.Table) if t.name} - ctes


@functools.lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """The query in Spark SQL (a construct Spark lacks raises `SqlError`).

    `as materialized` on a CTE is a planning hint to DuckDB that Spark's grammar lacks (and
    sqlglot's Spark writer keeps): it is dropped, which leaves the results as they are."""
    tree = _parse(sql).copy()
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    try:
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as exc:
        raise SqlError(str(exc).splitlines()[0]) from None


def literal(value: object) -> str:
    """A parameter as a SQL literal both dialects read alike."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    text = str(value).replace("'", "''")
    return f"'{text}'"


def bind(sql: str, params: Sequence[object]) -> str:
    """`?` placeholders replaced by literals (for engines without DuckDB's binding)."""
    tree = _parse(sql).copy()
    values = iter(params)

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            return sqlglot.parse_one(literal(next(values)), read=READ)
        return node

    return tree.transform(replace).sql(dialect=READ)
