"""Follower totals: a channel's curve and growth, and the ranking by followers gained.

Follower totals are Twitch's public per-channel figures (Get Channel Followers' `total`),
not counts of the viewers streamcensus observes: no k applies to them, and no follower is
ever known by name.
"""

from __future__ import annotations

import datetime as dt

from streamcensus.serve import channelrows
from streamcensus.serve import models as m
from streamcensus.serve.channelstore import is_store
from streamcensus.serve.reader import Reader, ts


def channel_followers(
    reader: Reader, channel_id: str, first: dt.date, last: dt.date
) -> m.ChannelFollowers:
    """The hourly follower curve of `last`, and the growth per day from `first` on."""
    if not reader.has("channel_followers", "channel_followers_hourly"):
        return m.ChannelFollowers(ts=[], followers=[], days=[])
    if is_store(reader):
        curve, days = channelrows.followers(reader, first, last)
    else:
        curve = reader.rows(
            "select snapshot_ts, followers_total from channel_followers_hourly "
            "where channel_id = ? and day between ? and ? order by snapshot_ts",
            [channel_id, first, last],
        )
        days = reader.rows(
            "select day, followers, gained_day, gained_7d from channel_followers "
            "where channel_id = ? and day between ? and ? order by day",
            [channel_id, first, last],
        )
    return m.ChannelFollowers(
        ts=[ts(r["snapshot_ts"]) for r in curve],
        followers=[int(r["followers_total"]) for r in curve],
        days=[
            m.FollowerDay(
                day=r["day"],
                followers=int(r["followers"]),
                gained_day=int(r["gained_day"]),
                gained_7d=int(r["gained_7d"]),
            )
            for r in days
        ],
    )


def ranking(reader: Reader, day: dt.date, window: int, limit: int) -> m.FollowerRanking:
    """The channels that gained the most followers in the day (`window` 1) or in the 7
    days ending on it (`window` 7)."""
    if not reader.has("channel_followers"):
        return m.FollowerRanking(day=day, window_days=window, channels=[])
    gained, since = ("gained_day", "gained_day_since")
    if window == 7:
        gained, since = ("gained_7d", "gained_7d_since")
    rows = reader.rows(
        f"select channel_id, channel_login, channel_name, followers, {gained} as gained, "
        f"{since} as since from channel_followers where day = ? "
        f"order by {gained} desc, followers desc, channel_id limit ?",
        [day, limit],
    )
    return m.FollowerRanking(
        day=day,
        window_days=window,
        channels=[
            m.FollowerRank(
                channel_login=r["channel_login"] or r["channel_id"],
                channel_name=r["channel_name"] or r["channel_login"] or r["channel_id"],
                followers=int(r["followers"]),
                gained=int(r["gained"]),
                gained_since=ts(r["since"]),
            )
            for r in rows
        ],
    )
