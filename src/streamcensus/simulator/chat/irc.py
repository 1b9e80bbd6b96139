"""IRC lines as Twitch's chat interface (TMI) writes them: RFC 1459 plus IRCv3 message tags.

`parse` reads a client's line leniently (a malformed line is a `ParseError`, never a crash);
`line` writes one with tags escaped as the IRCv3 message-tags specification asks
(`;` as `\\:`, space as `\\s`, `\\` as `\\\\`, CR as `\\r`, LF as `\\n`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SERVER = "tmi.twitch.tv"
MAX_LINE_BYTES = 8192  # Twitch allows 4096 bytes of tags + 512 of message; be generous
_ESCAPES = (("\\", "\\\\"), (";", "\\:"), (" ", "\\s"), ("\r", "\\r"), ("\n", "\\n"))
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


class ParseError(ValueError):
    """A line that is not IRC."""


@dataclass(frozen=True, slots=True)
class Message:
    """One IRC line: tags, prefix, command (upper case) and parameters."""

    command: str
    params: tuple[str, ...] = ()
    prefix: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


def escape_tag(value: str) -> str:
    """An IRCv3 tag value with its special characters escaped."""
    for raw, escaped in _ESCAPES:
        value = value.replace(raw, escaped)
    return value


def unescape_tag(value: str) -> str:
    """The inverse of `escape_tag` (a trailing lone backslash is dropped, as the spec says)."""
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append(_UNESCAPES.get(nxt, nxt))
    return "".join(out)


def _parse_tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in text.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        tags[key] = unescape_tag(value)
    return tags


def parse(text: str) -> Message:
    """Parse one line (without its CR LF); `ParseError` when there is no command."""
    rest = text.strip("\r\n").lstrip(" ")
    tags: dict[str, str] = {}
    prefix = ""
    if rest.startswith("@"):
        raw, _, rest = rest[1:].partition(" ")
        tags = _parse_tags(raw)
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    head, sep, trailing = rest.partition(" :")
    words = head.split()
    if not words:
        raise ParseError("no command")
    command = words[0]
    if not (command.isascii() and (command.isalpha() or command.isdigit())):
        raise ParseError(f"not a command: {command[:20]!r}")
    params = words[1:]
    if sep:
        params.append(trailing)
    elif rest.startswith(":"):  # `CMD :x` where the head is only the command
        params = [rest[1:]]
    return Message(command=command.upper(), params=tuple(params), prefix=prefix, tags=tags)


def tag_text(tags: Iterable[tuple[str, str]]) -> str:
    """`@k=v;k2=v2` with values escaped (empty when there are no tags)."""
    items = [f"{k}={escape_tag(v)}" for k, v in tags]
    return "@" + ";".join(items) if items else ""


def line(
    command: str,
    *params: str,
    prefix: str = SERVER,
    tags: Iterable[tuple[str, str]] = (),
    trailing: str | None = None,
) -> str:
    """One line, CR LF included. The last parameter goes after ` :` when `trailing` is given."""
    parts: list[str] = []
    head = tag_text(tags)
    if head:
        parts.append(head)
    if prefix:
        parts.append(":" + prefix)
    parts.append(command)
    parts.extend(params)
    if trailing is not None:
        parts.append(":" + trailing)
    return " ".join(parts) + "\r\n"


def user_prefix(login: str) -> str:
    """The prefix Twitch gives a user's lines: `login!login@login.tmi.twitch.tv`."""
    return f"{login}!{login}@{login}.{SERVER}"


def strip_tags(raw: bytes) -> bytes:
    """A rendered line without its tags part (for clients that did not ask for tags)."""
    if raw.startswith(b"@"):
        return raw[raw.index(b" ") + 1 :]
    return raw
