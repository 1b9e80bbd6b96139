"""Typed payloads of the rankings and games endpoints.

Viewer figures (hours watched, peak and average viewers, airtime) are Twitch's public
per-channel `viewer_count` figures. `chatters` is a count of people: published noisy and
null under k (P3), from the signal the payload names.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from streamcensus.serve.models import Signal

Kind = Literal["channels", "games"]
Measure = Literal["hours_watched", "peak_viewers", "avg_viewers", "airtime_hours", "chatters"]
# the measures in the order the pages show them, and their words (one home)
MEASURE_LABELS: dict[str, str] = {
    "hours_watched": "hours watched",
    "peak_viewers": "peak viewers",
    "avg_viewers": "average viewers",
    "airtime_hours": "airtime (hours)",
    "chatters": "chat size (people)",
}


class Figure(BaseModel):
    """A figure over the window and over the previous period of the same length."""

    current: float | None = Field(
        description="the window's value; null: not live, or (chatters) under k"
    )
    previous: float | None = Field(
        description="the previous period's value; null when none of its days was loaded "
        "(chatters: when its figure was not published)"
    )
    change: float | None = Field(description="current - previous")
    change_pct: float | None = Field(
        description="change / previous (0.25 = +25%); null when previous is 0 or null"
    )
    rank: int | None = Field(description="position among the kind's subjects by this figure")


class Period(BaseModel):
    """How much of a window, and of the period before it, was loaded."""

    window_days: int
    days_covered: int = Field(description="days of the window loaded (chatters: with presence)")
    previous_days_covered: int
    complete: bool = Field(description="every day of the window was loaded")


class RankedSubject(BaseModel):
    """A channel or a game with its figures over the window."""

    rank: int
    id: str = Field(description="Twitch channel id or game (category) id")
    channel_login: str | None = Field(description="the channel's login (null for a game)")
    name: str
    main_game: str | None = Field(description="a channel's main game on its latest day live")
    hours_watched: Figure
    peak_viewers: Figure
    avg_viewers: Figure
    airtime_hours: Figure
    chatters: Figure


class Rankings(BaseModel):
    """Channels or games ranked by one figure over 1, 7 or 30 days ending on a day."""

    day: dt.date
    window_days: int
    kind: Kind
    by: Measure
    signal: Signal = Field(description="the presence signal of the chatters figures")
    signal_label: str
    period: Period = Field(description="coverage of the viewer figures")
    chatters_period: Period = Field(description="coverage of the chatters figures")
    subjects: list[RankedSubject]


class GameSummary(BaseModel):
    """A game over the window: its figures, its share of hours watched, its channels."""

    game: RankedSubject
    share_of_hours: float = Field(description="of all hours watched in the window, 0..1")
    channels: int = Field(description="channels that streamed it in the window")
    top_channel: str | None = Field(description="login of its channel with the most hours")


class Games(BaseModel):
    """What the community plays: games by hours watched over the window."""

    day: dt.date
    window_days: int
    signal: Signal
    signal_label: str
    period: Period
    hours_watched: float = Field(description="all hours watched in the window")
    games: list[GameSummary]


class GameDay(BaseModel):
    """One day of a game."""

    day: dt.date
    hours_watched: float
    peak_viewers: int
    avg_viewers: float
    airtime_hours: float
    channels: int


class GameChannel(BaseModel):
    """A channel that streamed the game in the window."""

    channel_login: str
    channel_name: str
    hours_watched: float
    airtime_hours: float
    peak_viewers: int
    share_of_hours: float = Field(description="of the game's hours watched, 0..1")


class GameHours(BaseModel):
    """When the game is watched: viewer-hours by weekday and UTC hour over the window."""

    weekdays: list[str] = Field(description="Monday first")
    hours: list[int]
    viewer_hours: list[list[float]] = Field(description="[weekday][hour], viewer-hours")
    avg_channels: list[float] = Field(description="channels live in it per snapshot, by hour")


class GameView(BaseModel):
    """A game over the window: figures, days, when it is watched and who streams it."""

    day: dt.date
    window_days: int
    id: str
    name: str
    signal: Signal
    signal_label: str
    period: Period
    figures: RankedSubject | None = Field(description="null when not live in the window")
    days: list[GameDay]
    when: GameHours
    channels: list[GameChannel]
