"""Follower totals, every hour on the grid: Get Channel Followers with any user token.

Twitch answers a channel's follower `total` to any user access token, so the listed
channels are spread over every usable token, each drawing on its own rate-limit bucket.
Only the total is kept; the client asks for one item and drops it unread (P1).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

import pyarrow as pa

from streamcensus.lake.manifest import FollowersStatus, MissingEntry
from streamcensus.lake.schema import FOLLOWERS_SCHEMA
from streamcensus.timeutil import to_epoch
from streamcensus.twitch import HelixClient, HelixError, TokenUnusable, Unauthorized, UserLane

log = logging.getLogger("streamcensus.collect")

FOLLOWERS_EVERY = 3600  # seconds: follower totals are read at the top of each hour


def followers_due(grid_time: dt.datetime) -> bool:
    """True at the grid times that read follower totals (the hour)."""
    return int(to_epoch(grid_time)) % FOLLOWERS_EVERY == 0


@dataclass
class FollowerTotals:
    """What one hourly reading gave: totals by channel, and what failed."""

    totals: dict[str, int] = field(default_factory=dict)
    missing: list[MissingEntry] = field(default_factory=list)
    status: FollowersStatus = ""

    def table(self, sid: str, grid_time: dt.datetime) -> pa.Table:
        ids = sorted(self.totals)
        return pa.table(
            {
                "snapshot_id": [sid] * len(ids),
                "snapshot_ts": [grid_time] * len(ids),
                "channel_id": ids,
                "followers_total": [self.totals[i] for i in ids],
            },
            schema=FOLLOWERS_SCHEMA,
        )


async def read_followers(
    client: HelixClient, lanes: list[UserLane], channel_ids: list[str], concurrency: int
) -> FollowerTotals:
    """The follower total of each channel, channels dealt round-robin over the lanes."""
    result = FollowerTotals()
    if not channel_ids:
        result.status = "complete"
        return result
    if not lanes:
        result.status = "no user token"
        return result
    gate = asyncio.Semaphore(concurrency)

    async def one(channel_id: str, first: int) -> None:
        async with gate:
            error = ""
            for attempt in range(len(lanes)):  # a lane whose token broke passes to the next
                lane = lanes[(first + attempt) % len(lanes)]
                try:
                    result.totals[channel_id] = await client.get_followers_total(channel_id, lane)
                    return
                except (TokenUnusable, Unauthorized) as exc:
                    error = str(exc)
                except HelixError as exc:
                    error = str(exc)
                    break
            log.warning("followers of channel %s failed: %s", channel_id, error)
            result.missing.append(
                MissingEntry(what="followers", channel_id=channel_id, reason=error)
            )

    await asyncio.gather(*(one(c, i) for i, c in enumerate(channel_ids)))
    result.status = "partial" if result.missing else "complete"
    return result
