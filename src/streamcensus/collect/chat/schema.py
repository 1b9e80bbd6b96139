"""What a closed chat window yields: its two tables' schemas, coverage statuses, counters.

The schemas are the lake's (`lake.schema`: `CHAT_ACTIVITY_SCHEMA`, `CHAT_COVERAGE_SCHEMA`,
declared once there, with the snapshot's id and time: the window's end), so a closed window
is written as it is:

- `ACTIVITY_SCHEMA`: one row per (channel, pseudonymised account) that posted at least one
  PRIVMSG with tmi-sent-ts in the window, and how many. `viewer` is the same keyed pseudonym
  the chatters kind uses for the same account and key (HMAC of the user id).
- `COVERAGE_SCHEMA`: one row per channel that was listed or joined during the window: the
  seconds it was actually joined, so a window with a gap is marked `partial` (never silently
  low), and the room events that carry no viewer data (USERNOTICE, CLEARCHAT, NOTICE) plus
  the lines that could not be read on a connection serving the channel.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from streamcensus.lake.schema import (
    CHAT_ACTIVITY_SCHEMA,
    CHAT_COMPLETE,
    CHAT_COVERAGE_SCHEMA,
    CHAT_NOT_JOINED,
    CHAT_PARTIAL,
    CHAT_STATUSES,
    CHAT_SUSPENDED,
)

ACTIVITY_SCHEMA = CHAT_ACTIVITY_SCHEMA
COVERAGE_SCHEMA = CHAT_COVERAGE_SCHEMA

# coverage statuses (see `lake.schema`)
COMPLETE = CHAT_COMPLETE
PARTIAL = CHAT_PARTIAL
NOT_JOINED = CHAT_NOT_JOINED
SUSPENDED = CHAT_SUSPENDED
COVERAGE_STATUSES = CHAT_STATUSES


@dataclass
class ChatCounters:
    """What the listener saw, for the manifest and `pipeline_health` (no viewer data)."""

    connections: int = 0  # connections opened and registered
    connection_failures: int = 0  # could not connect or register
    reconnects: int = 0  # RECONNECT received from the server
    dropped: int = 0  # connections closed by the server or the network (slow, reset, limit)
    join_attempts: int = 0  # channels named in a JOIN
    joins: int = 0  # JOIN echoes received
    join_failures: int = 0  # no echo (refused), or the connection dropped while joining
    suspended: int = 0  # JOIN answered by a suspended/banned/unknown-channel NOTICE
    parts: int = 0  # PART echoes received (channels no longer listed)
    notices: int = 0  # every NOTICE
    messages: int = 0  # PRIVMSG lines read
    late_messages: int = 0  # PRIVMSG whose window was already closed when it arrived
    unexpected_messages: int = 0  # PRIVMSG of a room the listener does not know
    usernotices: int = 0
    clearchats: int = 0
    malformed_lines: int = 0  # lines that could not be read (truncated, not IRC, bad UTF-8)
    unknown_commands: int = 0  # well-formed lines with a command the listener does not know

    def minus(self, before: ChatCounters) -> ChatCounters:
        """The change since `before`."""
        return ChatCounters(
            **{
                f.name: getattr(self, f.name) - getattr(before, f.name)
                for f in dataclasses.fields(self)
            }
        )

    def copy(self) -> ChatCounters:
        return dataclasses.replace(self)

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)
