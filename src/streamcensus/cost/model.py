"""A month of running, priced: measured figures × the price table, line by line.

A month is the clouds' billing month, 730 hours: 8,760 snapshots on the 5-minute grid
and 30.4 daily loads. For each line, quantity × unit price gives the list cost; the free
allowance of the price table (per billing account) is then taken off to give the billed
cost. Formulas (per month; s = snapshots, d = days):

- collector: instance seconds per snapshot (rounded up to the runtime's increment) × s ×
  vCPU (and × GiB) at the vCPU-second (GiB-second) price, plus s requests;
- scheduler: the jobs beyond the free ones;
- load: load seconds per snapshot × s × vCPU (GiB) of the job;
- storage: the average GiB stored in month `month` of running: raw stream facts,
  follower totals and manifests, and the warehouse, are kept, so they grow by a day's
  bytes every day; raw chatters and curated viewing sessions are deleted after
  `retention_days`, so they level off; plus Class A operations (every file written,
  and the load's listings) and Class B (every file read by the load);
- network: bytes received from Twitch (ingress, free on the default table) and bytes
  sent to it (egress), per snapshot × s; dashboard traffic is an assumption of the table.

Every figure is a plain number in `CostEstimate`, so it can be exported as a metric.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from streamcensus.cost.measure import Measured, round_up
from streamcensus.cost.prices import PriceTable
from streamcensus.timeutil import GRID_SECONDS

HOURS_PER_MONTH = 730.0  # the clouds' billing month
SNAPSHOTS_PER_MONTH = HOURS_PER_MONTH * 3600 / GRID_SECONDS
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
GIB = 2.0**30
RETAINED_KINDS = ("chatters",)  # raw kinds deleted after retention_days (presence)
LOAD_LISTINGS_PER_DAY = 8  # folder listings a daily load makes (one per raw kind and zone)
COMPONENTS = ("collector", "scheduler", "load", "storage", "network", "dashboard")


class CostLine(BaseModel):
    """One priced quantity of a month."""

    component: str = Field(description="one of " + ", ".join(COMPONENTS))
    item: str
    quantity: float
    unit: str
    unit_price: float
    free: float = Field(default=0.0, description="free allowance, in the same unit")
    list_usd: float
    billed_usd: float
    basis: str = Field(default="measured", description="measured, or assumed (a table entry)")


class WriteupFigures(BaseModel):
    """What the public write-up ("10M Twitch user tracking architecture", 2023) says of
    its cost, as it says it. Its text gives the total and usage, not an amount per service."""

    title: str = "10M Twitch user tracking architecture (2023)"
    total_usd_month: float = 4.79
    total_in_text: str = "approximately $5/month for the whole French community"
    services: tuple[str, ...] = (
        "Cloud Run collector (every 5 minutes, Cloud Scheduler)",
        "Cloud Storage (gzip CSV)",
        "BigQuery (daily load at 2 AM, SQL, views)",
        "Firebase hosting (website)",
    )
    amounts_per_service: str = "not stated in the write-up's text"
    region: str = "europe-west1"
    channels_per_snapshot: int = 2000
    instance_seconds_per_snapshot: float = 30.0
    internet_gib_month: float = 100.0
    main_cost: str = "internet traffic of the API calls (about 100 GB a month)"


class CostEstimate(BaseModel):
    """A month of running this installation as measured, priced with `prices`."""

    month_of_running: int = Field(description="storage is priced as in this month of running")
    snapshots_per_month: float
    days_per_month: float
    retention_days: int
    measured: Measured
    lines: list[CostLine]
    by_component: dict[str, float] = Field(description="billed USD per component")
    total_list_usd: float
    total_billed_usd: float
    not_measured: list[str] = Field(description="figures the window lacks (their lines are 0)")
    price_table: str
    prices_as_of: dt.date
    currency: str
    sources: dict[str, str]
    writeup: WriteupFigures = WriteupFigures()


def _line(
    component: str,
    item: str,
    quantity: float,
    unit: str,
    unit_price: float,
    free: float = 0.0,
    basis: str = "measured",
) -> CostLine:
    return CostLine(
        component=component,
        item=item,
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        free=free,
        list_usd=round(quantity * unit_price, 6),
        billed_usd=round(max(0.0, quantity - free) * unit_price, 6),
        basis=basis,
    )


def stored_gib(per_day: float, days_running: float, kept_days: float | None) -> float:
    """Average GiB stored over the month ending after `days_running` days, for data that
    grows by `per_day` bytes a day and is kept `kept_days` (None: forever)."""
    a, b = max(0.0, days_running - DAYS_PER_MONTH), days_running
    if kept_days is None or b <= kept_days:
        held = (a + b) / 2  # the mean of t over [a, b]
    elif a >= kept_days:
        held = kept_days
    else:  # the mean of min(t, kept_days) over [a, b]
        held = ((kept_days**2 - a**2) / 2 + kept_days * (b - kept_days)) / (b - a)
    return per_day * held / GIB


def estimate(
    measured: Measured, prices: PriceTable, *, retention_days: int, month: int = 12
) -> CostEstimate:
    """Price a month of running (`month` of running, for the storage that accumulates)."""
    s = SNAPSHOTS_PER_MONTH
    d = DAYS_PER_MONTH
    lines: list[CostLine] = []
    missing: list[str] = []
    col = prices.collector
    instance = measured.instance_seconds_per_snapshot
    if instance is None:
        missing.append("collector time and HTTP bytes (manifests without cost measurements)")
    busy = round_up(instance or 0.0, col.increment_seconds) * s
    lines += [
        _line(
            "collector",
            "vCPU time",
            busy * col.vcpu,
            "vCPU-s",
            col.vcpu_second,
            col.free_vcpu_seconds,
        ),
        _line(
            "collector",
            "memory time",
            busy * col.memory_gib,
            "GiB-s",
            col.gib_second,
            col.free_gib_seconds,
        ),
        _line(
            "collector",
            "invocations",
            s,
            "requests",
            col.per_million_requests / 1e6,
            col.free_requests,
        ),
    ]
    sched = prices.scheduler
    lines.append(
        _line("scheduler", "jobs", sched.jobs, "job-months", sched.per_job_month, sched.free_jobs)
    )
    loader = prices.loader
    if measured.load_seconds_per_snapshot is None:
        missing.append("load time (loads made before it was recorded)")
    load_busy = (measured.load_seconds_per_snapshot or 0.0) * s
    lines += [
        _line(
            "load",
            "vCPU time",
            load_busy * loader.vcpu,
            "vCPU-s",
            loader.vcpu_second,
            loader.free_vcpu_seconds,
        ),
        _line(
            "load",
            "memory time",
            load_busy * loader.memory_gib,
            "GiB-s",
            loader.gib_second,
            loader.free_gib_seconds,
        ),
    ]

    st = prices.storage
    days_running = month * d
    per_day = {kind: b * s / d for kind, b in measured.raw_bytes_per_snapshot.items()}
    kept_raw = sum(v for k, v in per_day.items() if k not in RETAINED_KINDS)
    retained_raw = sum(v for k, v in per_day.items() if k in RETAINED_KINDS)
    curated = measured.curated_bytes_per_snapshot * s / d
    storage = {
        "raw zone, stream facts, followers and manifests (kept)": stored_gib(
            kept_raw, days_running, None
        ),
        f"raw zone, chatters (kept {retention_days} days)": stored_gib(
            retained_raw, days_running, retention_days
        ),
        f"curated zone (kept {retention_days} days)": stored_gib(
            curated, days_running, retention_days
        ),
        "warehouse file (kept)": stored_gib(measured.warehouse_bytes_per_day, days_running, None),
    }
    free_left = st.free_gib_month
    for item, gib in storage.items():
        free = min(free_left, gib)
        free_left -= free
        lines.append(_line("storage", item, gib, "GiB-months", st.gib_month, free))
    writes = measured.raw_files_per_snapshot * s + (measured.curated_files_per_day + 1) * d
    listings = LOAD_LISTINGS_PER_DAY * d
    reads = measured.raw_files_per_snapshot * s + d  # each raw file once, the warehouse daily
    lines += [
        _line(
            "storage",
            "Class A operations (writes, listings)",
            writes + listings,
            "operations",
            st.class_a_per_10k / 1e4,
        ),
        _line(
            "storage", "Class B operations (reads)", reads, "operations", st.class_b_per_10k / 1e4
        ),
    ]

    net = prices.network
    received = (measured.bytes_received_per_snapshot or 0.0) * s / GIB
    sent = (measured.bytes_sent_per_snapshot or 0.0) * s / GIB
    lines += [
        _line("network", "from Twitch (ingress)", received, "GiB", net.ingress_gib),
        _line("network", "to Twitch (egress)", sent, "GiB", net.egress_gib),
    ]
    dash = prices.dashboard
    lines.append(
        _line(
            "dashboard",
            "visitors' traffic",
            dash.gib_per_month,
            "GiB",
            dash.gib_transfer,
            dash.free_gib_transfer,
            basis="assumed",
        )
    )

    by_component = {
        c: round(sum(x.billed_usd for x in lines if x.component == c), 4) for c in COMPONENTS
    }
    return CostEstimate(
        month_of_running=month,
        snapshots_per_month=s,
        days_per_month=round(d, 4),
        retention_days=retention_days,
        measured=measured,
        lines=lines,
        by_component=by_component,
        total_list_usd=round(sum(x.list_usd for x in lines), 4),
        total_billed_usd=round(sum(x.billed_usd for x in lines), 4),
        not_measured=missing,
        price_table=prices.name,
        prices_as_of=prices.as_of,
        currency=prices.currency,
        sources=prices.sources(),
    )
