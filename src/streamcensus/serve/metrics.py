"""The dashboard's `/metrics`, `/healthz` and `/readyz`, and its request latency by route.

Latency is labelled by route template (`/api/channels/{channel}`, `/static`), never by the
raw path: a path names channels and days, and any path may be requested, so a raw-path
label would grow without bound. A path no route serves is `<unmatched>`.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import FastAPI
from prometheus_client import Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamcensus.metrics.probes import Check, Probes, probe_routes
from streamcensus.metrics.registry import new_registry
from streamcensus.serve.reader import ReaderPool, WarehouseBusy

UNMATCHED = "<unmatched>"


class LatencyMiddleware:
    """Times each HTTP request of `app` into `histogram` by route template, method and
    status (an exception counts as 500)."""

    def __init__(self, app: ASGIApp, histogram: Histogram, routes: FastAPI) -> None:
        self.app = app
        self.histogram = histogram
        self.routes = routes

    def template(self, scope: Scope) -> str:
        for route in self.routes.router.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return str(getattr(route, "path", UNMATCHED))
        return UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        template = self.template(scope)
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.histogram.labels(template, scope["method"], str(status)).observe(
                time.perf_counter() - started
            )


def warehouse_check(pool: ReaderPool) -> Check:
    """Ready while the warehouse opens read-only and holds at least one loaded day."""

    def probe() -> str | None:
        try:
            with pool.reader() as reader:
                if reader.con is None:
                    return f"no warehouse at {pool.path} yet: run `streamcensus load`"
                days = reader.loaded_days()
        except WarehouseBusy as exc:
            return f"the warehouse is busy (a load is writing it): {exc}"
        return None if days else "no day loaded yet: run `streamcensus load`"

    async def check() -> str | None:
        return await asyncio.to_thread(probe)

    return check


def install_probes(app: FastAPI, pool: ReaderPool) -> Probes:
    """Add `/metrics`, `/healthz`, `/readyz` and the latency middleware to the dashboard."""
    registry = new_registry("dashboard")
    latency = Histogram(
        "streamcensus_api_request_duration_seconds",
        "Seconds to answer a dashboard or API request, by route template, method and status",
        ["route", "method", "status"],
        registry=registry,
    )
    probes = Probes(registry, {"warehouse": warehouse_check(pool)})
    for route in probe_routes(probes):
        app.router.routes.append(route)
    app.add_middleware(LatencyMiddleware, histogram=latency, routes=app)
    return probes
