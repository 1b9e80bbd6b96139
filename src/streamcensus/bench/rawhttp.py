"""A minimal keep-alive HTTP/1.1 GET client on asyncio streams, for load generation.

A general client (httpx) spends ~2.5 ms of CPU per request here, more than the simulator
spends answering it, so a load generator built on it measures itself. This one writes the
request line and headers by hand and reads `Content-Length` bodies: enough for the
simulator's answers, cheap enough that the server is the bottleneck on 2 cores.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from urllib.parse import urlencode


class RawHTTPError(RuntimeError):
    """An answer this client cannot read (no Content-Length, closed connection)."""


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
                break
        if length is None:
            raise RawHTTPError("answer without Content-Length")
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        self.writer.close()


class RawClient:
    """A pool of `size` keep-alive connections to host:port."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host = host
        self.port = port
        self.size = size
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()
        self._all: list[Connection] = []

    async def __aenter__(self) -> RawClient:
        for _ in range(self.size):
            reader, writer = await asyncio.open_connection(self.host, self.port)
            connection = Connection(reader, writer)
            self._all.append(connection)
            self._idle.put_nowait(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for connection in self._all:
            connection.close()

    def request_bytes(
        self, path: str, params: list[tuple[str, str]], headers: dict[str, str]
    ) -> bytes:
        target = f"{path}?{urlencode(params)}" if params else path
        lines = [f"GET {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def get(
        self, path: str, params: list[tuple[str, str]], headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """GET path?params on an idle connection; (status, body)."""
        request = self.request_bytes(path, params, headers)
        connection = await self._idle.get()
        try:
            return await connection.get(request)
        finally:
            self._idle.put_nowait(connection)
