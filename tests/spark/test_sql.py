"""The models' SQL read by sqlglot: inputs from parsed table references, Spark SQL, literals."""

from __future__ import annotations

import datetime as dt

import pytest

from streamcensus.transform.engines.sql import SqlError, bind, referenced_tables, to_spark
from streamcensus.transform.runner import load_models, strip_comments


def test_inputs_are_parsed_table_references_without_ctes() -> None:
    sql = """
        with recent as (select * from stg_streams where day in (select day from run_days)),
        final as (select r.*, c.isodow from recent as r join calendar as c using (day))
        select * from final
    """
    assert referenced_tables(sql) == {"stg_streams", "run_days", "calendar"}
    # a name in a string or a column named like a table is no input
    assert referenced_tables("select 'from x' as join_y, from_z from t") == {"t"}


def test_every_sql_model_transpiles_to_spark() -> None:
    for model in load_models().values():
        if model.sql is not None:
            spark = to_spark(strip_comments(model.sql).strip().rstrip(";"))
            assert spark.upper().startswith(("SELECT", "WITH")), model.name
            assert "MATERIALIZED" not in spark.upper(), model.name  # not in Spark's grammar


def test_a_materialized_cte_is_written_as_a_plain_one_for_spark() -> None:
    spark = to_spark("with a as materialized (select 1 as x) select x from a")
    assert spark == "WITH a AS (SELECT 1 AS x) SELECT x FROM a"


def test_parameters_become_literals() -> None:
    sql = bind(
        "select * from t where day between ? and ? and signal = ? and n < ?",
        [dt.date(2026, 3, 2), dt.date(2026, 3, 8), "it's", 10],
    )
    assert "'2026-03-02'" in sql and "'2026-03-08'" in sql
    assert "'it''s'" in sql and "< 10" in sql


def test_sql_that_does_not_parse_is_refused() -> None:
    with pytest.raises(SqlError):
        referenced_tables("select from where")
