"""The cost model's formulas on hand-made figures, and the HTTP byte counts they rest on."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterator

import httpx
import pytest

from streamcensus.cost.measure import Measured, round_up
from streamcensus.cost.model import (
    DAYS_PER_MONTH,
    GIB,
    SNAPSHOTS_PER_MONTH,
    CostEstimate,
    CostLine,
    estimate,
    stored_gib,
)
from streamcensus.cost.prices import PriceTable
from streamcensus.twitch.stats import ClientStats, request_bytes

DAY = dt.date(2026, 11, 27)


def measured(**values: object) -> Measured:
    base: dict[str, object] = {
        "first_day": DAY,
        "last_day": DAY,
        "days": 1,
        "snapshots": 288,
        "snapshots_measured": 288,
        "channels_per_snapshot": 2000.0,
        "presence_per_snapshot": 250_000.0,
        "requests_per_snapshot": 100.0,
        "cpu_seconds_per_snapshot": 0.8,
        "instance_seconds_per_snapshot": 1.23,
        "bytes_sent_per_snapshot": 50_000.0,
        "bytes_received_per_snapshot": 10_000_000.0,
        "raw_bytes_per_snapshot": {"chatters": 2_000_000.0, "streams": 300_000.0},
        "raw_files_per_snapshot": 3.0,
        "curated_bytes_per_snapshot": 300_000.0,
        "curated_files_per_day": 1.0,
        "load_seconds_per_snapshot": 0.5,
        "warehouse_bytes": 30 * 2**20,
        "warehouse_days": 30,
    }
    base.update(values)
    return Measured.model_validate(base)


def line(report: CostEstimate, component: str, item: str) -> CostLine:
    found = [x for x in report.lines if x.component == component and x.item.startswith(item)]
    assert len(found) == 1, (component, item)
    return found[0]


def test_month_and_rounding() -> None:
    assert SNAPSHOTS_PER_MONTH == 8760
    assert round(DAYS_PER_MONTH, 5) == 30.41667
    assert round_up(1.23, 0.1) == pytest.approx(1.3)
    assert round_up(1.2, 0.1) == pytest.approx(1.2)
    assert round_up(0.0, 0.1) == 0.0


def test_stored_gib_grows_for_kept_data_and_levels_off_under_retention() -> None:
    per_day = float(GIB)  # one GiB a day
    d = DAYS_PER_MONTH
    # kept: the mean of t over the month [11 d, 12 d]
    assert stored_gib(per_day, 12 * d, None) == pytest.approx(11.5 * d)
    # first month: the mean of t over [0, d]
    assert stored_gib(per_day, d, None) == pytest.approx(d / 2)
    # kept 30 days, a year in: 30 days held all month
    assert stored_gib(per_day, 12 * d, 30) == pytest.approx(30)
    # first month, retention of 10 days reached on day 10: (10²/2 + 10 (d − 10)) / d
    assert stored_gib(per_day, d, 10) == pytest.approx((50 + 10 * (d - 10)) / d)


def test_estimate_formulas() -> None:
    prices = PriceTable()
    report = estimate(measured(), prices, retention_days=30, month=12)
    s = SNAPSHOTS_PER_MONTH
    vcpu = line(report, "collector", "vCPU time")
    assert vcpu.quantity == pytest.approx(1.3 * s)
    assert vcpu.list_usd == pytest.approx(1.3 * s * 0.000024)
    assert vcpu.billed_usd == 0.0  # within the 180,000 free vCPU-seconds
    memory = line(report, "collector", "memory time")
    assert memory.quantity == pytest.approx(1.3 * s * 0.5)
    load = line(report, "load", "vCPU time")
    assert load.quantity == pytest.approx(0.5 * s * 2)
    chatters = line(report, "storage", "raw zone, chatters")
    per_day = 2_000_000.0 * s / DAYS_PER_MONTH
    assert chatters.quantity == pytest.approx(per_day * 30 / GIB, rel=1e-6)
    assert chatters.billed_usd == pytest.approx(per_day * 30 / GIB * 0.02, rel=1e-4)
    kept = line(report, "storage", "raw zone, stream facts")
    kept_per_day = 300_000.0 * s / DAYS_PER_MONTH
    assert kept.quantity == pytest.approx(kept_per_day * 11.5 * DAYS_PER_MONTH / GIB, rel=1e-6)
    warehouse = line(report, "storage", "warehouse file")
    assert warehouse.quantity == pytest.approx(2**20 * 11.5 * DAYS_PER_MONTH / GIB, rel=1e-6)
    writes = line(report, "storage", "Class A")
    assert writes.quantity == pytest.approx(3 * s + 2 * DAYS_PER_MONTH + 8 * DAYS_PER_MONTH)
    ingress = line(report, "network", "from Twitch")
    assert ingress.quantity == pytest.approx(10_000_000 * s / GIB)
    assert ingress.billed_usd == 0.0
    egress = line(report, "network", "to Twitch")
    assert egress.billed_usd == pytest.approx(50_000 * s / GIB * 0.12, rel=1e-4)
    dashboard = line(report, "dashboard", "visitors")
    assert dashboard.basis == "assumed"
    assert report.total_billed_usd == pytest.approx(
        sum(x.billed_usd for x in report.lines), abs=1e-3
    )
    assert report.total_list_usd > report.total_billed_usd > 0

    # without free tiers, the collector's time is billed in full
    no_free = PriceTable.model_validate(
        {"collector": {"free_vcpu_seconds": 0, "free_gib_seconds": 0, "free_requests": 0}}
    )
    paid = estimate(measured(), no_free, retention_days=30)
    assert paid.by_component["collector"] == pytest.approx(
        1.3 * s * (0.000024 + 0.5 * 0.0000025) + s * 0.4e-6, abs=1e-4
    )


def test_http_sizes_are_counted_on_the_wire() -> None:
    request = httpx.Request(
        "GET",
        "http://127.0.0.1:8080/helix/streams?first=100&language=fr",
        headers={"Client-Id": "abc"},
    )
    head = (
        b"GET /helix/streams?first=100&language=fr HTTP/1.1\r\n"
        + b"".join(k + b": " + v + b"\r\n" for k, v in request.headers.raw)
        + b"\r\n"
    )
    assert request_bytes(request) == len(head)
    assert b"Host: 127.0.0.1:8080" in head

    body = b'{"data":[' + b'{"user_id":"1"},' * 500 + b"{}]}"
    packed = gzip.compress(body)
    stats = ClientStats()

    class Wire(httpx.SyncByteStream):
        """A body that arrives over the transport, as from a socket."""

        def __iter__(self) -> Iterator[bytes]:
            yield packed[:40]
            yield packed[40:]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Wire(), headers={"Content-Encoding": "gzip"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        response = client.get("http://127.0.0.1:8080/helix/streams")
    assert response.content == body  # decompressed for the reader ...
    stats.record_exchange(response)
    status_line = len(b"HTTP/1.1 200 OK\r\n")
    headers = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 2
    assert stats.bytes_received == status_line + headers + len(packed)  # ... counted packed
    assert stats.bytes_sent == request_bytes(response.request)
    before = stats.snapshot()
    stats.record_exchange(response)
    assert stats.diff(before).bytes_received == stats.bytes_received // 2
