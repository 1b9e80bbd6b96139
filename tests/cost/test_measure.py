"""`streamcensus cost` over a hand-made lake whose measurements are known: every figure by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, make_settings, query, run_load
from streamcensus.cli import main
from streamcensus.config import Settings
from streamcensus.cost.cli import cost_estimate
from streamcensus.cost.measure import NothingMeasured, warehouse_file_bytes
from streamcensus.timeutil import isoformat_z

NEXT = DAY + dt.timedelta(days=1)
STREAMS = [Stream("1", 900, at(DAY, "18:00")), Stream("2", 300, at(DAY, "18:30"))]


def _measures(moment: dt.datetime, **values: float) -> dict[str, object]:
    """Manifest fields of a measured snapshot; ended_at 20 s after the grid time."""
    return {"ended_at": isoformat_z(moment + dt.timedelta(seconds=20)), **values}


def build(tmp_path: Path) -> Settings:
    """DAY: two measured snapshots and one from before the measurements; NEXT: one."""
    settings = make_settings(tmp_path / "data")
    lake = LakeBuilder(settings.lake_dir)
    first, second, old = at(DAY, "20:00"), at(DAY, "20:05"), at(DAY, "20:10")
    # instance seconds = wall × (1 − waits / duration) + waits: 2 × (1 − 10/20) + 10 = 11
    lake.snapshot(
        first,
        STREAMS,
        {"1": [11, 12, 13], "2": [14]},
        manifest=_measures(
            first, wall_seconds=2.0, cpu_seconds=0.5, rate_limit_wait_seconds=10.0,
            bytes_sent=100, bytes_received=1000,
        ),
    )  # fmt: skip
    # no rate-limit wait: instance seconds = wall = 3
    lake.snapshot(
        second,
        STREAMS,
        {"1": [11, 12]},
        manifest=_measures(
            second, wall_seconds=3.0, cpu_seconds=1.5, bytes_sent=300, bytes_received=3000
        ),
    )
    lake.snapshot(old, STREAMS[:1], {"1": [11]})  # a manifest without cost measurements
    lake.snapshot(
        at(NEXT, "09:00"),
        STREAMS[:1],
        {"1": [11]},
        manifest=_measures(at(NEXT, "09:00"), wall_seconds=7.0, cpu_seconds=4.0),
    )
    run_load(settings, [DAY, NEXT])
    return settings


def test_measures_every_figure_of_the_window(tmp_path: Path) -> None:
    settings = build(tmp_path)
    report = cost_estimate(settings, days=1)  # the last loaded day: NEXT only
    m = report.measured
    assert (m.first_day, m.last_day, m.days, m.snapshots) == (NEXT, NEXT, 1, 1)
    assert m.instance_seconds_per_snapshot == 7.0
    assert m.warehouse_days == 2

    report = cost_estimate(settings, days=2)
    m = report.measured
    assert (m.first_day, m.last_day, m.days) == (DAY, NEXT, 2)
    assert (m.snapshots, m.snapshots_measured) == (4, 3)
    assert m.instance_seconds_per_snapshot == pytest.approx((11.0 + 3.0 + 7.0) / 3)
    assert m.cpu_seconds_per_snapshot == pytest.approx((0.5 + 1.5 + 4.0) / 3)
    assert m.bytes_received_per_snapshot == pytest.approx(4000 / 3)
    assert m.bytes_sent_per_snapshot == pytest.approx(400 / 3)
    assert m.channels_per_snapshot == (2 + 2 + 1 + 1) / 4
    assert m.presence_per_snapshot == (4 + 2 + 1 + 1) / 4
    files = query(
        settings,
        "select kind, sum(bytes), count(*) from loaded_files group by kind order by kind",
    )
    assert m.raw_bytes_per_snapshot == {kind: size / 4 for kind, size, _ in files}
    assert m.raw_files_per_snapshot == sum(n for _, _, n in files) / 4 == 3.0
    curated = query(settings, "select sum(bytes), count(*) from curated_files")[0]
    assert m.curated_bytes_per_snapshot == curated[0] / 4
    assert m.curated_files_per_day == curated[1] / 2
    seconds = query(settings, "select sum(load_seconds) from loaded_days")[0][0]
    assert seconds > 0
    assert m.load_seconds_per_snapshot == pytest.approx(seconds / 4)
    assert m.warehouse_bytes == warehouse_file_bytes(settings.warehouse_path) > 0

    # the estimate's lines add up, and use these figures
    assert report.total_list_usd == pytest.approx(sum(x.list_usd for x in report.lines), abs=1e-3)
    assert report.total_billed_usd == pytest.approx(sum(report.by_component.values()), abs=1e-3)
    vcpu = next(x for x in report.lines if x.component == "collector" and x.item == "vCPU time")
    assert vcpu.quantity == pytest.approx(7.0 * 8760)  # 7.0 s is already a multiple of 0.1 s
    assert report.not_measured == []


def test_a_load_again_keeps_its_first_measurement(tmp_path: Path) -> None:
    settings = build(tmp_path)
    before = query(settings, "select day, load_seconds from loaded_days order by day")
    run_load(settings, [DAY, NEXT])  # same files: same content, nothing changes
    assert query(settings, "select day, load_seconds from loaded_days order by day") == before


def test_old_manifests_are_reported_as_not_measured(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    LakeBuilder(settings.lake_dir).snapshot(at(DAY, "20:00"), STREAMS, {"1": [1, 2]})
    run_load(settings, [DAY])
    report = cost_estimate(settings)
    assert report.measured.snapshots_measured == 0
    assert report.measured.instance_seconds_per_snapshot is None
    assert report.not_measured == [
        "collector time and HTTP bytes (manifests without cost measurements)"
    ]
    collector = [x for x in report.lines if x.component == "collector" and x.unit != "requests"]
    assert [x.quantity for x in collector] == [0.0, 0.0]


def test_nothing_measured_names_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path / "data")
    with pytest.raises(
        NothingMeasured, match="no snapshot in the lake: run `streamcensus collect`"
    ):
        cost_estimate(settings)
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(settings.data_dir), "cost"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "streamcensus: error: no snapshot in the lake: run `streamcensus collect` "
        "or `make demo` first\n"
    )
    LakeBuilder(settings.lake_dir).snapshot(at(DAY, "20:00"), STREAMS)
    with pytest.raises(NothingMeasured, match="run `streamcensus load --all` first"):
        cost_estimate(settings)


def test_cli_json_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = build(tmp_path)
    main(["--data-dir", str(settings.data_dir), "cost", "--json", "--days", "2", "--month", "1"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["month_of_running"] == 1
    assert doc["measured"]["snapshots"] == 4
    assert doc["writeup"]["total_usd_month"] == 4.79
    assert doc["prices_as_of"] == "2026-11-29"
    components = {line["component"] for line in doc["lines"]}
    assert components == {"collector", "scheduler", "load", "storage", "network", "dashboard"}

    main(["--data-dir", str(settings.data_dir), "cost"])
    out = " ".join(capsys.readouterr().out.split())  # the table wraps to the terminal
    assert "Google Cloud, europe-west1" in out
    assert "$4.79" in out
    assert "https://cloud.google.com/run/pricing" in out


def test_price_table_file_overrides_part_of_the_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = build(tmp_path)
    prices = tmp_path / "prices.toml"
    prices.write_text('name = "my region"\n[scheduler]\njobs = 5\n')
    report = cost_estimate(settings, prices_file=prices)
    scheduler = next(x for x in report.lines if x.component == "scheduler")
    assert (scheduler.quantity, scheduler.free, scheduler.billed_usd) == (5, 3, pytest.approx(0.2))
    assert report.price_table == "my region"
    # the setting is used when no file is given on the command line
    via_setting = cost_estimate(make_settings(settings.data_dir, cost_prices=prices))
    assert via_setting.price_table == "my region"

    prices.write_text("[storage]\ngib_month = -1\n")
    with pytest.raises(SystemExit):
        main(["--data-dir", str(settings.data_dir), "cost", "--prices", str(prices)])
    err = capsys.readouterr().err
    assert err.startswith(f"streamcensus: error: price table {prices}: storage.gib_month: ")
    assert err.count("\n") == 1
