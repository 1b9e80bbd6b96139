"""What a closed chat window yields: two Arrow schemas, coverage statuses and the counters.

These two schemas are declared here, once, for now; they move into the lake's kind registry
when chat activity becomes a lake kind (the writer, the reader and the warehouse DDL then
derive from them there, as they do for the chatters kind).

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

import pyarrow as pa

ACTIVITY_SCHEMA = pa.schema(
    [
        pa.field("channel_id", pa.string(), nullable=False),
        pa.field("viewer", pa.int64(), nullable=False),  # keyed pseudonym (P1)
        pa.field("key_id", pa.string(), nullable=False),  # which pseudonym key made it
        pa.field("is_bot", pa.bool_(), nullable=False),
        pa.field("bot_name", pa.string(), nullable=True),  # only for known public bots (P6)
        pa.field("messages", pa.int32(), nullable=False),  # PRIVMSG lines in the window
    ]
)

COVERAGE_SCHEMA = pa.schema(
    [
        pa.field("channel_id", pa.string(), nullable=False),
        pa.field("seconds_joined", pa.float64(), nullable=False),  # seconds, 0..window
        pa.field("status", pa.string(), nullable=False),  # one of COVERAGE_STATUSES
        pa.field("usernotices", pa.int32(), nullable=False),
        pa.field("clearchats", pa.int32(), nullable=False),
        pa.field("notices", pa.int32(), nullable=False),
        pa.field("malformed_lines", pa.int32(), nullable=False),
    ]
)

# coverage statuses
COMPLETE = "complete"  # joined the whole window and every line read
PARTIAL = "partial"  # joined part of the window, or lines lost on its connection
NOT_JOINED = "not_joined"  # listed, never joined in the window (waiting, refused, no capacity)
SUSPENDED = "suspended"  # Twitch answered the JOIN with a NOTICE: suspended, banned or unknown
COVERAGE_STATUSES = (COMPLETE, PARTIAL, NOT_JOINED, SUSPENDED)


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
