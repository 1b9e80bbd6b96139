"""A channel as the listener sees it: listed or not, where it is joined, and since when.

States: `wanted` (listed, to be joined from `not_before` on), `joining` (JOIN sent on `conn`,
echo awaited), `joined`, `parting` (PART sent, echo awaited: still joined until it comes),
`idle` (not listed and not joined). Channel logins and ids are public (they are the
streamers'), unlike viewers'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from streamcensus.collect.chat.windows import ChannelCoverage

if TYPE_CHECKING:
    from streamcensus.collect.chat.connection import ChatConnection

WANTED, JOINING, JOINED, PARTING, IDLE = "wanted", "joining", "joined", "parting", "idle"


@dataclass(frozen=True)
class ChatChannel:
    """A channel to listen to: its login (the chat room) and its Helix user id."""

    login: str
    channel_id: str


@dataclass(eq=False)
class ChannelState:
    """What the listener knows of one channel."""

    login: str
    channel_id: str
    rank: int = 0
    listed: bool = False
    listed_since: float | None = None
    unlisted_at: float | None = None
    state: str = IDLE
    conn: ChatConnection | None = None
    not_before: float = 0.0  # a wanted channel is not joined before this (clock)
    failures: int = 0  # failed joins in a row
    suspended: bool = False
    joined_at: float | None = None  # start of the open joined interval (clock): the JOIN
    # echo, or the tmi-sent-ts of the first message of the room read since the JOIN was
    # sent, if earlier (the server joined before its echo was read)
    first_read: float = math.inf  # tmi-sent-ts of that first message
    intervals: list[tuple[float, float]] = field(default_factory=list)  # closed ones
    echo_deadline: float | None = None  # real time: JOIN acknowledged, echo awaited

    def listed_throughout(self, start: float, end: float) -> bool:
        """Listed before `start` and until `end` (or after): owed the whole window. A channel
        listed at the window's start exactly (a snapshot on a virtual clock) is joined from
        then on, like one listed during the window: its joins take time."""
        if self.listed_since is None or self.listed_since >= start:
            return False
        return self.listed or (self.unlisted_at is not None and self.unlisted_at >= end)

    def coverage(self) -> ChannelCoverage:
        spans = list(self.intervals)
        if self.joined_at is not None:
            spans.append((self.joined_at, float("inf")))
        return ChannelCoverage(self.channel_id, spans, self.suspended)
