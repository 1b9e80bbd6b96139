"""The dashboard's /metrics, /healthz and /readyz over real HTTP: readiness follows the
warehouse, latency is counted by route template, never by raw path."""

from __future__ import annotations

from pathlib import Path

import httpx

from metrics.scrape import promtool_check_metrics, value
from serve.browser import serving
from serve.census import build_census
from streamcensus.config import Settings
from streamcensus.serve.metrics import UNMATCHED


def test_dashboard_probes(tmp_path: Path) -> None:
    with serving(Settings(data_dir=tmp_path / "nothing")) as base:
        assert httpx.get(f"{base}/healthz").json() == {"status": "alive"}
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503
        assert "no warehouse" in ready.json()["checks"]["warehouse"]

    settings = build_census(tmp_path / "census")
    with serving(settings) as base:
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "checks": {"warehouse": "ok"}}
        for login in ("alice", "bob"):
            response = httpx.get(f"{base}/api/channels/{login}", params={"day": "2026-11-26"})
            assert response.status_code == 200, response.text
        assert httpx.get(f"{base}/api/channels/nobody_secret_path").status_code == 404
        assert httpx.get(f"{base}/no/such/page_secret_path").status_code == 404
        assert httpx.get(f"{base}/static/css/app.css").status_code == 200
        assert httpx.get(f"{base}/api/days").status_code == 200
        text = httpx.get(f"{base}/metrics").text

    def count(route: str, status: str) -> float:
        return value(
            text,
            "streamcensus_api_request_duration_seconds_count",
            route=route,
            method="GET",
            status=status,
        )

    assert count("/api/channels/{channel}", "200") == 2
    assert count("/api/channels/{channel}", "404") == 1
    assert count(UNMATCHED, "404") == 1
    assert count("/static", "200") == 1
    assert count("/api/days", "200") == 1
    assert count("/readyz", "200") == 1
    for raw in ("alice", "bob", "secret_path", "app.css"):
        assert raw not in text
    promtool_check_metrics(text)
