"""The dashboard's listening socket gives every connection TCP_NODELAY.

Without it, Nagle's algorithm holds a response's body until the client acknowledges its
headers, and a keep-alive client delays that acknowledgement (~40 ms on Linux): every
answer of the API would wait for it.
"""

from __future__ import annotations

import asyncio
import socket

from streamcensus.metrics.probes import bind_socket


async def test_accepted_connections_have_tcp_nodelay() -> None:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    seen: list[int] = []

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        seen.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=sock)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.read()  # the server closes once it has looked
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    assert seen and seen[0] != 0
