"""Whose chat lists streamcensus read, and on what ground: the broadcaster's consent, or
the operator's moderation. Channels only (a broadcaster is public); no viewer data."""

from __future__ import annotations

import datetime as dt

from streamcensus.serve import models as m
from streamcensus.serve.reader import Reader, ts


def chat_lists(reader: Reader, day: dt.date) -> m.ChatLists:
    """The channels whose chat list was read on `day`, with the ground of each read."""
    if not reader.has("chat_list_grounds"):
        return m.ChatLists(day=day, by_consent=0, by_moderation=0, channels=[])
    rows = reader.rows(
        "select channel_id, channel_login, channel_name, ground, snapshots, first_read, "
        "last_read from chat_list_grounds where day = ? "
        "order by ground, snapshots desc, channel_login",
        [day],
    )
    grounds: dict[str, set[str]] = {"consent": set(), "moderation": set()}
    for r in rows:
        grounds.setdefault(str(r["ground"]), set()).add(str(r["channel_id"]))
    return m.ChatLists(
        day=day,
        by_consent=len(grounds["consent"]),
        by_moderation=len(grounds["moderation"]),
        channels=[
            m.ChatListChannel(
                channel_login=r["channel_login"] or r["channel_id"],
                channel_name=r["channel_name"] or r["channel_login"] or r["channel_id"],
                ground=r["ground"],
                snapshots=int(r["snapshots"]),
                first_read=ts(r["first_read"]),
                last_read=ts(r["last_read"]),
            )
            for r in rows
        ],
    )
