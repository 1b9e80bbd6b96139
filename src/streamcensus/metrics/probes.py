"""`/metrics`, `/healthz` and `/readyz` for a process that has no web server of its own.

The collector (`collect --every`) and the daily load service (`load --every-day-at`) start
this small server beside their loop, in the same event loop, on `metrics_host` and a port
of their own (off unless one is set). `/healthz` answers 200 while the process lives;
`/readyz` runs the process's readiness checks and answers 200, or 503 with the reason of
each check that failed. The dashboard serves the same routes on its own app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from streamcensus.errors import UserError

log = logging.getLogger("streamcensus.metrics")

# a reason when the process cannot do its work, None when it can
Check = Callable[[], Awaitable[str | None]]
CHECK_TIMEOUT = 10.0  # seconds a readiness check may take before it counts as failed


@dataclass
class Probes:
    """What a process exposes: its registry and its readiness checks (name → check)."""

    registry: CollectorRegistry
    checks: Mapping[str, Check] = field(default_factory=dict)


async def _run_check(check: Check) -> str | None:
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:.0f} s"
    except Exception as exc:  # a check that breaks says why; the probe never answers 500
        return f"{type(exc).__name__}: {exc}"


async def readiness(checks: Mapping[str, Check]) -> tuple[int, dict[str, Any]]:
    """Run every check: 200 and each check "ok", or 503 and the reasons of the failed."""
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[n]) for n in names))
    reasons = {n: r for n, r in zip(names, results, strict=True) if r is not None}
    body: dict[str, Any] = {
        "status": "not ready" if reasons else "ready",
        "checks": {n: r or "ok" for n, r in zip(names, results, strict=True)},
    }
    if reasons:
        body["reason"] = "; ".join(f"{n}: {r}" for n, r in reasons.items())
    return (503 if reasons else 200), body


def metrics_response(registry: CollectorRegistry) -> Response:
    """The registry in the Prometheus text format."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def probe_routes(probes: Probes) -> list[Route]:
    """The three routes, for a Starlette (or FastAPI) app."""

    async def metrics(request: Request) -> Response:
        return metrics_response(probes.registry)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        status, body = await readiness(probes.checks)
        return JSONResponse(body, status_code=status)

    return [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]


def bind_socket(host: str, port: int, option: str = "--port") -> socket.socket:
    """A listening TCP socket on host:port, or a one-line error naming the fix (`option`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on connections whose socket says
    # so, and without it a keep-alive client waits ~40 ms for every response (Nagle's
    # algorithm against the client's delayed ACK: uvicorn writes headers and body apart)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): stop the program using "
            f"that port or choose another with {option}"
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the process keeps its own (a SIGTERM lets the
    snapshot or the load under way finish, then stops the loop and this server with it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def probe_server(probes: Probes, sock: socket.socket | None) -> AsyncIterator[None]:
    """Serve `probes` on the listening `sock` while the block runs (nothing when None)."""
    if sock is None:
        yield
        return
    app = Starlette(routes=probe_routes(probes))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    host, port = sock.getsockname()[:2]
    log.info("metrics and health on http://%s:%d/metrics (/healthz, /readyz)", host, port)
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()
