"""Run the simulated Twitch on this machine: Helix over HTTP (uvicorn) and chat (IRC, WebSocket).

`running_simulator` starts it in a background thread for tests, benchmarks and the demo
(port 0 picks a free port) and stops it cleanly; `serve_forever` runs it in the
foreground for the `simulator` command. Both serve the HTTP app and the chat server
(`simulator/chat/`) on one event loop, with one fault plan (`/_sim/faults`) for both.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from streamcensus.clock import SimClock
from streamcensus.errors import UserError
from streamcensus.simulator.api import create_app
from streamcensus.simulator.chat.routes import add_chat_routes
from streamcensus.simulator.chat.server import ChatServer
from streamcensus.simulator.faults import FaultMiddleware
from streamcensus.simulator.protocol import World

STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class SimulatorHandle:
    """Where a running simulator answers, and the objects behind it."""

    base_url: str
    helix_url: str
    auth_url: str
    port: int
    clock: SimClock
    world: World
    app: FastAPI
    chat: ChatServer | None = None  # None only for an HTTP-only handle built by a test
    irc_host: str = ""  # the chat over plain TCP (IRC): irc_host:irc_port
    irc_port: int = 0
    chat_ws_url: str = ""  # the chat over WebSocket: ws://host:port/

    @property
    def mock_auth_url(self) -> str:
        """The Twitch CLI mock API's auth base (`/auth`): same tokens as `auth_url`."""
        return f"{self.base_url}/auth"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one); UserError when taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without it,
    # small responses wait ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or --host"
        ) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class CoalescingTransport:
    """Sends the writes made in one event-loop step as one `write`.

    uvicorn writes a response's head and body separately; with TCP_NODELAY they leave as two
    segments. Some clients (pyTwitchAPI's token request) close their session as soon as the
    head is parsed and lose a body that has not arrived yet. Real Twitch delivers small
    responses whole, so the simulator does too.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _protocol_class() -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools when installed, as uvicorn's `auto`), coalescing."""
    base: type[Any]
    if importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol

    class CoalescingProtocol(base):  # type: ignore[misc]
        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(CoalescingTransport(transport))

    return CoalescingProtocol


@dataclass(frozen=True)
class _Stack:
    """The HTTP app wrapped in fault injection, and the chat server sharing its faults."""

    app: FastAPI
    faults: FaultMiddleware
    chat: ChatServer


def _build(world: World, clock: SimClock, app_kwargs: dict[str, Any]) -> _Stack:
    app = create_app(world, clock, **app_kwargs)
    # fault injection wraps the whole app: resets need the outermost ASGI callable
    faults = FaultMiddleware(
        app, clock=app.state.clock, rate_limit_points=app.state.rate_limiter.points
    )
    chat = ChatServer(world, clock, faults=faults, tokens=app.state.tokens)
    app.state.chat = chat
    add_chat_routes(app, chat)
    return _Stack(app, faults, chat)


def _config(stack: _Stack, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        stack.faults,
        http=_protocol_class(),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=3,
        backlog=2048,
    )


def _run(
    server: uvicorn.Server,
    chat: ChatServer,
    sock: socket.socket,
    irc_sock: socket.socket,
    ws_sock: socket.socket,
) -> None:
    """HTTP and chat on one event loop until the HTTP server exits."""

    async def main() -> None:
        await chat.start(irc_sock, ws_sock)
        try:
            await server.serve(sockets=[sock])
        finally:
            await chat.stop()

    with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
        runner.run(main())


@contextmanager
def running_simulator(
    world: World,
    clock: SimClock,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    irc_port: int = 0,
    ws_port: int = 0,
    log_level: str = "warning",
    **app_kwargs: Any,
) -> Iterator[SimulatorHandle]:
    """Serve `world` on host:port (chat on irc_port and ws_port) in a background thread.

    `app_kwargs` go to `create_app` (rate limit, required client id/secret, token TTL).
    """
    stack = _build(world, clock, app_kwargs)
    sock = bind_socket(host, port)
    irc_sock = bind_socket(host, irc_port)
    ws_sock = bind_socket(host, ws_port)
    bound_port = int(sock.getsockname()[1])
    server = uvicorn.Server(_config(stack, log_level))
    thread = threading.Thread(
        target=_run,
        args=(server, stack.chat, sock, irc_sock, ws_sock),
        name=f"simulator:{bound_port}",
        daemon=True,
    )
    thread.start()
    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{bound_port}"
    try:
        _wait_until_answering(base_url, server, thread)
        yield SimulatorHandle(
            base_url=base_url,
            helix_url=f"{base_url}/helix",
            auth_url=f"{base_url}/oauth2",
            port=bound_port,
            clock=clock,
            world=world,
            app=stack.app,
            chat=stack.chat,
            irc_host=host,
            irc_port=int(irc_sock.getsockname()[1]),
            chat_ws_url=f"ws://{shown_host}:{int(ws_sock.getsockname()[1])}/",
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for s in (sock, irc_sock, ws_sock):
            s.close()


def _wait_until_answering(base_url: str, server: uvicorn.Server, thread: threading.Thread) -> None:
    """Poll `/_sim/clock` until the server answers (bounded by STARTUP_TIMEOUT)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError("the simulator server stopped during start-up")
            if server.started:
                try:
                    if client.get(f"{base_url}/_sim/clock").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.01)
    raise RuntimeError(f"the simulator did not answer on {base_url} within {STARTUP_TIMEOUT}s")


def serve_forever(
    world: World,
    clock: SimClock,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    sock: socket.socket | None = None,
    irc_sock: socket.socket | None = None,
    ws_sock: socket.socket | None = None,
    log_level: str = "warning",
    **app_kwargs: Any,
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C / SIGTERM).

    `sock`, `irc_sock` and `ws_sock` are sockets already bound by `bind_socket` (HTTP,
    chat over TCP, chat over WebSocket); a missing one is bound on host (port, then free
    ports for the chat).
    """
    stack = _build(world, clock, app_kwargs)
    sock = sock if sock is not None else bind_socket(host, port)
    irc_sock = irc_sock if irc_sock is not None else bind_socket(host, 0)
    ws_sock = ws_sock if ws_sock is not None else bind_socket(host, 0)
    try:
        _run(uvicorn.Server(_config(stack, log_level)), stack.chat, sock, irc_sock, ws_sock)
    finally:
        for s in (sock, irc_sock, ws_sock):
            s.close()
