"""`streamcensus bench` end to end at small scale, once: the result's shape and sane numbers.

Timing is not asserted (benchmarks measure it, tests do not); counts, consistency between
figures, and what must hold on any machine are.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from streamcensus.bench.cli import bench_command
from streamcensus.lake.formats import default_encodings

# one `bench --suite all` run with a simulator child per suite: a guard against a hang, not
# a speed check (on a busy 2-core machine the run takes about ten minutes)
pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    args = ["--suite", "all", "--scale", "small", "--repeat", "1", "--snapshots", "2"]
    args += ["--speed", "30"]  # the collector's chat windows: 10 s of real time each
    args += ["--hours", "1", "--days", "2"]
    run = CliRunner().invoke(bench_command, [*args, "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "wall / floor" in run.output and "compression study" in run.output
    assert "slowest models" in run.output
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def median(figure: dict[str, Any]) -> Any:
    assert len(figure["runs"]) >= 1
    return figure["median"]


def test_meta_names_the_command_and_machine(result: dict[str, Any]) -> None:
    meta = result["meta"]
    assert meta["command"].startswith(
        "streamcensus bench --suite all --scale small --repeat 1 --speed 30 --snapshots 2 "
        "--hours 1 --days 2 --out "
    )
    assert meta["machine"]["cpus"] == os.cpu_count()
    assert meta["suites"] == [
        "simulator",
        "collector",
        "storage",
        "warehouse",
        "chat",
        "api",
        "communities",
    ]
    assert meta["hours"] == 1
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
    """The default: realistic permissions, chat activity on, the clock running."""
    col = result["collector"]
    assert col["permissions"] == "realistic" and col["chat"] and not col["load_test"]
    snap = col["snapshot"]
    assert snap["statuses"] == ["complete"] and snap["chat_statuses"] == ["complete"]
    assert snap["http_429_total"] == 0
    assert median(snap["requests"]) == median(snap["app_requests"]) + median(snap["user_requests"])
    # A small snapshot fits in a full bucket: no floor, no ratio, no pacing.
    assert median(snap["floor_s"]) == 0
    assert snap["wall_over_floor"] == {"median": None, "runs": []}
    assert median(snap["rate_limit_waits"]) == 0
    # chat lists only where permitted: far fewer observations than in the load test
    assert median(snap["channels"]) > 10
    assert median(snap["presence_observations"]) < 5 * median(snap["channels"])
    # every message the simulator sent in a fully read channel was received and stored
    assert median(snap["channels_equal_truth"]) == median(snap["channels_complete"]) > 10
    assert median(snap["messages_received"]) == median(snap["messages_sent"]) > 0
    assert median(snap["received_over_sent"]) == 1.0
    assert median(snap["activity_observations"]) > 0
    assert 1 < median(snap["activity_bytes_per_obs"]) < 100
    for run in col["runs"]:
        assert run["helix_cpu_s"] + run["listener_cpu_s"] == pytest.approx(run["interval_cpu_s"])
        assert 0 <= run["helix_cpu_s"] <= run["cpu_s"]
    join = col["chat_join"]
    assert join["settled"] and join["joined"] == join["channels"] > 10
    assert join["join_s"] >= join["floor_s"] > 0
    assert median(snap["peak_rss_mb"]) > 10
    assert col["memory"]["snapshots"] == 2
    assert len(col["memory"]["rss_after_each_mb"]) == 2
    assert col["speed"] == 30


def test_the_all_moderated_load_test_is_named(tmp_path: Path) -> None:
    """`--permissions all-moderated`: every chat list read, Helix only, labelled a load test."""
    out = tmp_path / "load-test.json"
    args = ["--suite", "collector", "--scale", "small", "--repeat", "1", "--snapshots", "1"]
    args += ["--permissions", "all-moderated", "--no-compare", "--out", str(out)]
    run = CliRunner().invoke(bench_command, args)
    assert run.exit_code == 0, run.output
    assert "LOAD TEST" in run.output
    document = json.loads(out.read_text())
    assert "--permissions all-moderated --no-compare" in document["meta"]["command"]
    col = document["collector"]
    assert col["permissions"] == "all-moderated" and col["load_test"] and not col["chat"]
    snap = col["snapshot"]
    assert snap["statuses"] == ["complete"] and snap["http_429_total"] == 0
    assert median(snap["presence_observations"]) > 20 * median(snap["channels"]) > 200
    assert median(snap["user_requests"]) >= median(snap["channels"])
    assert "helix_cpu_s" not in snap and col["chat_join"] is None
    assert col["library_comparison"] is None


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
    # counted against the simulator's ground truth, channel by channel
    assert cmp["expected_from"].startswith("the simulator's ground truth")
    assert ours["presence_observations_expected"] == lib["presence_observations_expected"] > 0
    assert ours["channels_complete"] == ours["channels"] == lib["channels_complete"]


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


def test_chat_listener_figures(result: dict[str, Any]) -> None:
    lis = result["chat"]["listener"]
    join = lis["join"]
    assert join["settled"] and join["joined"] == join["channels"] > 20
    assert join["server_join_rate_dropped"] == 0
    assert join["join_s"] >= join["floor_s"] > 0  # real round trips only add to the floor
    assert join["join_over_floor"] == pytest.approx(join["join_s"] / join["floor_s"], 1e-3)
    assert lis["realtime"]["messages"] > 0 and lis["realtime"]["cpu_s_per_sim_minute"] > 0
    assert len(lis["jumps"]) == result["meta"]["repeat"] + 1
    assert median(lis["jump_messages"]) > 0
    truth = lis["truth"]
    assert truth["channels_equal_truth"] == truth["channels_complete"] == join["channels"]
    lake = lis["lake"]
    assert lake["activity_observations"] == lis["jumps"][-1]["window_posters"] > 0
    assert 0 < lake["activity_bytes_per_obs"] < lake["with_coverage_bytes_per_obs"] < 100
    counters = lis["counters"]
    assert counters["dropped"] == counters["malformed_lines"] == counters["late_messages"] == 0
    parse = lis["parse"]
    assert parse["lines"] > 10_000 and median(parse["hand_written_us_per_line"]) > 0


def test_warehouse_figures(result: dict[str, Any]) -> None:
    wh = result["warehouse"]
    assert wh["day"] == "2026-11-27" and wh["hours"] == 1 and wh["whole_day"] is False
    assert "fr" not in wh  # the fr day only with --scale fr
    demo = wh["demo"]
    assert demo["snapshots"] == demo["snapshots_complete"] == 12  # 1 h on the 5-minute grid
    assert demo["snapshots_partial"] == 0
    obs = demo["presence_observations"]
    assert obs > demo["stream_facts"] >= 12
    # the bare query (the viewing_sessions SQL alone) finds the load's sessions
    assert demo["bare_query_sessions_match"] is True
    # a viewer has at least one session, a session at least one observation
    assert 0 < demo["distinct_viewers"] <= demo["viewing_sessions"] <= obs
    assert demo["chatters_bytes_per_obs"] == pytest.approx(demo["raw_chatters_bytes"] / obs)
    assert 1 < demo["chatters_bytes_per_obs"] < demo["raw_bytes_per_obs"] < 100
    assert 0 < demo["curated_bytes_per_obs"] < demo["chatters_bytes_per_obs"]
    health = demo["pipeline_health"]
    assert health["presence_observations"] == obs
    assert health["raw_chatters_bytes"] == demo["raw_chatters_bytes"]
    assert health["raw_bytes"] == demo["raw_bytes"]
    assert health["curated_bytes"] == demo["curated_bytes"]
    assert health["viewing_sessions"] == demo["viewing_sessions"]
    assert health["raw_bytes_per_observation"] == round(demo["chatters_bytes_per_obs"], 3)
    assert health["curated_bytes_per_observation"] == round(demo["curated_bytes_per_obs"], 3)


def test_warehouse_timings_are_consistent(result: dict[str, Any]) -> None:
    demo = result["warehouse"]["demo"]
    (run,) = demo["runs"]
    assert 0 < run["checks_s"] < run["transform_s"]
    assert 0 < run["load_s"] + run["transform_s"] <= run["wall_s"]
    assert run["obs_per_s"] == pytest.approx(demo["presence_observations"] / run["wall_s"])
    assert run["bare_query_s"] > 0 and run["bare_query_rows"] == demo["viewing_sessions"]
    assert run["wall_over_bare_query"] == pytest.approx(run["wall_s"] / run["bare_query_s"])
    assert run["sessions_over_bare_query"] == pytest.approx(run["sessions_s"] / run["bare_query_s"])
    assert median(demo["wall_over_bare_query"]) == pytest.approx(run["wall_over_bare_query"], 1e-3)
    assert 0 < run["presence_pass_s"] <= run["load_s"]
    assert run["exposure_cores"] >= 0 and run["stream_fact_models_max_s"] > 0
    assert run["peak_rss_mb"] > 10 and run["warehouse_bytes"] > 0
    models = demo["models"]
    names = {m["name"] for m in models}
    assert {"viewing_sessions", "pipeline_health", "channel_day", "exposure"} <= names
    medians = [m["seconds"]["median"] for m in models]
    assert medians == sorted(medians, reverse=True)
    sessions = next(m for m in models if m["name"] == "viewing_sessions")
    assert sessions["materialized"] == "curated"
    assert sessions["rows"] == demo["viewing_sessions"]


def test_ground_truth_lake_matches_the_collected_day(result: dict[str, Any]) -> None:
    check = result["warehouse"]["truth_check"]
    for key in ("snapshots", "stream_facts", "presence_observations", "viewing_sessions"):
        assert check[f"{key}_equal"] is True, key
    assert check["distinct_viewers_equal"] is True
    # other pseudonym keys, the same structure: sizes within a few percent
    assert 0.9 < check["chatters_bytes_ratio"] < 1.1
    assert 0.9 < check["curated_bytes_ratio"] < 1.1


def test_truth_lake_files_follow_the_contract(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from streamcensus.bench.truthlake import write_truth_day
    from streamcensus.lake.manifest import ManifestRecord
    from streamcensus.lake.schema import CHATTERS_SCHEMA, STREAMS_SCHEMA, raw_path

    day = dt.date(2026, 11, 27)
    bots = ("nightbot", "streamelements", "wizebot")
    written = write_truth_day(
        tmp_path / "lake",
        tmp_path / "state",
        day,
        scale="small",
        hours=0.5,
        top_n=5,
        known_bots=bots,
    )
    assert written.snapshots == 6
    assert written.peak_channels == 5  # more than 5 fr channels are live at midnight
    lake = tmp_path / "lake"
    chatters_rows = 0
    flagged: set[str] = set()
    for index in range(6):
        moment = dt.datetime(2026, 11, 27, 0, 5 * index, tzinfo=dt.UTC)
        sid = moment.strftime("%Y%m%dT%H%MZ")
        record = ManifestRecord.from_bytes(raw_path(lake, "manifest", sid).read_bytes())
        assert record.status == "complete" and record.grid_time == moment
        # Parquet keeps second timestamps as milliseconds; the contract's types cast back
        streams = pq.read_table(raw_path(lake, "streams", sid)).cast(STREAMS_SCHEMA)
        chatters = pq.read_table(raw_path(lake, "chatters", sid)).cast(CHATTERS_SCHEMA)
        assert streams.column("rank").to_pylist() == [1, 2, 3, 4, 5]
        assert record.presence_observations == chatters.num_rows
        assert sum(streams.column("chatters_total").to_pylist()) == chatters.num_rows
        assert record.files["chatters"]["rows"] == chatters.num_rows
        assert set(chatters.column("channel_id").to_pylist()) <= set(
            streams.column("channel_id").to_pylist()
        )
        names = chatters.column("bot_name").to_pylist()
        assert [n is not None for n in names] == chatters.column("is_bot").to_pylist()
        flagged |= {n for n in names if n is not None}
        chatters_rows += chatters.num_rows
    assert chatters_rows == written.presence_observations
    assert flagged and flagged <= set(bots)
    assert 0 < written.distinct_accounts < written.presence_observations


def test_api_figures(result: dict[str, Any]) -> None:
    api = result["api"]
    assert api["days"] == 2 and api["scale"] == "small"
    endpoints = api["endpoints"]
    assert len(endpoints) == 9
    assert api["requests"] == sum(e["requests"] for e in endpoints.values()) == 9 * 200
    for name, e in endpoints.items():
        assert e["statuses"] == {"200": 200}, name
        assert 0 < e["p50"] <= e["p90"] <= e["p99"] <= e["max"], name
    assert api["p99_max_ms"] == max(e["p99"] for e in endpoints.values())
    assert api["loaded_days"] == 2 and api["replica_days"] == 0 and api["replicated_to"] is None
    assert api["answers_warmed"] >= 2 * 10  # each page's default answer of both days
    tables = api["channel_tables"]  # built by the warm-up, read by the channel requests
    assert tables["channel_tables_rows"] > 0 and tables["channel_tables_bytes"] > 0
    assert tables["channel_tables_build_seconds"] > 0
    assert set(tables) == {
        "channel_tables_rows",
        "channel_tables_bytes",
        "channel_tables_build_seconds",
    }
    for name, e in endpoints.items():
        assert 0 <= e["first_requests"] <= e["requests"], name
        assert (e["first_p50"] is None) == (e["first_requests"] == 0), name
    pages = api["pages"]
    assert set(pages) == {
        "overview",
        "schedules",
        "rankings",
        "games",
        "map",
        "habits",
        "exposure",
        "health",
        "chatlists",
        "followers",
    }
    for w in pages.values():
        assert w["assets"] >= 1 and w["total_bytes"] == w["html_bytes"] + w["asset_bytes"]


def test_communities_figures(result: dict[str, Any]) -> None:
    res = result["communities"]
    assert res["days"] == 2 and res["last_day"] == "2026-11-27"
    assert res["overlap_pairs_last_day"]["1d"] > 0
    assert set(res["scores"]) >= {"1d_chat_list", "7d_chat_list", "30d_chat_list"}
    for key, s in res["scores"].items():
        detected = s["detected"]
        assert detected["channels"] > 10, key
        assert -1 <= detected["ari"] <= 1 and 0 <= detected["nmi"] <= 1, key
        assert 1 <= s["communities"] <= detected["channels"], key
        assert s["ids_kept"] is not None and 0 <= s["ids_kept"] <= 1, key
    # the simulated audience has structure to find: detection beats chance clearly
    assert res["scores"]["7d_chat_list"]["detected"]["nmi"] > 0.3
    assert median(res["model_s"]) > 0 and len(res["load_s"]["runs"]) == 2
