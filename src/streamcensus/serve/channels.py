"""Channel views: the search box, one channel's page, and the audience-overlap map."""

from __future__ import annotations

import datetime as dt
from typing import Any

from streamcensus.serve import channelrows
from streamcensus.serve import models as m
from streamcensus.serve.channelstore import is_store
from streamcensus.serve.communities import map_communities, map_groups
from streamcensus.serve.community import (
    BROADCAST_COLUMNS,
    DEFAULT_SIGNAL,
    SIGNALS,
    ViewContext,
    broadcast,
    broadcast_games,
    signal_series,
    signals_of,
)
from streamcensus.serve.followers import channel_followers
from streamcensus.serve.layout import force_layout
from streamcensus.serve.reader import Reader, day_bounds, num, opt, people, ts

NEIGHBOURS = 10
NEIGHBOURS_WINDOW = 7
EDGES_PER_NODE = 5
MAX_BROADCASTS = 500


def search(reader: Reader, q: str, limit: int) -> m.ChannelSearch:
    """Channels whose login or display name starts with `q` (case-insensitive)."""
    prefix = q.strip().lower()
    if not reader.has("channel_day") or not prefix:
        return m.ChannelSearch(q=q, channels=[])
    if is_store(reader):  # one row per channel, prebuilt
        rows = channelrows.search(reader, prefix, limit)
    else:
        rows = reader.rows(
            "with channels as (select channel_id, arg_max(channel_login, day) as channel_login, "
            "arg_max(channel_name, day) as channel_name, max(day) as last_day, "
            "sum(viewer_hours) as viewer_hours from channel_day group by channel_id) "
            "select * from channels where starts_with(lower(channel_login), ?) "
            "or starts_with(lower(channel_name), ?) "
            "order by lower(channel_login) = ? desc, viewer_hours desc, channel_login limit ?",
            [prefix, prefix, prefix, limit],
        )
    return m.ChannelSearch(
        q=q,
        channels=[
            m.ChannelMatch(
                channel_login=r["channel_login"],
                channel_name=r["channel_name"],
                last_day=r["last_day"],
                viewer_hours=num(r["viewer_hours"]),
            )
            for r in rows
        ],
    )


def top_channels(reader: Reader, first: dt.date, last: dt.date, limit: int) -> list[m.ChannelMatch]:
    """The channels with the most viewer-hours between `first` and `last`."""
    if limit == 0 or not reader.has("channel_day"):
        return []
    rows = reader.rows(
        "select arg_max(channel_login, day) as channel_login, "
        "arg_max(channel_name, day) as channel_name, max(day) as last_day, "
        "sum(viewer_hours) as viewer_hours from channel_day where day between ? and ? "
        "group by channel_id order by viewer_hours desc, channel_login limit ?",
        [first, last, limit],
    )
    return [
        m.ChannelMatch(
            channel_login=r["channel_login"],
            channel_name=r["channel_name"],
            last_day=r["last_day"],
            viewer_hours=num(r["viewer_hours"]),
        )
        for r in rows
    ]


def find_channel(reader: Reader, login: str) -> m.ChannelIdentity | None:
    """The channel with this login (the most recent one if a login changed hands)."""
    if not reader.has("channel_day"):
        return None
    if is_store(reader):  # the reader's rows are those of the lower-cased login
        rows = channelrows.find_channel(reader)
    else:
        rows = reader.rows(
            "select channel_id, arg_max(channel_login, day) as channel_login, "
            "arg_max(channel_name, day) as channel_name, min(day) as first_day, "
            "max(day) as last_day from channel_day where lower(channel_login) = ? "
            "group by channel_id order by last_day desc, channel_id limit 1",
            [login.lower()],
        )
    if not rows:
        return None
    r = rows[0]
    return m.ChannelIdentity(
        channel_id=r["channel_id"],
        channel_login=r["channel_login"],
        channel_name=r["channel_name"],
        first_day=r["first_day"],
        last_day=r["last_day"],
    )


def _channel_curve(reader: Reader, channel_id: str, day: dt.date, k: int) -> m.ChannelCurve:
    if not reader.has("int_snapshot_channels"):
        return m.ChannelCurve(ts=[], viewers=[], chatters=[], game=[])
    where = "day = ? and channel_id = ? and presence_read"
    if is_store(reader):
        snapshots = channelrows.snapshots(reader, day)
        rows = [r for r in snapshots if r["signal"] == "chat_list"]
        chatters: dict[str, dict[Any, int | None]] = {}
        for r in snapshots:
            if r["presence_read"] is True:
                chatters.setdefault(r["signal"], {})[r["snapshot_ts"]] = people(
                    r["published_chatters"], k
                )
    else:
        rows = reader.rows(
            "select snapshot_ts, viewer_count, game_name from int_snapshot_channels "
            "where day = ? and channel_id = ? and signal = 'chat_list' order by snapshot_ts",
            [day, channel_id],
        )
        chatters = signal_series(
            reader,
            "int_snapshot_channels",
            "snapshot_ts",
            "published_chatters",
            where,
            [day, channel_id],
            k,
        )
    return m.ChannelCurve(
        ts=[ts(r["snapshot_ts"]) for r in rows],
        viewers=[int(r["viewer_count"]) for r in rows],
        chatters=[
            m.series(s, [chatters[s].get(r["snapshot_ts"]) for r in rows])
            for s in SIGNALS
            if s in chatters
        ],
        game=[r["game_name"] for r in rows],
    )


def _channel_days(
    reader: Reader, channel_id: str, first: dt.date, last: dt.date, k: int
) -> list[m.ChannelDay]:
    rows = (
        channelrows.days(reader, first, last)
        if is_store(reader)
        else reader.rows(
            "select day, airtime_hours, peak_viewers, avg_viewers, viewer_hours, main_game, "
            "unique_chatters, returning_chatters, chatters_per_viewer, bot_share, complete, "
            "chat_snapshots_missed, signal, has_chat_list, has_chat_activity from channel_day "
            "where channel_id = ? and day between ? and ? order by day",
            [channel_id, first, last],
        )
    )
    days: list[m.ChannelDay] = []
    for r in rows:
        chatters = people(r["unique_chatters"], k)
        days.append(
            m.ChannelDay(
                day=r["day"],
                airtime_hours=num(r["airtime_hours"]),
                peak_viewers=int(r["peak_viewers"]),
                avg_viewers=num(r["avg_viewers"], 2),
                viewer_hours=num(r["viewer_hours"]),
                main_game=r["main_game"],
                unique_chatters=chatters,
                returning_chatters=people(r["returning_chatters"], k),
                chatters_per_viewer=opt(r["chatters_per_viewer"]) if chatters else None,
                bot_share=opt(r["bot_share"]) if chatters else None,
                signal=r["signal"],
                has_chat_list=bool(r["has_chat_list"]),
                has_chat_activity=bool(r["has_chat_activity"]),
                complete=bool(r["complete"]),
                chat_snapshots_missed=int(r["chat_snapshots_missed"]),
            )
        )
    return days


def _neighbours_signal(reader: Reader, channel_id: str, day: dt.date) -> m.Signal | None:
    """The chat list where the channel has overlaps from it, else chat activity."""
    if is_store(reader):
        present = {r["signal"] for r in channelrows.overlaps(reader, day, NEIGHBOURS_WINDOW)}
        return next((s for s in SIGNALS if s in present), None)
    found = signals_of(
        reader,
        "audience_overlap",
        "day = ? and window_days = ? and (channel_a = ? or channel_b = ?)",
        [day, NEIGHBOURS_WINDOW, channel_id, channel_id],
    )
    return found[0] if found else None


def _neighbours(
    reader: Reader, channel_id: str, day: dt.date, signal: m.Signal | None
) -> list[m.Neighbour]:
    if signal is None:
        return []
    if is_store(reader):  # each pair once per side, sorted by channel
        pairs = channelrows.overlaps(reader, day, NEIGHBOURS_WINDOW)
        return [_neighbour(r) for r in channelrows.neighbours(pairs, signal, NEIGHBOURS)]
    if not reader.has("audience_overlap"):
        return []
    rows = reader.rows(
        "select case when channel_a = ? then coalesce(channel_login_b, channel_b) "
        "else coalesce(channel_login_a, channel_a) end as other, shared_chatters, "
        "case when channel_a = ? then share_a else share_b end as share_of_this, "
        "case when channel_a = ? then share_b else share_a end as share_of_other, jaccard "
        "from audience_overlap where day = ? and window_days = ? and signal = ? "
        "and (channel_a = ? or channel_b = ?) "
        "order by jaccard desc, shared_chatters desc, other limit ?",
        [channel_id] * 3 + [day, NEIGHBOURS_WINDOW, signal, channel_id, channel_id, NEIGHBOURS],
    )
    return [_neighbour(r) for r in rows]


def _neighbour(r: dict[str, Any]) -> m.Neighbour:
    return m.Neighbour(
        channel_login=r["other"],
        shared_chatters=int(r["shared_chatters"]),
        share_of_this=num(r["share_of_this"]),
        share_of_other=num(r["share_of_other"]),
        jaccard=num(r["jaccard"]),
    )


def channel_view(
    reader: Reader, channel: m.ChannelIdentity, day: dt.date, weeks: int, ctx: ViewContext
) -> m.ChannelView:
    """One channel: broadcasts of the `weeks` weeks ending on `day` (from the first loaded
    day at the earliest), and `day` in detail."""
    loaded = reader.loaded_days()
    first = day - dt.timedelta(days=7 * weeks - 1)
    if loaded and loaded[0] > first:
        first = min(loaded[0], day)
    start, end = day_bounds(first, day)
    broadcasts: list[m.Broadcast] = []
    games: list[m.ChannelGame] = []
    if reader.has("stream_sessions"):
        rows = (
            channelrows.broadcasts(reader, start, end, MAX_BROADCASTS)
            if is_store(reader)
            else reader.rows(
                f"select {BROADCAST_COLUMNS} from stream_sessions as s where s.channel_id = ? "
                "and s.started_at < ? and s.ended_at >= ? order by s.started_at limit ?",
                [channel.channel_id, end, start, MAX_BROADCASTS],
            )
        )
        played = broadcast_games(reader, rows)
        broadcasts = [broadcast(r, played) for r in rows]
        totals: dict[str, tuple[int, int]] = {}
        for item in played.values():
            for game in item:
                minutes, count = totals.get(game.game_name, (0, 0))
                totals[game.game_name] = (minutes + game.minutes, count + 1)
        games = [
            m.ChannelGame(game_name=name, minutes=minutes, broadcasts=count)
            for name, (minutes, count) in sorted(totals.items(), key=lambda t: (-t[1][0], t[0]))
        ]
    signal = _neighbours_signal(reader, channel.channel_id, day)
    return m.ChannelView(
        channel=channel,
        day=day,
        period_from=first,
        period_to=day,
        interval_minutes=ctx.interval_minutes,
        broadcasts=broadcasts,
        curve=_channel_curve(reader, channel.channel_id, day, ctx.k),
        games=games,
        days=_channel_days(reader, channel.channel_id, first, day, ctx.k),
        neighbours_window_days=NEIGHBOURS_WINDOW,
        neighbours_signal=signal,
        neighbours=_neighbours(reader, channel.channel_id, day, signal),
        followers=channel_followers(reader, channel.channel_id, first, day),
    )


def overlap_map(
    reader: Reader, day: dt.date, window: int, limit: int, signal: m.Signal = DEFAULT_SIGNAL
) -> m.OverlapMap:
    """The `limit` channels with the largest chats, joined by their strongest overlaps in
    one signal."""
    empty = m.OverlapMap(
        day=day,
        window_days=window,
        signal=signal,
        signal_label=m.SIGNAL_LABELS[signal],
        signals=signals_of(
            reader, "audience_overlap", "day = ? and window_days = ?", [day, window]
        ),
        days_covered=None,
        pairs_total=0,
        nodes=[],
        edges=[],
    )
    if not reader.has("audience_overlap"):
        return empty
    total = int(
        reader.value(
            "select count(*) from audience_overlap where day = ? and window_days = ? "
            "and signal = ?",
            [day, window, signal],
        )
        or 0
    )
    rows = reader.rows(
        "with pairs as (select * from audience_overlap where day = ? and window_days = ? "
        "and signal = ?), "
        "sides as (select channel_a as id, channel_login_a as login, chatters_a as chatters "
        "from pairs union all select channel_b, channel_login_b, chatters_b from pairs), "
        "chosen as (select id, max(chatters) as chatters from sides group by id "
        "order by chatters desc, id limit ?) "
        "select p.* from pairs as p where p.channel_a in (select id from chosen) "
        "and p.channel_b in (select id from chosen) "
        "order by p.jaccard desc, p.shared_chatters desc, p.channel_a, p.channel_b",
        [day, window, signal, limit],
    )
    if not rows:
        return empty.model_copy(update={"pairs_total": total})
    degree: dict[str, int] = {}
    kept = []
    for r in rows:
        if degree.get(r["channel_a"], 0) < EDGES_PER_NODE or (
            degree.get(r["channel_b"], 0) < EDGES_PER_NODE
        ):
            kept.append(r)
            degree[r["channel_a"]] = degree.get(r["channel_a"], 0) + 1
            degree[r["channel_b"]] = degree.get(r["channel_b"], 0) + 1
    sizes: dict[str, int] = {}
    logins: dict[str, str] = {}
    for r in kept:
        sizes[r["channel_a"]] = int(r["chatters_a"])
        sizes[r["channel_b"]] = int(r["chatters_b"])
        logins[r["channel_a"]] = r["channel_login_a"] or r["channel_a"]
        logins[r["channel_b"]] = r["channel_login_b"] or r["channel_b"]
    ids = sorted(sizes, key=lambda c: (-sizes[c], c))
    index = {c: i for i, c in enumerate(ids)}
    info = {
        r["channel_id"]: r
        for r in reader.rows(
            "select channel_id, arg_max(channel_name, day) as channel_name, "
            "arg_max(main_game, day) as main_game from channel_day "
            "where list_contains(?, channel_id) and day between ? and ? group by channel_id",
            [ids, day - dt.timedelta(days=window - 1), day],
        )
    }
    found = map_communities(reader, day, window, signal, ids)
    edges = [(index[r["channel_a"]], index[r["channel_b"]], float(r["jaccard"])) for r in kept]
    pos = force_layout(len(ids), edges)
    return m.OverlapMap(
        day=day,
        window_days=window,
        signal=signal,
        signal_label=m.SIGNAL_LABELS[signal],
        signals=empty.signals,
        days_covered=int(rows[0]["days_covered"]),
        pairs_total=total,
        nodes=[
            m.MapNode(
                channel_login=logins[c],
                channel_name=str(info.get(c, {}).get("channel_name") or logins[c]),
                chatters=sizes[c],
                main_game=str(info.get(c, {}).get("main_game") or ""),
                x=float(pos[i, 0]),
                y=float(pos[i, 1]),
                community_id=found[c][0] if c in found else None,
                community_label=found[c][1] if c in found else None,
            )
            for i, c in enumerate(ids)
        ],
        edges=[
            m.MapEdge(
                source=index[r["channel_a"]],
                target=index[r["channel_b"]],
                shared_chatters=int(r["shared_chatters"]),
                jaccard=num(r["jaccard"]),
            )
            for r in kept
        ],
        communities=map_groups(found, logins),
    )
