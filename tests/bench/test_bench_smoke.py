"""`streamcensus bench` end to end at small scale, once: the result's shape and sane numbers.

Timing is not asserted (benchmarks measure it, tests do not); counts, consistency between
figures, and what must hold on any machine are.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from click.testing import CliRunner

from streamcensus.bench.cli import bench_command
from streamcensus.lake.formats import default_encodings


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    args = ["--suite", "all", "--scale", "small", "--repeat", "1", "--snapshots", "2"]
    run = CliRunner().invoke(bench_command, [*args, "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "wall / floor" in run.output and "compression study" in run.output
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def median(figure: dict[str, Any]) -> Any:
    assert len(figure["runs"]) >= 1
    return figure["median"]


def test_meta_names_the_command_and_machine(result: dict[str, Any]) -> None:
    meta = result["meta"]
    assert meta["command"].startswith(
        "streamcensus bench --suite all --scale small --repeat 1 --speed 10 --snapshots 2 --out "
    )
    assert meta["machine"]["cpus"] == os.cpu_count()
    assert meta["suites"] == ["simulator", "collector", "storage"]
    assert meta["grid_time"] == "2026-11-27T20:30:00Z"


def test_simulator_figures(result: dict[str, Any]) -> None:
    sim = result["simulator"]
    requests = median(sim["requests"])
    assert requests == median(sim["streams_requests"]) + median(sim["chatters_requests"])
    assert median(sim["streams_requests"]) == 1  # fewer than 100 live fr channels at small
    assert median(sim["chatters_requests"]) >= median(sim["channels"]) > 10
    assert median(sim["chatters"]) > median(sim["channels"])
    assert median(sim["requests_per_s"]) > 0
    lat = {k: median(v) for k, v in sim["latency_ms"].items()}
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert median(sim["world_build_s"]) > 0
    assert sim["server_rss_after_serving_mb"] >= sim["server_rss_after_build_mb"] > 10
    assert sim["rate_limit"] == "lifted"


def test_collector_figures(result: dict[str, Any]) -> None:
    col = result["collector"]
    snap = col["snapshot"]
    assert snap["statuses"] == ["complete"]
    assert snap["http_429_total"] == 0
    assert median(snap["requests"]) == median(snap["app_requests"]) + median(snap["user_requests"])
    # A small snapshot fits in a full bucket: no floor, no ratio, no pacing.
    assert median(snap["floor_s"]) == 0
    assert snap["wall_over_floor"] == {"median": None, "runs": []}
    assert median(snap["rate_limit_waits"]) == 0
    assert median(snap["presence_observations"]) > median(snap["channels"]) > 10
    assert median(snap["cpu_s"]) > 0 and median(snap["peak_rss_mb"]) > 10
    assert col["memory"]["snapshots"] == 2
    assert len(col["memory"]["rss_after_each_mb"]) == 2
    assert col["speed"] == 10


def test_library_comparison_reads_the_same_snapshot(result: dict[str, Any]) -> None:
    cmp = result["collector"]["library_comparison"]
    ours, lib = cmp["streamcensus"], cmp["twitchapi"]
    assert ours["channels"] == lib["channels"] > 10
    assert ours["presence_observations_missed"] == 0
    assert ours["presence_observations"] == ours["presence_observations_expected"]
    # Under the bucket, the library loses nothing either.
    assert lib["http_429"] == 0 and lib["presence_observations_missed"] == 0
    assert lib["presence_observations"] == ours["presence_observations"]
    assert lib["requests"] >= lib["channels"]


def test_storage_figures(result: dict[str, Any]) -> None:
    sto = result["storage"]
    assert sto["snapshots"] == 1  # the first `repeat` snapshots
    assert sto["baseline_rows_match"] is True
    assert 1 < sto["chatters_bytes_per_obs"] < sto["raw_bytes_per_obs"] < 100
    assert 1 < sto["baseline_bytes_per_obs"] < 100
    assert sto["baseline_over_chatters"] == pytest.approx(
        sto["baseline_bytes_per_obs"] / sto["chatters_bytes_per_obs"]
    )
    chatters_encodings = [e.name for e in default_encodings() if e.data == "chatters"]
    assert [r["format"] for r in sto["study"]] == chatters_encodings
    assert {r["rows"] for r in sto["study"]} == {sto["study_rows"]}
    # The study encodes the lake's format exactly as the writer did.
    assert sto["lake_format_study_bytes"] == sto["study_snapshot_chatters_bytes"]


def test_no_viewer_login_in_the_output(result: dict[str, Any]) -> None:
    from streamcensus.simulator.world import PopulationWorld

    world = PopulationWorld(scale="small", seed=42)
    grid = 1_795_811_400.0  # 2026-11-27T20:30:00Z, the bench's grid time
    state = world.tick_state(grid)
    logins = set(world.logins(state.chat_ids))
    assert len(logins) > 1000
    words = set(re.findall(r"[a-z0-9_]{4,25}", json.dumps(result).lower()))
    assert not words & logins
