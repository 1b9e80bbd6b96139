"""Audience communities: the `communities` serving table as pages and JSON.

A community is a group of channels whose audiences overlap more than chance, found on the
published audience-overlap pairs (`transform/communities.py`). Only channels and counts
of channels are shown: no people count is read here, so nothing under k can appear.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from streamcensus.serve import models as m
from streamcensus.serve.community import signals_of
from streamcensus.serve.reader import Reader, num, opt

WINDOWS = (1, 7, 30)  # the windows the table is built for
HISTORY_DAYS = 28  # a channel's community over the 4 weeks ending on the day
GAMES_SHOWN = 3


def _names(reader: Reader, ids: list[str], first: dt.date, last: dt.date) -> dict[str, str]:
    if not ids or not reader.has("channel_day"):
        return {}
    return {
        str(r["channel_id"]): str(r["channel_name"])
        for r in reader.rows(
            "select channel_id, arg_max(channel_name, day) as channel_name from channel_day "
            "where list_contains(?, channel_id) and day between ? and ? group by channel_id",
            [ids, first, last],
        )
        if r["channel_name"]
    }


def communities(
    reader: Reader, day: dt.date, window: int, signal: m.Signal, limit: int
) -> m.Communities:
    """The communities of a day in one window and signal, largest first, each with up to
    `limit` of its channels (the most inside their community first)."""
    empty = m.Communities(
        day=day,
        window_days=window,
        signal=signal,
        signal_label=m.SIGNAL_LABELS[signal],
        signals=signals_of(reader, "communities", "day = ? and window_days = ?", [day, window]),
        modularity=None,
        channels=0,
        communities=[],
    )
    if not reader.has("communities"):
        return empty
    rows = reader.rows(
        "select c.*, (select min(day) from communities as f where f.window_days = c.window_days "
        "and f.signal = c.signal and f.community_id = c.community_id) as since "
        "from communities as c where c.day = ? and c.window_days = ? and c.signal = ? "
        "order by c.community_channels desc, c.community_id, c.inside_share desc, "
        "c.channel_login",
        [day, window, signal],
    )
    if not rows:
        return empty
    names = _names(
        reader, [str(r["channel_id"]) for r in rows], day - dt.timedelta(days=window - 1), day
    )
    grouped: dict[int, list[dict[str, object]]] = {}
    for r in rows:
        grouped.setdefault(int(r["community_id"]), []).append(r)
    found: list[m.Community] = []
    for cid, members in grouped.items():
        first = members[0]
        games = Counter(str(r["main_game"]) for r in members if r["main_game"])
        found.append(
            m.Community(
                community_id=cid,
                label=str(first["community_label"]),
                channels=len(members),
                games=[g for g, _ in sorted(games.items(), key=lambda g: (-g[1], g[0]))][
                    :GAMES_SHOWN
                ],
                since=first["since"],  # type: ignore[arg-type]
                matched_jaccard=opt(first["matched_jaccard"]),
                members=[
                    m.CommunityChannel(
                        channel_login=str(r["channel_login"]),
                        channel_name=names.get(str(r["channel_id"]), str(r["channel_login"])),
                        main_game=str(r["main_game"] or ""),
                        inside_share=num(r["inside_share"]),
                    )
                    for r in members[:limit]
                ],
            )
        )
    return empty.model_copy(
        update={
            "modularity": num(rows[0]["modularity"]),
            "channels": len(rows),
            "communities": found,
        }
    )


def channel_history(
    reader: Reader, channel: m.ChannelIdentity, day: dt.date, window: int, signal: m.Signal
) -> m.CommunityHistory:
    """A channel's community on each day of the 4 weeks ending on `day`."""
    first = day - dt.timedelta(days=HISTORY_DAYS - 1)
    rows = (
        reader.rows(
            "select day, community_id, community_label, community_channels from communities "
            "where channel_id = ? and window_days = ? and signal = ? and day between ? and ? "
            "order by day",
            [channel.channel_id, window, signal, first, day],
        )
        if reader.has("communities")
        else []
    )
    return m.CommunityHistory(
        channel_login=channel.channel_login,
        window_days=window,
        signal=signal,
        days=[
            m.CommunityDay(
                day=r["day"],
                community_id=int(r["community_id"]),
                label=str(r["community_label"]),
                channels=int(r["community_channels"]),
            )
            for r in rows
        ],
    )


def map_communities(
    reader: Reader, day: dt.date, window: int, signal: m.Signal, ids: list[str]
) -> dict[str, tuple[int, str, int]]:
    """The community (id, label, channels in all) of each of the map's channels."""
    if not ids or not reader.has("communities"):
        return {}
    return {
        str(r["channel_id"]): (
            int(r["community_id"]),
            str(r["community_label"]),
            int(r["community_channels"]),
        )
        for r in reader.rows(
            "select channel_id, community_id, community_label, community_channels "
            "from communities where day = ? and window_days = ? and signal = ? "
            "and list_contains(?, channel_id)",
            [day, window, signal, ids],
        )
    }


def map_groups(
    found: dict[str, tuple[int, str, int]], logins: dict[str, str]
) -> list[m.MapCommunity]:
    """The communities of the map's channels, largest first, with the channels shown."""
    groups: dict[int, m.MapCommunity] = {}
    for channel, (cid, name, size) in found.items():
        group = groups.setdefault(
            cid, m.MapCommunity(community_id=cid, label=name, channels=size, shown=[])
        )
        group.shown.append(logins[channel])
    for group in groups.values():
        group.shown.sort()
    return sorted(groups.values(), key=lambda g: (-g.channels, g.community_id))
