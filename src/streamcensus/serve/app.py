"""The dashboard application: pages, the JSON API, and the assets, all served locally.

`create_app(settings)` builds a FastAPI app that reads the warehouse read-only, over a
shared connection released when requests stop (`reader.ReaderPool`); the JSON API's
answers are kept until the warehouse changes (`cache.py`, warmed by `warm.py`). Charts are
drawn in the browser by plotly.js, served from the installed `plotly` package: no CDN, the
dashboard works offline. Every response, errors included, carries the security headers of
`security.py`, and a request for a host name the dashboard does not answer to is refused
(DNS rebinding).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

from streamcensus import __version__
from streamcensus.config import Settings
from streamcensus.serve import channels
from streamcensus.serve.api import ServeState, find_channel, router, view_context
from streamcensus.serve.cache import AnswerStore, ResponseCache
from streamcensus.serve.metrics import install_probes
from streamcensus.serve.pages import PAGES, Page, PageContext, render_error, render_page
from streamcensus.serve.params import (
    ParamError,
    check_query,
    parse_day,
    resolve_day,
)
from streamcensus.serve.rankings_api import router as rankings_router
from streamcensus.serve.reader import ReaderPool, WarehouseBusy
from streamcensus.serve.security import Guard, HostRule, host_rule
from streamcensus.serve.vendor import plotly_js
from streamcensus.serve.warm import install_warm_metrics, warm_paths

STATIC_DIR = Path(__file__).with_name("static")
BUSY = "the warehouse is busy (a load is writing it); retry in a few seconds"


class Dashboard(FastAPI):
    """FastAPI with `Guard` outermost: Host check and security headers on every response,
    including the 500 that FastAPI's own outer error handler would write."""

    host_rule: HostRule = host_rule("127.0.0.1")

    def build_middleware_stack(self) -> ASGIApp:
        return Guard(super().build_middleware_stack(), self.host_rule)


class StaticAssets(StaticFiles):
    """The dashboard's static files; a path the filesystem cannot name (a NUL byte) is a 404."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if "\x00" in path:
            return "", None
        return super().lookup_path(path)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _page_context(request: Request, error: str | None = None) -> PageContext:
    state: ServeState = request.app.state.serve
    try:
        with state.pool.reader() as reader:
            days = reader.loaded_days()
    except WarehouseBusy:
        days = []
    return PageContext(
        days=days, k=state.ctx.k, interval_minutes=state.ctx.interval_minutes, error=error
    )


def _error(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    headers = {**(headers or {}), **({"Retry-After": "5"} if status == 503 else {})} or None
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    html = render_error("live", _page_context(request, message), status)
    return HTMLResponse(html, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
        given = err.get("input")
        shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
        parts.append(f"invalid {where or 'request'}: {err.get('msg', 'bad value')}{shown}")
    return "; ".join(parts) or "invalid request"


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParamError)
    async def param_error(request: Request, exc: ParamError) -> Response:
        return _error(request, exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 400, _validation_message(exc))

    @app.exception_handler(WarehouseBusy)
    async def busy(request: Request, exc: WarehouseBusy) -> Response:
        return _error(request, 503, BUSY)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail) if exc.status_code != 404 else f"no such page: {request.url.path}"
        return _error(request, exc.status_code, message, exc.headers)


def _page_response(request: Request, page: Page, day: str | None) -> HTMLResponse:
    state: ServeState = request.app.state.serve
    with state.pool.reader() as reader:
        days = reader.loaded_days()
        chosen = resolve_day(reader, day) if days else parse_day(day)
    ctx = PageContext(
        days=days, k=state.ctx.k, interval_minutes=state.ctx.interval_minutes, day=chosen
    )
    return HTMLResponse(render_page(page, "live", ctx))


def _install_pages(app: FastAPI) -> None:
    def add(page: Page) -> None:
        def endpoint(request: Request, day: str | None = None) -> HTMLResponse:
            return _page_response(request, page, day)

        endpoint.__name__ = f"{page.name}_page"
        app.add_api_route(
            page.path, endpoint, methods=["GET"], include_in_schema=False, name=page.name
        )

    for page in PAGES.values():
        if page.nav:
            add(page)

    @app.get("/channels", include_in_schema=False)
    def channels_page(request: Request, q: str = "", day: str | None = None) -> Response:
        """Search results; one match (or an exact login) goes straight to its page."""
        state: ServeState = request.app.state.serve
        ctx = _page_context(request)
        ctx.query = q
        if q.strip():
            text = check_query(q)
            with (
                state.pool.reader() as reader,
                state.channels.reader(reader.version) as store,
            ):
                ctx.matches = channels.search(store or reader, text, 50).channels
            exact = [c for c in ctx.matches if c.channel_login.lower() == text.lower()]
            if len(ctx.matches) == 1 or exact:
                target = (exact or ctx.matches)[0].channel_login
                chosen = parse_day(day)
                suffix = f"?day={chosen.isoformat()}" if chosen else ""
                return RedirectResponse(f"/channels/{target}{suffix}", status_code=303)
        return HTMLResponse(render_page(PAGES["channels"], "live", ctx))

    @app.get("/channels/{channel}", include_in_schema=False)
    def channel_page(request: Request, channel: str, day: str | None = None) -> HTMLResponse:
        state: ServeState = request.app.state.serve
        with state.pool.reader() as reader:
            found = find_channel(state.channels, reader, channel)
            days = reader.loaded_days()
            chosen = resolve_day(reader, day)
        ctx = PageContext(
            days=days,
            k=state.ctx.k,
            interval_minutes=state.ctx.interval_minutes,
            day=chosen,
            channel=found,
        )
        return HTMLResponse(render_page(PAGES["channel"], "live", ctx))


def create_app(settings: Settings, *, idle_seconds: float = 1.0, warm: bool = False) -> FastAPI:
    """The dashboard and JSON API over the warehouse of `settings` (read-only).

    The warehouse is closed `idle_seconds` after the last request, so a load can write.
    API answers are kept until the warehouse changes; with `warm`, the pages' default
    answers for every loaded day are computed in the background after it changes.
    It answers to `settings.host` (the address it is bound to), the loopback names and
    `settings.allowed_hosts`.
    """
    app = Dashboard(
        title="streamcensus",
        version=__version__,
        description="Aggregates of a Twitch language community, read-only. No route returns "
        "a row about one viewer, and every count of people is at least k (P3).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.host_rule = host_rule(settings.host, settings.allowed_hosts)
    app.state.serve = ServeState(
        settings=settings,
        ctx=view_context(settings),
        pool=ReaderPool(settings.warehouse_path, idle_seconds),
    )
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)
    app.state.answers = AnswerStore()
    app.add_middleware(
        ResponseCache,
        pool=app.state.serve.pool,
        store=app.state.answers,
        routes=app.router.routes,
        warm_paths=warm_paths(app.state.serve.pool, app.state.serve.channels) if warm else None,
    )
    _install_handlers(app)
    app.include_router(router)
    app.include_router(rankings_router)
    app.state.probes = install_probes(app, app.state.serve.pool)  # /metrics, /healthz, /readyz
    install_warm_metrics(app.state.probes.registry, app.state.answers, app.state.serve.channels)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_asset(request: Request) -> Response:
        plain, packed = plotly_js()
        headers = {"Cache-Control": "public, max-age=86400"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
            return Response(packed, media_type="text/javascript", headers=headers)
        return Response(plain, media_type="text/javascript", headers=headers)

    _install_pages(app)
    app.mount("/static", StaticAssets(directory=STATIC_DIR), name="static")
    return app
