"""The reader pool reads the warehouse's table names once per open instance, and again
after it was released (a load may have added tables meanwhile)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from streamcensus.serve.reader import ReaderPool


def _write(path: Path, *tables: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for table in tables:
            con.execute(f"create table if not exists {table} (day date)")
    finally:
        con.close()


def test_table_names_are_read_once_per_open_instance(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    _write(path, "pipeline_health")
    pool = ReaderPool(path, idle_seconds=60)
    try:
        with pool.reader() as first:
            assert first.has("pipeline_health") and not first.has("channel_day")
            with pool.reader() as second:  # a concurrent request shares the names
                assert second.tables is first.tables
        with pool.reader() as later:  # the instance is still open: the same names
            assert later.tables is first.tables
        with pool.paused():  # the load of `run` adds a table
            _write(path, "channel_day")
        with pool.reader() as reopened:
            assert reopened.has("pipeline_health", "channel_day")
            assert reopened.tables is not first.tables
    finally:
        pool.close()


def test_a_missing_warehouse_has_no_tables(tmp_path: Path) -> None:
    pool = ReaderPool(tmp_path / "absent.duckdb", idle_seconds=0)
    with pool.reader() as reader:
        assert reader.tables == set() and reader.rows("select 1") == []
