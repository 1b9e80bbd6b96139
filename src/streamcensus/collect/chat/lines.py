"""Reading Twitch chat lines: a hand-written path for PRIVMSG, irctokens for everything else.

Nearly every line a listener receives is a tagged PRIVMSG, and it needs four fields of it:
`room-id`, `tmi-sent-ts`, `user-id` and the author's login (the prefix `login!login@...`).
`privmsg` finds them with `bytes.find` on the raw line and never decodes the rest: the message
text is not even turned into a string. Measured side by side by `streamcensus bench --suite
chat` (BENCHMARKS.md) on 60,000 lines rendered by the simulator: 6.5 us per line against
33.9 us for irctokens plus the same four look-ups, which for the 60,000 lines of a 5-minute
jump of the `fr` replay is 0.4 s against 2 s of CPU; so the hot path is hand-written.

Every other line (welcome, JOIN/PART echoes, NOTICE, PING, RECONNECT, USERNOTICE, CLEARCHAT,
...) goes through irctokens, a small, well-kept RFC 1459 + IRCv3 tokeniser, and so does a
line that looks like a PRIVMSG but lacks what the fast path needs, so the fast path never
decides that a line is broken. A line irctokens cannot read either is `malformed`: the caller
counts it and, where the line still names its room (`room-id=<digits>;`), charges it to that
room.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from irctokens.line import Line as Line
from irctokens.line import tokenise as _tokenise

_PRIVMSG = b" PRIVMSG "
_ROOM_ID = b";room-id="
_TS = b";tmi-sent-ts="
_USER_ID = b";user-id="
_ROOM_IN_BROKEN = re.compile(rb"[@;]room-id=(\d{1,20})[; ]")

# Commands Twitch sends to a client with tags+commands capabilities and no membership, and
# the numerics of registration: anything else is counted as unknown.
KNOWN_COMMANDS = frozenset(
    {
        "001",
        "002",
        "003",
        "004",
        "353",
        "366",
        "372",
        "375",
        "376",
        "421",
        "CAP",
        "CLEARCHAT",
        "CLEARMSG",
        "GLOBALUSERSTATE",
        "HOSTTARGET",
        "JOIN",
        "NOTICE",
        "PART",
        "PING",
        "PONG",
        "PRIVMSG",
        "RECONNECT",
        "ROOMSTATE",
        "USERNOTICE",
        "USERSTATE",
        "WHISPER",
    }
)


@dataclass(frozen=True, slots=True)
class Privmsg:
    """The four fields of a chat message the listener keeps (for a moment): no text."""

    room_id: str
    ts_ms: int
    user_id: str
    login: str


def _tag(tags: bytes, key: bytes) -> bytes | None:
    at = tags.find(key)
    if at < 0:
        return None
    at += len(key)
    end = tags.find(b";", at)
    return tags[at:] if end < 0 else tags[at:end]


def privmsg(line: bytes) -> Privmsg | None:
    """The fields of a tagged PRIVMSG line (without CR LF); None for any other line."""
    if line[:1] != b"@":
        return None
    space = line.find(b" ")
    if space < 0 or line[space + 1 : space + 2] != b":":
        return None
    command_at = line.find(b" ", space + 2)
    if command_at < 0 or line[command_at : command_at + len(_PRIVMSG)] != _PRIVMSG:
        return None
    prefix = line[space + 2 : command_at]
    bang = prefix.find(b"!")
    login = prefix[:bang] if bang >= 0 else prefix
    tags = b";" + line[1:space]
    room = _tag(tags, _ROOM_ID)
    ts = _tag(tags, _TS)
    user = _tag(tags, _USER_ID)
    if (
        room is None
        or ts is None
        or user is None
        or not (room.isdigit() and ts.isdigit() and user.isdigit())
        or not login
        or not login.isascii()
        or b" " in login
    ):
        return None
    return Privmsg(room.decode(), int(ts), user.decode(), login.decode().lower())


def tokenise(line: bytes) -> Line | None:
    """Any line through irctokens; None when it is not IRC (the caller counts it)."""
    if not line.strip():
        return None
    try:
        return _tokenise(line)
    except (ValueError, IndexError):  # UnicodeDecodeError is a ValueError
        return None


def room_of_broken(line: bytes) -> str | None:
    """The room id a broken line still names in a complete `room-id` tag, if any."""
    found = _ROOM_IN_BROKEN.search(line)
    return found.group(1).decode() if found else None


def tag_value(line: Line, key: str) -> str | None:
    """A tag of a tokenised line, or None."""
    return None if line.tags is None else line.tags.get(key)


def login_of(source: str | None) -> str:
    """The login in a `login!login@login.tmi.twitch.tv` prefix (lower case)."""
    if not source:
        return ""
    return source.split("!", 1)[0].lower()
