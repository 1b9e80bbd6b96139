"""A small raw IRC client for the chat tests: real TCP on 127.0.0.1, bounded waits."""

from __future__ import annotations

import socket
from collections.abc import Callable

from streamcensus.simulator.chat.irc import Message, ParseError, parse

TIMEOUT = 20.0  # seconds a test waits for a line before failing (never reached when green)
CAPS = "twitch.tv/tags twitch.tv/commands twitch.tv/membership"


class RawClient:
    """Lines in and out of one TCP connection."""

    def __init__(self, host: str, port: int, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect((host, port))
        self._buffer = b""
        self._pings = 0

    def send(self, *lines: str | bytes) -> None:
        for item in lines:
            data = item if isinstance(item, bytes) else item.encode()
            self.sock.sendall(data if data.endswith(b"\n") else data + b"\r\n")

    def raw_line(self) -> bytes | None:
        """The next line with its CR LF (None at end of stream)."""
        while b"\n" not in self._buffer:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                rest, self._buffer = self._buffer, b""
                return rest or None
            self._buffer += data
        raw, _, self._buffer = self._buffer.partition(b"\n")
        return raw + b"\n"

    def line(self) -> str | None:
        raw = self.raw_line()
        return None if raw is None else raw.decode("utf-8", "replace").rstrip("\r\n")

    def until(self, stop: Callable[[str], bool]) -> list[str]:
        """Lines up to and including the first for which `stop` is true."""
        out: list[str] = []
        while True:
            text = self.line()
            if text is None:
                raise EOFError(f"connection closed after {len(out)} lines: {out[-3:]}")
            out.append(text)
            if stop(text):
                return out

    def barrier(self) -> list[str]:
        """PING the server and return every line it sent before the PONG."""
        self._pings += 1
        token = f"barrier{self._pings}"
        self.send(f"PING :{token}")
        lines = self.until(lambda text: text.endswith(f"PONG tmi.twitch.tv :{token}"))
        return lines[:-1]

    def drain_to_eof(self) -> list[str]:
        out: list[str] = []
        while (text := self.line()) is not None:
            out.append(text)
        return out

    def login(self, nick: str = "justinfan12345", caps: str | None = CAPS) -> list[str]:
        if caps:
            self.send(f"CAP REQ :{caps}")
        self.send("PASS SCHMOOPIIE", f"NICK {nick}")
        return self.until(lambda text: " 376 " in text)

    def close(self) -> None:
        self.sock.close()


def messages(lines: list[str], command: str) -> list[Message]:
    """Parsed lines of one command."""
    out = []
    for text in lines:
        try:
            msg = parse(text)
        except ParseError:
            continue
        if msg.command == command:
            out.append(msg)
    return out
