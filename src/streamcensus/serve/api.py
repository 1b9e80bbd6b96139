"""The JSON API under `/api/`: one endpoint per dashboard page, read-only, aggregates only.

No endpoint takes a viewer as a parameter and no payload holds a row about one viewer or a
count of people under k (P3). Every endpoint opens the warehouse read-only for the length
of the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request

from streamcensus.config import Settings
from streamcensus.cost.measure import NothingMeasured, measure, warehouse_file_bytes
from streamcensus.cost.model import CostEstimate, estimate
from streamcensus.cost.prices import load_prices
from streamcensus.errors import UserError
from streamcensus.serve import channels, chatlists, community, followers, health
from streamcensus.serve import models as m
from streamcensus.serve.community import ViewContext
from streamcensus.serve.params import (
    ParamError,
    check_query,
    check_window,
    resolve_channel,
    resolve_day,
)
from streamcensus.serve.reader import Reader, ReaderPool
from streamcensus.timeutil import GRID_MINUTES

router = APIRouter(prefix="/api", tags=["api"])

DayParam = Annotated[
    str | None,
    Query(
        description="UTC day as YYYY-MM-DD; default: the latest loaded day",
        examples=["2026-11-27"],
    ),
]
WindowParam = Annotated[
    int, Query(description="period in days: 1 (the day) or 7 (the week ending on it)")
]
SignalParam = Annotated[
    m.Signal,
    Query(
        description="presence signal: chat_activity (people who posted: the whole community) "
        "or chat_list (people in the chat list: only channels whose chat list is read)"
    ),
]


@dataclass(frozen=True)
class ServeState:
    """What the endpoints need: settings, view parameters, and the warehouse readers."""

    settings: Settings
    ctx: ViewContext
    pool: ReaderPool


def view_context(settings: Settings) -> ViewContext:
    """k and the snapshot interval, from the settings."""
    return ViewContext(k=settings.k, interval_minutes=GRID_MINUTES)


@contextmanager
def reading(request: Request) -> Iterator[tuple[Reader, ViewContext]]:
    """A read-only warehouse reader for one request, with the view context."""
    state: ServeState = request.app.state.serve
    with state.pool.reader() as reader:
        yield reader, state.ctx


@router.get("/days", summary="Loaded days")
def days_endpoint(request: Request) -> m.DaysInfo:
    """The UTC days loaded in the warehouse (empty when there is no data yet)."""
    with reading(request) as (reader, ctx):
        days = reader.loaded_days()
        partial = reader.partial_days()
    return m.DaysInfo(
        days=days,
        partial_days=partial,
        first=days[0] if days else None,
        latest=days[-1] if days else None,
        k=ctx.k,
        interval_minutes=ctx.interval_minutes,
    )


@router.get("/overview", summary="Overview of a day")
def overview_endpoint(
    request: Request,
    day: DayParam = None,
    limit: Annotated[int, Query(ge=1, le=50, description="top channels and games")] = 10,
) -> m.Overview:
    """Community curve (viewers, chatters, live channels, viewers per live channel), top
    channels and top games of a day."""
    with reading(request) as (reader, ctx):
        return community.overview(reader, resolve_day(reader, day), ctx, limit)


@router.get("/schedules", summary="Streamer schedule of a day")
def schedules_endpoint(
    request: Request,
    day: DayParam = None,
    limit: Annotated[int, Query(ge=1, le=100, description="channels shown")] = 25,
) -> m.Schedules:
    """The top channels of a day by viewer-hours with their broadcasts overlapping it."""
    with reading(request) as (reader, _):
        return community.schedules(reader, resolve_day(reader, day), limit)


@router.get("/channels", summary="Search channels")
def search_endpoint(
    request: Request,
    q: Annotated[str, Query(description="start of a channel login or display name")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> m.ChannelSearch:
    """Channels whose login or display name starts with `q` (case-insensitive)."""
    text = check_query(q)
    with reading(request) as (reader, _):
        return channels.search(reader, text, limit)


@router.get("/channels/{channel}", summary="One channel")
def channel_endpoint(
    request: Request,
    channel: str,
    day: DayParam = None,
    weeks: Annotated[int, Query(ge=1, le=12, description="weeks of broadcasts shown")] = 4,
) -> m.ChannelView:
    """A channel's broadcasts over recent weeks, its viewer curve of the day, games,
    audience-overlap neighbours, bot share and returning chatters. `channel` is its login."""
    with reading(request) as (reader, ctx):
        found = resolve_channel(reader, channel)
        return channels.channel_view(reader, found, resolve_day(reader, day), weeks, ctx)


@router.get("/map", summary="Audience-overlap map")
def map_endpoint(
    request: Request,
    day: DayParam = None,
    window: WindowParam = 7,
    limit: Annotated[int, Query(ge=2, le=200, description="channels shown")] = 60,
    signal: SignalParam = community.DEFAULT_SIGNAL,
) -> m.OverlapMap:
    """The channels with the largest chats, placed by their shared chatters (in one signal)."""
    check_window(window)
    with reading(request) as (reader, _):
        return channels.overlap_map(reader, resolve_day(reader, day), window, limit, signal)


@router.get("/habits", summary="Audience habits")
def habits_endpoint(
    request: Request, day: DayParam = None, signal: SignalParam = community.DEFAULT_SIGNAL
) -> m.Habits:
    """When the community chats (hour of week) and how (sessions, channels, lengths, loyalty),
    in one signal."""
    with reading(request) as (reader, _):
        return community.habits(reader, resolve_day(reader, day), signal)


@router.get("/exposure", summary="Exposure")
def exposure_endpoint(
    request: Request,
    day: DayParam = None,
    window: WindowParam = 1,
    signal: SignalParam = community.DEFAULT_SIGNAL,
) -> m.Exposure:
    """What a tracker could learn: shares of people singled out by a few points of their
    activity, in aggregate, with plain-words sentences (in one signal)."""
    check_window(window)
    with reading(request) as (reader, _):
        return community.exposure(reader, resolve_day(reader, day), window, signal)


@router.get("/health", summary="Pipeline health")
def health_endpoint(
    request: Request,
    day: DayParam = None,
    days: Annotated[int, Query(ge=1, le=366, description="days shown, ending on `day`")] = 30,
) -> m.Health:
    """Snapshots complete/partial/missing, API errors, rate-limit use, lake size and
    compression, chat-list tokens (tripped, why), chat-activity coverage and follower
    readings per loaded day."""
    with reading(request) as (reader, ctx):
        return health.health(reader, resolve_day(reader, day), days, ctx)


@router.get("/chat-lists", summary="Chat lists read")
def chat_lists_endpoint(request: Request, day: DayParam = None) -> m.ChatLists:
    """The channels whose chat list was read on the day, and on what ground (the
    broadcaster's consent, or the operator's moderation). Channels only: no viewer data."""
    with reading(request) as (reader, _):
        return chatlists.chat_lists(reader, resolve_day(reader, day))


@router.get("/followers", summary="Follower growth ranking")
def followers_endpoint(
    request: Request,
    day: DayParam = None,
    window: WindowParam = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="channels shown")] = 25,
) -> m.FollowerRanking:
    """Channels ranked by followers gained in the day (window 1) or in the 7 days ending on
    it (window 7). Follower totals are public per-channel figures, not counts of viewers."""
    check_window(window)
    with reading(request) as (reader, _):
        return followers.ranking(reader, resolve_day(reader, day), window, limit)


@router.get("/cost", summary="A month of running, measured and priced")
def cost_endpoint(
    request: Request,
    days: Annotated[int, Query(ge=1, le=366, description="loaded days measured")] = 7,
    month: Annotated[
        int, Query(ge=1, le=120, description="storage priced as in this month of running")
    ] = 12,
) -> CostEstimate:
    """What a month of running this installation costs: collector, load, lake and warehouse
    storage, traffic, from the figures of the last `days` loaded days, priced with the
    configured price table (`streamcensus cost` prints the same)."""
    settings: Settings = request.app.state.serve.settings
    try:
        prices = load_prices(settings.cost_prices)
    except UserError as exc:
        raise ParamError(503, f"the price table cannot be used: {exc}") from None
    with reading(request) as (reader, _ctx):
        try:
            measured = measure(reader.rows, warehouse_file_bytes(settings.warehouse_path), days)
        except NothingMeasured as exc:
            raise ParamError(404, f"{exc}: nothing measured yet") from None
    return estimate(measured, prices, retention_days=settings.retention_days, month=month)
