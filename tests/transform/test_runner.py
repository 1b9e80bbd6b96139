"""The models follow the conventions, and the runner orders and builds them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from streamcensus.transform.checker import check_files
from streamcensus.transform.context import RunContext
from streamcensus.transform.runner import (
    MODELS_DIR,
    TransformError,
    load_models,
    model_order,
    parse_header,
    referenced_names,
    run_models,
    strip_comments,
)
from streamcensus.transform.serving import SERVING_TABLES

SQL_MODELS = sorted(MODELS_DIR.glob("*.sql"))
HEADER_KEYS = {"model", "inputs", "output", "grain", "units", "materialized"}
_CTE = re.compile(r"\b([a-z_][a-z0-9_]*)\s+as\s*\(", re.IGNORECASE)


@pytest.mark.parametrize("path", SQL_MODELS, ids=lambda p: p.stem)
def test_model_follows_the_conventions(path: Path) -> None:
    sql = path.read_text()
    header = parse_header(sql)
    assert set(header) >= HEADER_KEYS, f"header lacks {HEADER_KEYS - set(header)}"
    assert header["model"] == path.stem
    body = strip_comments(sql).strip()
    assert body.endswith("select * from final")
    assert body == body.lower(), "SQL is lowercase"
    assert "final as (" in body
    ctes = {m.group(1).lower() for m in _CTE.finditer(body)}
    sources = referenced_names(sql) - ctes
    declared = set(re.findall(r"[a-z_][a-z0-9_]*", header["inputs"]))
    assert sources <= declared, f"inputs header misses {sources - declared}"


def test_every_serving_table_is_a_model() -> None:
    assert set(SERVING_TABLES) <= set(load_models())


def test_staging_models_map_one_to_one_to_raw_sources() -> None:
    models = load_models()
    for name in ("stg_streams", "stg_presence", "stg_manifests"):
        assert models[name].materialized == "view"
        sql = models[name].sql or ""
        assert {n for n in referenced_names(sql) if n.startswith("raw_")} == {
            {"stg_streams": "raw_streams", "stg_presence": "raw_chatters"}.get(
                name, "raw_manifests"
            )
        }


def test_order_puts_inputs_first() -> None:
    ordered = [m.name for m in model_order(load_models())]
    position = {name: i for i, name in enumerate(ordered)}
    for model in load_models().values():
        for dependency in model.inputs:
            assert position[dependency] < position[model.name], (dependency, model.name)
    assert position["viewing_sessions"] < position["pipeline_health"]  # via `-- after:`


def test_header_continuation_lines() -> None:
    header = parse_header("-- inputs: a,\n--   b\n-- grain: x\nselect 1")
    assert header == {"inputs": "a, b", "grain": "x"}


def _write(folder: Path, name: str, sql: str) -> None:
    (folder / f"{name}.sql").write_text(sql)


def test_cycles_and_unknown_materializations_are_refused(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "one",
        "-- materialized: table\nwith final as (select * from two)\nselect * from final",
    )
    _write(
        tmp_path,
        "two",
        "-- materialized: table\nwith final as (select * from one)\nselect * from final",
    )
    with pytest.raises(TransformError, match="cycle"):
        model_order(load_models(tmp_path))
    _write(tmp_path, "one", "-- materialized: snapshot\nselect 1 as day")
    with pytest.raises(TransformError, match="unknown materialization"):
        load_models(tmp_path)


def test_incremental_models_replace_only_the_run_days(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "daily",
        "-- materialized: incremental\nwith final as (select day, 1 as n from run_days)\n"
        "select * from final",
    )
    models = {k: v for k, v in load_models(tmp_path).items() if k == "daily"}
    con = duckdb.connect()
    first, second = dt.date(2026, 11, 26), dt.date(2026, 11, 27)
    run_models(con, RunContext(tmp_path, [first]), [], models)
    run_models(con, RunContext(tmp_path, [second]), [first], models)
    run_models(con, RunContext(tmp_path, [second]), [first], models)
    assert con.execute("select day, n from daily order by day").fetchall() == [
        (first, 1),
        (second, 1),
    ]
    _write(
        tmp_path,
        "daily",
        "-- materialized: incremental\nwith final as (select day, 'x' as n from run_days)\n"
        "select * from final",
    )
    models = {k: v for k, v in load_models(tmp_path).items() if k == "daily"}
    with pytest.raises(TransformError, match="changed its columns"):
        run_models(con, RunContext(tmp_path, [second]), [first], models)


def test_a_failing_model_names_itself(tmp_path: Path) -> None:
    _write(tmp_path, "broken", "-- materialized: table\nselect * from nowhere")
    models = {k: v for k, v in load_models(tmp_path).items() if k == "broken"}
    with pytest.raises(TransformError, match="model broken failed"):
        run_models(duckdb.connect(), RunContext(tmp_path, []), [], models)


def test_checks_are_queries_with_a_comment() -> None:
    files = check_files()
    assert len(files) >= 10
    for path in files:
        text = path.read_text()
        assert text.startswith("-- check: "), path.name
        assert strip_comments(text).strip().startswith(("select", "with")), path.name
