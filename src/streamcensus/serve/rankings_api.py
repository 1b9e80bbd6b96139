"""The JSON endpoints of the rankings and games pages, under `/api/` like the others.

Parameters are checked as in `params.py`: a malformed value is a 400 with a message, a
day or game the warehouse does not hold a 404, never a 500.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from streamcensus.serve import community, rankings
from streamcensus.serve import ranking_models as r
from streamcensus.serve.api import DayParam, SignalParam, as_json, reading
from streamcensus.serve.params import ParamError, resolve_day

router = APIRouter(prefix="/api", tags=["api"])

# A Twitch game (category) id: digits. One declaration: the pages get it in their config.
GAME_PATTERN = re.compile(r"[0-9]{1,20}")
GAME_RULE = "a Twitch game id is 1-20 digits"

WindowParam = Annotated[
    int, Query(description="period in days: 1 (the day), 7 or 30 (the days ending on it)")
]


def check_window(value: int) -> int:
    """A window the rankings are built for: 1, 7 or 30 days."""
    if value not in rankings.WINDOWS:
        raise ParamError(
            400, f"invalid window {value}: expected 1 (the day), 7 or 30 (the days ending on it)"
        )
    return value


def check_game(value: str) -> str:
    """A game id: 1-20 digits."""
    if not GAME_PATTERN.fullmatch(value):
        raise ParamError(400, f"invalid game {value!r}: {GAME_RULE}")
    return value


@router.get(
    "/rankings", summary="Channels or games ranked over 1, 7 or 30 days", response_model=r.Rankings
)
def rankings_endpoint(
    request: Request,
    day: DayParam = None,
    window: WindowParam = 7,
    by: Annotated[r.Measure, Query(description="the figure ranked")] = "hours_watched",
    kind: Annotated[r.Kind, Query(description="rank channels or games")] = "channels",
    signal: SignalParam = community.DEFAULT_SIGNAL,
    limit: Annotated[int, Query(ge=1, le=200, description="subjects listed")] = 50,
) -> Response:
    """Channels or games ranked by hours watched, peak or average viewers, airtime or chat
    size (people, in one signal: noisy, null under k) over the window ending on the day,
    each figure with its change against the previous period of the same length."""
    check_window(window)
    with reading(request) as (reader, _):
        return as_json(
            rankings.rankings(reader, resolve_day(reader, day), window, kind, by, signal, limit)
        )


@router.get("/games", summary="What the community plays", response_model=r.Games)
def games_endpoint(
    request: Request,
    day: DayParam = None,
    window: WindowParam = 7,
    signal: SignalParam = community.DEFAULT_SIGNAL,
    limit: Annotated[int, Query(ge=1, le=200, description="games listed")] = 30,
) -> Response:
    """Games by hours watched over the window ending on the day, with their share of all
    hours watched, their channels, and their figures' change against the previous period."""
    check_window(window)
    with reading(request) as (reader, _):
        return as_json(rankings.games(reader, resolve_day(reader, day), window, signal, limit))


@router.get("/games/{game}", summary="One game", response_model=r.GameView)
def game_endpoint(
    request: Request,
    game: str,
    day: DayParam = None,
    window: WindowParam = 7,
    signal: SignalParam = community.DEFAULT_SIGNAL,
) -> Response:
    """A game over the window ending on the day: its figures and their change, its days,
    when it is watched (viewer-hours by weekday and UTC hour) and the channels that stream
    it. `game` is its Twitch game id."""
    check_window(window)
    game_id = check_game(game)
    with reading(request) as (reader, ctx):
        name = rankings.find_game(reader, game_id)
        if name is None:
            raise ParamError(
                404,
                f"unknown game {game!r}: no channel streamed it on a loaded day "
                "(the games are listed by /api/games)",
            )
        chosen = resolve_day(reader, day)
        return as_json(
            rankings.game_view(reader, game_id, name, chosen, window, signal, ctx.interval_minutes)
        )
