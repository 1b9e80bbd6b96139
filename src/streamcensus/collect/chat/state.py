"""What the listener's parts share: where the chat is, the clock, limits, channels, connections.

`ChatListener` makes one `ListenerState`; the joiner (what to join, when) and the reception
(what the connections report) work on it, so neither needs the listener itself.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

from streamcensus.clock import Clock
from streamcensus.collect.chat.channels import ChannelState
from streamcensus.collect.chat.connection import ChatConnection
from streamcensus.collect.chat.limits import ChatLimits
from streamcensus.collect.chat.schema import ChatCounters
from streamcensus.collect.chat.transport import ChatURL
from streamcensus.collect.chat.windows import WindowBook


@dataclass(eq=False)
class ListenerState:
    """The mutable state of one `ChatListener`."""

    url: ChatURL
    clock: Clock
    limits: ChatLimits
    barrier: bool  # windows close on the simulator's PING barrier (else after a grace)
    book: WindowBook
    counters: ChatCounters
    tls: ssl.SSLContext | None = None
    channels: dict[str, ChannelState] = field(default_factory=dict)  # by login
    by_id: dict[str, ChannelState] = field(default_factory=dict)  # by channel id
    connections: list[ChatConnection] = field(default_factory=list)
    stopping: bool = False
    last_error: str = ""  # why the last connection failed or dropped (no viewer data)
