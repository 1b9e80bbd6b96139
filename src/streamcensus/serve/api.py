"""The JSON API under `/api/`: one endpoint per dashboard page, read-only, aggregates only.

No endpoint takes a viewer as a parameter and no payload holds a row about one viewer or a
count of people under k (P3). Every endpoint opens the warehouse read-only for the length
of the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from streamcensus.config import Settings
from streamcensus.cost.measure import NothingMeasured, measure, warehouse_file_bytes
from streamcensus.cost.model import CostEstimate, estimate
from streamcensus.cost.prices import load_prices
from streamcensus.errors import UserError
from streamcensus.serve import channels, chatlists, communities, community, followers, health
from streamcensus.serve import models as m
from streamcensus.serve.cache import mark_cacheable
from streamcensus.serve.channelstore import ChannelStore
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
    """What the endpoints need: settings, view parameters, the warehouse readers, and the
    per-channel tables (`channelstore.py`, built in the background with the warm-up)."""

    settings: Settings
    ctx: ViewContext
    pool: ReaderPool
    channels: ChannelStore = field(default_factory=ChannelStore)


def view_context(settings: Settings) -> ViewContext:
    """k and the snapshot interval, from the settings."""
    return ViewContext(k=settings.k, interval_minutes=GRID_MINUTES)


def as_json(model: BaseModel) -> Response:
    """The answer as JSON, encoded by pydantic in one step.

    The route declares the model (`response_model`, for the OpenAPI schema); returning the
    encoded response skips FastAPI's second validation of a model the endpoint has just
    built, its conversion to Python objects and `json.dumps` (most of the cost of a large
    answer).
    """
    return Response(model.model_dump_json(), media_type="application/json")


@contextmanager
def reading(request: Request, *, cache: bool = True) -> Iterator[tuple[Reader, ViewContext]]:
    """A read-only warehouse reader for one request, with the view context.

    With `cache` (an answer that depends on the warehouse and the request alone), the
    answer is kept until the warehouse changes (`cache.ResponseCache`).
    """
    state: ServeState = request.app.state.serve
    with state.pool.reader() as reader:
        if cache:
            mark_cacheable(request.scope, reader.version)
        yield reader, state.ctx


@router.get("/days", summary="Loaded days", response_model=m.DaysInfo)
def days_endpoint(request: Request) -> Response:
    """The UTC days loaded in the warehouse (empty when there is no data yet)."""
    with reading(request) as (reader, ctx):
        days = reader.loaded_days()
        partial = reader.partial_days()
    return as_json(
        m.DaysInfo(
            days=days,
            partial_days=partial,
            first=days[0] if days else None,
            latest=days[-1] if days else None,
            k=ctx.k,
            interval_minutes=ctx.interval_minutes,
        )
    )


@router.get("/overview", summary="Overview of a day", response_model=m.Overview)
def overview_endpoint(
    request: Request,
    day: DayParam = None,
    limit: Annotated[int, Query(ge=1, le=50, description="top channels and games")] = 10,
) -> Response:
    """Community curve (viewers, chatters, live channels, viewers per live channel), top
    channels and top games of a day."""
    with reading(request) as (reader, ctx):
        return as_json(community.overview(reader, resolve_day(reader, day), ctx, limit))


@router.get("/schedules", summary="Streamer schedule of a day", response_model=m.Schedules)
def schedules_endpoint(
    request: Request,
    day: DayParam = None,
    limit: Annotated[int, Query(ge=1, le=100, description="channels shown")] = 25,
) -> Response:
    """The top channels of a day by viewer-hours with their broadcasts overlapping it."""
    with reading(request) as (reader, _):
        return as_json(community.schedules(reader, resolve_day(reader, day), limit))


@router.get("/channels", summary="Search channels", response_model=m.ChannelSearch)
def search_endpoint(
    request: Request,
    q: Annotated[str, Query(description="start of a channel login or display name")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """Channels whose login or display name starts with `q` (case-insensitive)."""
    text = check_query(q)
    state: ServeState = request.app.state.serve
    with reading(request) as (reader, _), state.channels.reader(reader.version) as store:
        return as_json(channels.search(store or reader, text, limit))


@router.get("/channels/{channel}", summary="One channel", response_model=m.ChannelView)
def channel_endpoint(
    request: Request,
    channel: str,
    day: DayParam = None,
    weeks: Annotated[int, Query(ge=1, le=12, description="weeks of broadcasts shown")] = 4,
) -> Response:
    """A channel's broadcasts over recent weeks, its viewer curve of the day, games,
    audience-overlap neighbours, bot share and returning chatters. `channel` is its login."""
    state: ServeState = request.app.state.serve
    with reading(request) as (reader, ctx):
        found = find_channel(state.channels, reader, channel)
        chosen = resolve_day(reader, day)
        with state.channels.reader(reader.version, channel_id=found.channel_id) as store:
            return as_json(channels.channel_view(store or reader, found, chosen, weeks, ctx))


def find_channel(store: ChannelStore, reader: Reader, channel: str) -> m.ChannelIdentity:
    """`resolve_channel` over the store's logins when they were built at the version
    `reader` reads, else over the warehouse."""
    with store.reader(reader.version, login=channel) as logins:
        return resolve_channel(logins or reader, channel)


@router.get("/map", summary="Audience-overlap map", response_model=m.OverlapMap)
def map_endpoint(
    request: Request,
    day: DayParam = None,
    window: WindowParam = 7,
    limit: Annotated[int, Query(ge=2, le=200, description="channels shown")] = 60,
    signal: SignalParam = community.DEFAULT_SIGNAL,
) -> Response:
    """The channels with the largest chats, placed by their shared chatters (in one signal)."""
    check_window(window)
    with reading(request) as (reader, _):
        return as_json(
            channels.overlap_map(reader, resolve_day(reader, day), window, limit, signal)
        )


def check_community_window(value: int) -> int:
    """A window the communities are found in: 1, 7 or 30 days."""
    if value not in communities.WINDOWS:
        raise ParamError(
            400, f"invalid window {value}: expected 1 (the day), 7 or 30 (the days ending on it)"
        )
    return value


@router.get("/communities", summary="Audience communities", response_model=m.Communities)
def communities_endpoint(
    request: Request,
    day: DayParam = None,
    window: Annotated[
        int, Query(description="period in days: 1, 7 or 30 (the days ending on the day)")
    ] = 7,
    signal: SignalParam = community.DEFAULT_SIGNAL,
    limit: Annotated[int, Query(ge=1, le=500, description="channels listed per community")] = 25,
) -> Response:
    """Groups of channels whose audiences overlap more than chance, labelled by what they
    stream, with ids kept from day to day (found on the published overlap pairs)."""
    check_community_window(window)
    with reading(request) as (reader, _):
        return as_json(
            communities.communities(reader, resolve_day(reader, day), window, signal, limit)
        )


@router.get(
    "/communities/{channel}",
    summary="A channel's community over 4 weeks",
    response_model=m.CommunityHistory,
)
def community_history_endpoint(
    request: Request,
    channel: str,
    day: DayParam = None,
    window: Annotated[int, Query(description="period in days: 1, 7 or 30")] = 7,
    signal: SignalParam = community.DEFAULT_SIGNAL,
) -> Response:
    """The community of a channel on each day of the 4 weeks ending on the day. `channel`
    is its login."""
    check_community_window(window)
    with reading(request) as (reader, _):
        found = resolve_channel(reader, channel)
        return as_json(
            communities.channel_history(reader, found, resolve_day(reader, day), window, signal)
        )


@router.get("/habits", summary="Audience habits", response_model=m.Habits)
def habits_endpoint(
    request: Request, day: DayParam = None, signal: SignalParam = community.DEFAULT_SIGNAL
) -> Response:
    """When the community chats (hour of week) and how (sessions, channels, lengths, loyalty),
    in one signal."""
    with reading(request) as (reader, _):
        return as_json(community.habits(reader, resolve_day(reader, day), signal))


@router.get("/exposure", summary="Exposure", response_model=m.Exposure)
def exposure_endpoint(
    request: Request,
    day: DayParam = None,
    window: WindowParam = 1,
    signal: SignalParam = community.DEFAULT_SIGNAL,
) -> Response:
    """What a tracker could learn: shares of people singled out by a few points of their
    activity, in aggregate, with plain-words sentences (in one signal)."""
    check_window(window)
    with reading(request) as (reader, _):
        return as_json(community.exposure(reader, resolve_day(reader, day), window, signal))


@router.get("/health", summary="Pipeline health", response_model=m.Health)
def health_endpoint(
    request: Request,
    day: DayParam = None,
    days: Annotated[int, Query(ge=1, le=366, description="days shown, ending on `day`")] = 30,
) -> Response:
    """Snapshots complete/partial/missing, API errors, rate-limit use, lake size and
    compression, chat-list tokens (tripped, why), chat-activity coverage and follower
    readings per loaded day."""
    with reading(request) as (reader, ctx):
        return as_json(health.health(reader, resolve_day(reader, day), days, ctx))


@router.get("/chat-lists", summary="Chat lists read", response_model=m.ChatLists)
def chat_lists_endpoint(request: Request, day: DayParam = None) -> Response:
    """The channels whose chat list was read on the day, and on what ground (the
    broadcaster's consent, or the operator's moderation). Channels only: no viewer data."""
    with reading(request) as (reader, _):
        return as_json(chatlists.chat_lists(reader, resolve_day(reader, day)))


@router.get("/followers", summary="Follower growth ranking", response_model=m.FollowerRanking)
def followers_endpoint(
    request: Request,
    day: DayParam = None,
    window: WindowParam = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="channels shown")] = 25,
) -> Response:
    """Channels ranked by followers gained in the day (window 1) or in the 7 days ending on
    it (window 7). Follower totals are public per-channel figures, not counts of viewers."""
    check_window(window)
    with reading(request) as (reader, _):
        return as_json(followers.ranking(reader, resolve_day(reader, day), window, limit))


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
    with reading(request, cache=False) as (reader, _ctx):
        try:
            measured = measure(reader.rows, warehouse_file_bytes(settings.warehouse_path), days)
        except NothingMeasured as exc:
            raise ParamError(404, f"{exc}: nothing measured yet") from None
    return estimate(measured, prices, retention_days=settings.retention_days, month=month)
