"""Chat activity: who posted in which chat, per 5-minute window, read anonymously over TMI.

`ChatListener` is the component; `ACTIVITY_SCHEMA` and `COVERAGE_SCHEMA` the tables it
yields per window; `ChatLimits` the limits it honours; `join_floor` the least time those
limits allow to join a community.
"""

from streamcensus.collect.chat.channels import ChatChannel
from streamcensus.collect.chat.limits import ChatLimits, join_floor
from streamcensus.collect.chat.listener import ChatListener
from streamcensus.collect.chat.schema import (
    ACTIVITY_SCHEMA,
    COMPLETE,
    COVERAGE_SCHEMA,
    COVERAGE_STATUSES,
    NOT_JOINED,
    PARTIAL,
    SUSPENDED,
    ChatCounters,
)
from streamcensus.collect.chat.transport import TWITCH_CHAT_URL, parse_chat_url
from streamcensus.collect.chat.windows import ChatWindow

__all__ = [
    "ACTIVITY_SCHEMA",
    "COMPLETE",
    "COVERAGE_SCHEMA",
    "COVERAGE_STATUSES",
    "NOT_JOINED",
    "PARTIAL",
    "SUSPENDED",
    "TWITCH_CHAT_URL",
    "ChatChannel",
    "ChatCounters",
    "ChatLimits",
    "ChatListener",
    "ChatWindow",
    "join_floor",
    "parse_chat_url",
]
