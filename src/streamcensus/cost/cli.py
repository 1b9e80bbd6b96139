"""`streamcensus cost`: a month of running this installation, measured and priced."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from streamcensus.config import Settings
from streamcensus.context import AppContext, pass_app
from streamcensus.cost.measure import NothingMeasured, measure, warehouse_file_bytes
from streamcensus.cost.model import CostEstimate, estimate
from streamcensus.cost.prices import load_prices
from streamcensus.load.rawfiles import lake_days
from streamcensus.warehouse.connection import connect

DEFAULT_DAYS = 7
DEFAULT_MONTH = 12


def cost_estimate(
    settings: Settings,
    *,
    days: int = DEFAULT_DAYS,
    month: int = DEFAULT_MONTH,
    prices_file: Path | None = None,
) -> CostEstimate:
    """Measure the last `days` loaded days of the warehouse and price a month of running.

    A one-line UserError names the fix when there is nothing to measure yet.
    """
    prices = load_prices(prices_file or settings.cost_prices)
    path = settings.warehouse_path
    if not path.is_file():
        raise NothingMeasured(_nothing_yet(settings))
    con = connect(path, read_only=True)
    try:

        def rows(sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
            result = con.execute(sql, list(params))
            names = [d[0] for d in result.description or []]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

        try:
            measured = measure(rows, warehouse_file_bytes(path), days)
        except NothingMeasured:
            raise NothingMeasured(_nothing_yet(settings)) from None
    finally:
        con.close()
    return estimate(measured, prices, retention_days=settings.retention_days, month=month)


def _nothing_yet(settings: Settings) -> str:
    if not lake_days(settings.lake_dir):
        return "no snapshot in the lake: run `streamcensus collect` or `make demo` first"
    return "no day loaded in the warehouse yet: run `streamcensus load --all` first"


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:,.4f}"


def _unit_price(value: float) -> str:
    return "$" + (format(value, ".8f").rstrip("0").rstrip(".") or "0")


def _quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


def render(report: CostEstimate, console: Console) -> None:
    """The estimate as tables: the lines, what was measured, and the write-up beside it."""
    m = report.measured
    table = Table(
        title=f"a month of running ({report.snapshots_per_month:,.0f} snapshots, "
        f"storage as in month {report.month_of_running}): {report.price_table}, "
        f"{report.prices_as_of}",
        title_justify="left",
    )
    for column, right in (
        ("component", False),
        ("item", False),
        ("quantity", True),
        ("unit", False),
        ("unit price", True),
        ("list", True),
        ("billed", True),
    ):
        table.add_column(column, justify="right" if right else "left")
    for line in report.lines:
        table.add_row(
            line.component,
            line.item + (" (assumed)" if line.basis == "assumed" else ""),
            _quantity(line.quantity),
            line.unit,
            _unit_price(line.unit_price),
            _money(line.list_usd),
            _money(line.billed_usd),
        )
    table.add_section()
    table.add_row(
        "total", "", "", "", "", _money(report.total_list_usd), _money(report.total_billed_usd)
    )
    console.print(table)

    measured = Table(
        title=f"measured: {m.days} loaded days {m.first_day} to {m.last_day}, "
        f"{m.snapshots:,} snapshots",
        title_justify="left",
    )
    measured.add_column("figure")
    measured.add_column("this installation", justify="right")
    measured.add_column("the write-up", justify="right")
    w = report.writeup

    def opt(value: float | None, fmt: str) -> str:
        return "not measured" if value is None else format(value, fmt)

    for name, ours, theirs in (
        ("channels listed per snapshot", f"{m.channels_per_snapshot:,.0f}",
         f"{w.channels_per_snapshot:,}"),
        ("presence observations per snapshot", f"{m.presence_per_snapshot:,.0f}", ""),
        ("requests per snapshot", f"{m.requests_per_snapshot:,.1f}", ""),
        ("collector CPU seconds per snapshot", opt(m.cpu_seconds_per_snapshot, ",.3f"), ""),
        ("collector busy seconds per snapshot", opt(m.instance_seconds_per_snapshot, ",.2f"),
         f"~{w.instance_seconds_per_snapshot:g}"),
        ("HTTP bytes received per snapshot", opt(m.bytes_received_per_snapshot, ",.0f"), ""),
        ("HTTP bytes sent per snapshot", opt(m.bytes_sent_per_snapshot, ",.0f"), ""),
        ("Twitch API traffic, GiB per month",
         opt(None if m.bytes_received_per_snapshot is None else
             ((m.bytes_received_per_snapshot + (m.bytes_sent_per_snapshot or 0))
              * report.snapshots_per_month / 2**30), ",.2f"),
         f"~{w.internet_gib_month:g} GB"),
        ("raw bytes per snapshot", f"{sum(m.raw_bytes_per_snapshot.values()):,.0f}", ""),
        ("curated bytes per snapshot", f"{m.curated_bytes_per_snapshot:,.0f}", ""),
        ("load seconds per day (288 snapshots)",
         opt(None if m.load_seconds_per_snapshot is None else m.load_seconds_per_snapshot * 288,
             ",.1f"), ""),
        ("warehouse bytes per day", f"{m.warehouse_bytes_per_day:,.0f}", ""),
        ("a month, billed", _money(report.total_billed_usd),
         f"${w.total_usd_month:.2f} ({w.total_in_text})"),
    ):  # fmt: skip
        measured.add_row(name, ours, theirs)
    console.print(measured)
    console.print(
        f"the write-up ({w.title}, {w.region}): {'; '.join(w.services)}; "
        f"amounts per service {w.amounts_per_service}; main cost: {w.main_cost}."
    )
    for gap in report.not_measured:
        console.print(f"not measured: {gap}")
    console.print("prices: " + "; ".join(f"{k} {v}" for k, v in report.sources.items()))


@click.command("cost")
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=DEFAULT_DAYS,
    show_default=True,
    help="Measure the last N loaded days.",
)
@click.option(
    "--month",
    type=click.IntRange(1, 120),
    default=DEFAULT_MONTH,
    show_default=True,
    help="Price storage as in this month of running (kept data grows).",
)
@click.option(
    "--prices",
    "prices_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML price table (default: the cost_prices setting, else built-in list prices).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def cost_command(
    app: AppContext, days: int, month: int, prices_file: Path | None, as_json: bool
) -> None:
    """A month of running, from measured figures, priced with a price table."""
    report = cost_estimate(app.settings(), days=days, month=month, prices_file=prices_file)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    render(report, Console())
