"""Render a bench result as rich tables: medians first, the runs beside them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.4f}"
        return f"{value:,.{digits}f}"
    return str(value)


def _median(figure: Any) -> Any:
    return figure.get("median") if isinstance(figure, dict) else figure


def _runs(figure: Any) -> str:
    if isinstance(figure, dict) and len(figure.get("runs", [])) > 1:
        return " ".join(_fmt(v) for v in figure["runs"])
    return ""


def _figures_table(title: str, rows: Iterable[tuple[str, Any, str]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("median", justify="right")
    table.add_column("runs / note")
    for name, figure, note in rows:
        runs = _runs(figure)
        table.add_row(name, _fmt(_median(figure)), " ".join(p for p in (runs, note) if p))
    return table


def simulator_tables(res: dict[str, Any]) -> list[Table]:
    lat = res["latency_ms"]
    rows = [
        ("world construction (s)", res["world_build_s"], "fresh interpreter"),
        ("world RSS after build (MB)", res["world_rss_mb"], ""),
        ("server start-up (s)", res["server_startup_s"], "spawn to first answer"),
        ("server RSS after build (MB)", res["server_rss_after_build_mb"], ""),
        ("server RSS after serving (MB)", res["server_rss_after_serving_mb"], ""),
        ("requests per snapshot", res["requests"], "stream pages + chatter pages"),
        ("snapshot served in (s)", res["snapshot_wall_s"], ""),
        ("requests / s", res["requests_per_s"], f"{res['concurrency']} in flight"),
        ("latency p50 (ms)", lat["p50"], ""),
        ("latency p90 (ms)", lat["p90"], ""),
        ("latency p99 (ms)", lat["p99"], ""),
        ("latency max (ms)", lat["max"], ""),
        ("first request on a new tick (s)", res["cold_tick_s"], "tick computed"),
        ("server CPU per snapshot (s)", res["server_cpu_s"], ""),
        ("load generator CPU (s)", res["client_cpu_s"], ""),
    ]
    return [_figures_table(f"simulator ({res['scale']})", rows)]


def chat_tables(res: dict[str, Any]) -> list[Table]:
    rt = res["realtime"]
    rows = [
        ("channels joined", res["channels"], f"{res['connections']} anonymous connections"),
        ("join wall time (s)", res["join_wall_s"], "clock standing: 20 joins per connection"),
        ("messages / s at x1", rt["messages_per_s"], f"{rt['seconds']} s of simulated=real time"),
        ("server CPU share at x1", rt["server_cpu_share"], "CPU seconds per second"),
        ("messages per 5-minute jump", res["jump_messages"], ""),
        ("jump delivered in (s)", res["jump_wall_s"], "until every PONG barrier"),
        ("messages / s in jumps", res["jump_messages_per_s"], ""),
        ("server CPU per message (us)", res["jump_server_cpu_us_per_message"], ""),
        ("server RSS (MB)", res["server_rss_mb"], ""),
    ]
    tables = [_figures_table(f"chat ({res['scale']}, {res['language']} channels)", rows)]
    if "listener" in res:
        tables.append(chat_listener_table(res["listener"], res["scale"]))
    return tables


def chat_listener_table(lis: dict[str, Any], scale: str) -> Table:
    join, rt, lake, parse = lis["join"], lis["realtime"], lis["lake"], lis["parse"]
    rows = [
        (
            "channels joined",
            join["joined"],
            f"of {join['channels']}, over {join['connections']} connections",
        ),
        ("join time, simulated (s)", join["join_s"], "clock x1, set_channels to last echo"),
        ("join floor (s)", join["floor_s"], "20 joins / 10 s / connection, 1 connection / 2 s"),
        ("join / floor", join["join_over_floor"], ""),
        ("server join-limit drops", join["server_join_rate_dropped"], "target 0"),
        ("messages / s at x1", rt["messages_per_s"], f"{rt['seconds']} s"),
        ("listener CPU per simulated minute (s)", rt["cpu_s_per_sim_minute"], "at x1"),
        ("listener CPU share at x1", rt["cpu_share"], ""),
        ("messages per 5-minute jump", lis["jump_messages"], "closed with the barrier"),
        ("listener CPU per jump (s)", lis["jump_cpu_s"], ""),
        ("listener CPU per message (us)", lis["jump_cpu_us_per_message"], ""),
        ("listener peak RSS (MB)", lis["peak_rss_mb"], "bench process, during the jumps"),
        (
            "RSS after each jump (MB)",
            max(lis["rss_after_each_jump_mb"]),
            "max; series " + " ".join(_fmt(v, 1) for v in lis["rss_after_each_jump_mb"]),
        ),
        (
            "complete channels equal to the truth",
            lis["truth"]["channels_equal_truth"],
            f"of {lis['truth']['channels_complete']} complete in the last window",
        ),
        ("activity file (B/obs)", lake["activity_bytes_per_obs"], "zstd-3 Parquet, as the lake"),
        ("activity + coverage files (B/obs)", lake["with_coverage_bytes_per_obs"], ""),
        ("PRIVMSG reader (us/line)", parse["hand_written_us_per_line"], "hand-written"),
        ("irctokens (us/line)", parse["irctokens_us_per_line"], "same look-ups"),
    ]
    return _figures_table(f"chat listener ({scale})", rows)


def _chat_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """The realistic mode's rows: CPU split between Helix and the chat listener, the truth."""
    snap, join = res["snapshot"], res["chat_join"]
    speed = f"clock x{res['speed']:g}"
    return [
        ("Helix snapshot CPU (s)", snap["helix_cpu_s"], "the snapshot minus the listener's rate"),
        ("chat listener CPU per interval (s)", snap["listener_cpu_s"], speed),
        ("chat listener CPU share", snap["listener_cpu_share"], "CPU s per real s"),
        ("process CPU per 5-min interval (s)", snap["interval_cpu_s"], speed),
        ("messages received / sent", snap["received_over_sent"], "complete channels, truth"),
        ("messages received", snap["messages_received"], ""),
        (
            "channels read in full / equal to truth",
            snap["channels_complete"],
            f"equal: {_fmt(_median(snap['channels_equal_truth']), 0)}",
        ),
        ("activity observations", snap["activity_observations"], ""),
        ("lake bytes per activity observation", snap["activity_bytes_per_obs"], "zstd Parquet"),
        (
            "join / floor",
            join["join_over_floor"],
            f"{join['joined']} of {join['channels']} in {_fmt(join['join_s'])} s, "
            f"clock x{join['clock_speed']:g}",
        ),
    ]


def collector_tables(res: dict[str, Any]) -> list[Table]:
    snap = res["snapshot"]
    mem = res["memory"]
    rows = [
        ("channels listed", snap["channels"], ""),
        ("presence observations", snap["presence_observations"], ""),
        (
            "requests",
            snap["requests"],
            f"app token {_fmt(_median(snap['app_requests']), 0)}, "
            f"user token {_fmt(_median(snap['user_requests']), 0)}",
        ),
        ("wall time, simulated (s)", snap["wall_s"], f"clock x{res['speed']:g}"),
        ("rate-limit floor (s)", snap["floor_s"], f"bucket {res['bucket']} full at start"),
        ("wall / floor", snap["wall_over_floor"], "target <= 1.1"),
        ("HTTP 429", snap["http_429"], "target 0"),
        ("pacing waits", snap["rate_limit_waits"], ""),
        ("collector CPU per snapshot (s)", snap["cpu_s"], ""),
        ("CPU share of the 5-min interval", snap["cpu_share_of_interval"], ""),
        ("collector peak RSS (MB)", snap["peak_rss_mb"], ""),
        (
            f"RSS after each of {mem['snapshots']} snapshots (MB)",
            mem["max_mb"],
            "max; series " + " ".join(_fmt(v, 1) for v in mem["rss_after_each_mb"]),
        ),
    ]
    if res.get("chat"):
        rows += _chat_rows(res)
    else:
        rows.append(("simulator tick warm-up (s)", snap["tick_warmup_s"], "before the clock runs"))
    mode = res.get("permissions", "all-moderated")
    label = "LOAD TEST: every chat list, Helix only" if res.get("load_test", True) else "chat on"
    tables = [_figures_table(f"collector ({res['scale']}, {mode}: {label})", rows)]
    cmp = res.get("library_comparison")
    if cmp and "skipped" not in cmp:
        ours, lib = cmp["streamcensus"], cmp["twitchapi"]
        table = Table(
            title=f"same snapshot, clock x1: streamcensus vs {lib['library']}",
            title_justify="left",
        )
        table.add_column("figure")
        table.add_column("streamcensus", justify="right")
        table.add_column("twitchAPI", justify="right")
        for key, name in (
            ("wall_s", "wall time (s)"),
            ("requests", "HTTP requests"),
            ("http_429", "HTTP 429"),
            ("channels", "channels listed"),
            ("channels_complete", "channels with every chatter"),
            ("presence_observations", "presence observations"),
            ("presence_observations_missed", "observations missed"),
            ("cpu_s", "client CPU (s)"),
        ):
            table.add_row(name, _fmt(ours.get(key)), _fmt(lib.get(key)))
        table.add_row("rate-limit floor (s)", _fmt(ours["floor_s"]), "")
        tables.append(table)
    elif cmp:
        tables.append(_figures_table("library comparison", [("skipped", None, cmp["skipped"])]))
    return tables


def storage_tables(res: dict[str, Any]) -> list[Table]:
    rows = [
        ("snapshots measured", res["snapshots"], ""),
        ("presence observations", res["presence_observations"], ""),
        ("lake chatters file (B/obs)", res["chatters_bytes_per_obs"], res["lake_format"] or ""),
        ("all raw files (B/obs)", res["raw_bytes_per_obs"], "streams + chatters + manifest"),
        ("write-up gzip CSV (B/obs)", res["baseline_bytes_per_obs"], "in memory, never written"),
        ("baseline / chatters file", res["baseline_over_chatters"], ""),
        ("baseline / all raw files", res["baseline_over_raw"], ""),
    ]
    tables = [_figures_table(f"storage ({res['snapshots']} snapshots)", rows)]
    study = Table(
        title=f"compression study: snapshot {res['study_snapshot']}, {res['study_rows']:,} rows",
        title_justify="left",
    )
    for name in ("format", "B/obs", "vs baseline", "write CPU (ms)", "load (rows/s)"):
        study.add_column(name, justify="left" if name == "format" else "right")
    for r in res["study"]:
        study.add_row(
            r["format"].removeprefix("chatters:"),
            _fmt(r["bytes_per_observation"]),
            _fmt(r["bytes_vs_baseline"], 3),
            _fmt(r["write_cpu_s"] * 1000, 1),
            _fmt(r["load_rows_per_s"], 0),
        )
    tables.append(study)
    return tables


def _whole(figure: Any) -> Any:
    """A repeated figure with its median and runs as whole numbers (rates)."""
    if isinstance(figure, dict):
        median = figure.get("median")
        return {
            "median": None if median is None else round(median),
            "runs": [round(v) for v in figure.get("runs", [])],
        }
    return figure


def _day_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    health = res["pipeline_health"]
    return [
        ("snapshots", res["snapshots"], f"{res['stream_facts']:,} stream facts"),
        ("presence observations", res["presence_observations"], ""),
        ("distinct pseudonyms", res["distinct_viewers"], ""),
        ("viewing sessions", res["viewing_sessions"], ""),
        ("load + transform, wall (s)", res["wall_s"], "load_days, fresh warehouse"),
        ("  load (s)", res["load_s"], "read, validate, insert"),
        ("  transform (s)", res["transform_s"], "models + checks"),
        ("  checks (s)", res["checks_s"], ""),
        ("  CPU (s)", res["cpu_s"], "all threads"),
        ("  peak RSS (MB)", res["peak_rss_mb"], "bench process"),
        ("presence observations / s", _whole(res["obs_per_s"]), "over the wall time"),
        ("  presence pass (s)", res["presence_pass_s"], "sessionising while reading (in load)"),
        ("viewing sessions: pass + curated write (s)", res["sessions_s"], ""),
        (
            "bare query: viewing_sessions SQL (s)",
            res["bare_query_s"],
            f"DuckDB alone, zstd Parquet; same sessions: {_fmt(res['bare_query_sessions_match'])}",
        ),
        ("viewing sessions / bare query", res["sessions_over_bare_query"], "per repeat"),
        ("load + transform / bare query", res["wall_over_bare_query"], "per repeat"),
        ("slowest stream-fact model (s)", res["stream_fact_models_max_s"], ""),
        ("exposure (s)", res["exposure_s"], ""),
        ("exposure cores (CPU s / wall s)", res["exposure_cores"], ""),
        ("raw chatters files (B/obs)", res["chatters_bytes_per_obs"], ""),
        ("all raw files (B/obs)", res["raw_bytes_per_obs"], "streams + chatters + manifests"),
        ("curated viewing sessions (B/obs)", res["curated_bytes_per_obs"], ""),
        (
            "pipeline_health raw / curated (B/obs)",
            health.get("raw_bytes_per_observation"),
            f"curated {_fmt(health.get('curated_bytes_per_observation'), 3)}",
        ),
        ("warehouse file (MB)", res["warehouse_bytes"] / 1024**2, ""),
        ("lake written in (s)", res["prepare_s"], res["source"]),
    ]


def side_by_side_tables(day: dict[str, Any], span: str) -> list[Table]:
    """A baseline version's load beside this one's (`--baseline`), per figure and model."""
    title = (
        f"warehouse: {day['day']} ({span}), {day['source']}, "
        f"{day['presence_observations']:,} observations; baseline {day['baseline']}"
    )
    table = Table(title=title, title_justify="left")
    for name in ("figure", "baseline", "this", "this / baseline", "runs (this)"):
        table.add_column(name, justify="left" if name in ("figure", "runs (this)") else "right")
    for key, figure in day["figures"].items():
        table.add_row(
            key,
            _fmt(_median(figure["baseline"])),
            _fmt(_median(figure["this"])),
            _fmt(_median(figure["ratio"])),
            _runs(figure["this"]),
        )
    table.add_row("bare query: viewing_sessions SQL (s)", "", _fmt(_median(day["bare_query_s"])))
    table.add_row("same sessions (both, bare query)", "", _fmt(day["same_sessions"]))
    differing = ", ".join(day["tables_differing"]) or "none"
    table.add_row("warehouse tables equal", "", _fmt(day["tables_equal"]), "", differing)
    models = Table(title="models, median s (CPU s), baseline and this", title_justify="left")
    for name in ("model", "materialized", "rows", "baseline", "this"):
        models.add_column(name, justify="left" if name == "model" else "right")
    before = {m["name"]: m for m in day["models_baseline"]}
    for model in day["models_this"]:
        old = before.get(model["name"])
        models.add_row(
            model["name"],
            model["materialized"],
            _fmt(model["rows"]),
            "-"
            if old is None
            else f"{_fmt(_median(old['seconds']))} ({_fmt(_median(old['cpu_seconds']))})",
            f"{_fmt(_median(model['seconds']))} ({_fmt(_median(model['cpu_seconds']))})",
        )
    return [table, models]


def warehouse_tables(res: dict[str, Any]) -> list[Table]:
    span = "whole day" if res["whole_day"] else f"{res['hours']:g} h from midnight UTC"
    tables: list[Table] = []
    for key in ("demo", "fr", "small"):
        if key not in res:
            continue
        day = res[key]
        if "figures" in day:
            tables += side_by_side_tables(day, span)
            continue
        title = f"warehouse: {day['scale']} day {day['day']} ({span}), {day['source']}"
        tables.append(_figures_table(title, _day_rows(day)))
        slow = Table(title=f"slowest models ({day['scale']})", title_justify="left")
        for name in ("model", "materialized", "rows", "median (s)", "runs"):
            slow.add_column(name, justify="left" if name in ("model", "runs") else "right")
        for model in day["models"][:5]:
            slow.add_row(
                model["name"],
                model["materialized"],
                _fmt(model["rows"]),
                _fmt(model["seconds"]["median"]),
                _runs(model["seconds"]),
            )
        tables.append(slow)
    check = res["truth_check"]
    rows = [(name.removesuffix("_equal"), value, "") for name, value in check.items()]
    tables.append(_figures_table("ground-truth lake of the demo day vs the collected one", rows))
    return tables


def engines_tables(res: dict[str, Any]) -> list[Table]:
    title = (
        f"engines: {res['scale']} day ({res['hours']:g} h), {res['presence_observations']:,} "
        f"observations, DuckDB vs Spark {res['spark_master']}"
    )
    rows: list[tuple[str, Any, str]] = []
    for engine, figures in res["engines"].items():
        for key in ("wall_s", "load_s", "models_s", "checks_s"):
            rows.append((f"{engine} {key}", figures[key], ""))
    rows += [
        ("models ratio spark/duckdb", res["models_ratio_spark_over_duckdb"], ""),
        ("wall ratio spark/duckdb", res["wall_ratio_spark_over_duckdb"], ""),
        ("spark start (s)", res["spark_start_s"], "once per process"),
        ("serving tables equal", res["serving_tables_equal"], "row for row"),
    ]
    for engine, micros in res["models_us_per_observation"].items():
        rows.append((f"{engine} models µs/observation", micros, ""))
    return [_figures_table(title, rows)]


def api_tables(res: dict[str, Any]) -> list[Table]:
    volume = f"{res['days']} days of {res['scale']} ground truth"
    if res.get("replica_days"):
        volume = (
            f"{res['days']} days' volume of {res['scale']} ground truth: {res['loaded_days']} "
            f"loaded, copied to {res['replica_days']} more (dates shifted)"
        )
    title = (
        f"api: {volume}, {res['concurrency']} in flight, {res['requests']:,} requests, "
        f"{_fmt(res['requests_per_s'])} req/s; {_fmt(res.get('answers_warmed'))} answers "
        f"warmed by the server first in {_fmt(res.get('server_warm_up_s'))} s"
    )
    latency = Table(title=title, title_justify="left")
    columns = ("endpoint", "requests", "p50 (ms)", "p90 (ms)", "p99 (ms)", "max (ms)")
    for name in (*columns, "first URLs", "first p50", "first max", "status"):
        latency.add_column(name, justify="left" if name in ("endpoint", "status") else "right")
    for name, e in res["endpoints"].items():
        statuses = " ".join(f"{k}: {v}" for k, v in sorted(e["statuses"].items()))
        latency.add_row(
            name,
            _fmt(e["requests"]),
            _fmt(e["p50"]),
            _fmt(e["p90"]),
            _fmt(e["p99"]),
            _fmt(e["max"]),
            _fmt(e.get("first_requests")),
            _fmt(e.get("first_p50")),
            _fmt(e.get("first_max")),
            statuses,
        )
    pages = Table(title="dashboard page weight, first load", title_justify="left")
    for name in ("page", "HTML (KB)", "assets", "assets (KB)", "total (KB)"):
        pages.add_column(name, justify="left" if name == "page" else "right")
    for name, w in res["pages"].items():
        pages.add_row(
            name,
            _fmt(w["html_bytes"] / 1024, 1),
            _fmt(w["assets"]),
            _fmt(w["asset_bytes"] / 1024, 1),
            _fmt(w["total_bytes"] / 1024, 1),
        )
    return [latency, pages]


def privacy_tables(res: dict[str, Any]) -> list[Table]:
    people = res["channel_day_people"]
    title = (
        f"privacy: {len(res['days'])} days of {res['scale']} ground truth, "
        f"ε {res['epsilon_per_figure']} per figure, noise scale {_fmt(res['noise_scale'])}, "
        f"95% of noise within ±{_fmt(res['noise_95'])}, k {res['k']}"
    )
    rows: list[tuple[str, Any, str]] = [
        ("channel-days published", people["published"], f"of {people['channel_days']}"),
        ("people: median relative error", people["relative_error"]["median"], ""),
        ("people: p90 relative error", people["relative_error"]["p90"], ""),
        ("people: median absolute error", people["absolute_error"]["median"], "people"),
        (
            "people: median relative error, noise alone",
            people.get("noise_relative_error", {}).get("median"),
            "against the people counted",
        ),
        ("suppressed, of those with >= k", people["suppressed_share_of_at_least_k"], ""),
        ("published, under k exactly", people["published_under_k_share"], ""),
    ]
    bound = res.get("bound")
    if bound:
        rows.append(
            (
                "person-days over the bound",
                bound["person_days_over_bound_share"],
                f"of {bound['person_days']} (bound {bound['contribution_bound']} chats)",
            )
        )
        rows.append(("presences left out by the bound", bound["presences_dropped_share"], ""))
    for key, label in (("overlap_day", "1-day"), ("overlap_week", "7-day")):
        o = res[key]
        rows.append((f"{label} overlap pairs published", o["pairs"], ""))
        rows.append((f"{label} pairs under k exactly", o["published_under_k_share"], ""))
        rows.append(
            (f"{label} share: median relative error", o["share_relative_error"]["median"], "")
        )
        rows.append(
            (f"{label} share: median absolute error", o["share_absolute_error"]["median"], "")
        )
    return [_figures_table(title, rows)]


def communities_tables(res: dict[str, Any]) -> list[Table]:
    table = Table(
        title=f"communities: {res['days']} days, scored on {res['last_day']}",
        title_justify="left",
    )
    for column in ("window · signal", "channels", "found", "true", "NMI", "ARI"):
        table.add_column(column, justify="left" if column == "window · signal" else "right")
    for column in ("NMI by game", "ARI by game", "day-to-day NMI", "ids kept"):
        table.add_column(column, justify="right")
    for key, s in res["scores"].items():
        table.add_row(
            key.replace("_", " · ", 1),
            _fmt(s["detected"]["channels"]),
            _fmt(s["communities"]),
            _fmt(s["truth_communities"]),
            _fmt(s["detected"]["nmi"], 3),
            _fmt(s["detected"]["ari"], 3),
            _fmt(s["by_main_game"]["nmi"], 3),
            _fmt(s["by_main_game"]["ari"], 3),
            _fmt(s["day_to_day_nmi"], 3),
            _fmt(s["ids_kept"], 3),
        )
    times = _figures_table(
        "communities: time",
        [
            ("model run, last day, every window and signal (s)", res["model_s"], ""),
            ("daily load with the model (s)", res["load_s"], "per day"),
        ],
    )
    return [table, times]


def bots_tables(res: dict[str, Any]) -> list[Table]:
    title = (
        f"bots: {res['scale']}, {res['lurker_bots']} lurker + {res['service_bots']} service bots "
        f"(simulator truth), bot_min_chats {res['bot_min_chats']}, "
        f"{res['known_bots_listed']} known bots listed"
    )
    table = Table(title=title, title_justify="left")
    for name in (
        "day",
        "accounts",
        "bots seen",
        "rule",
        "flagged",
        "precision",
        "recall",
        "lurker recall",
    ):
        table.add_column(name, justify="left" if name in ("day", "rule") else "right")
    for key, label in (("full_day", "whole day"), ("night", f"{res['night_hours']:g}-h night")):
        day = res[key]
        for rule, name in (("rolling_window", "rolling 7 days"), ("one_day", "one day's peak")):
            figures = day[rule]
            table.add_row(
                f"{day['day']} ({label})",
                _fmt(day["accounts"]),
                _fmt(day["bots_seen"]),
                name,
                _fmt(figures["flagged"]),
                _fmt(figures["precision"], 4),
                _fmt(figures["recall"], 4),
                _fmt(
                    day[f"lurker_recall_{'rolling' if rule == 'rolling_window' else 'one_day'}"], 4
                ),
            )
    return [table]


def print_report(result: dict[str, Any], console: Console | None = None) -> None:
    """Print every suite's tables, then the command and machine."""
    console = console or Console()
    for key, render in (
        ("simulator", simulator_tables),
        ("chat", chat_tables),
        ("collector", collector_tables),
        ("storage", storage_tables),
        ("warehouse", warehouse_tables),
        ("engines", engines_tables),
        ("api", api_tables),
        ("privacy", privacy_tables),
        ("communities", communities_tables),
        ("bots", bots_tables),
    ):
        if key in result:
            for table in render(result[key]):
                console.print(table)
    meta = result["meta"]
    mach = meta["machine"]
    console.print(
        f"{meta['command']}\n{meta['date']}, {mach['cpus']} CPUs ({mach['cpu_model']}), "
        f"Python {mach['python']}, {meta['elapsed_s']} s"
    )
