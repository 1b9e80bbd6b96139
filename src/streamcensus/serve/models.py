"""Typed payloads of the JSON API: what each dashboard view receives, and nothing more.

Every count of people in these payloads (chatters, shared chatters, returning chatters,
population, habit buckets) is at least k or null (P3). Viewer counts (`viewers`,
`peak_viewers`, `viewer_hours`) are Twitch's public per-channel `viewer_count` figures.
Times are RFC 3339 strings in UTC (`2026-11-26T20:00:00Z`); curves are columnar (one list
per series) to keep payloads small.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class DaysInfo(BaseModel):
    """The UTC days loaded in the warehouse."""

    days: list[dt.date]
    partial_days: list[dt.date] = Field(
        description="days loaded before they were over: their figures are partial"
    )
    first: dt.date | None
    latest: dt.date | None
    k: int = Field(description="minimum published group of people (P3)")
    interval_minutes: int = Field(description="minutes between snapshots")


class CommunityCurve(BaseModel):
    """The community per snapshot of one day."""

    ts: list[str]
    viewers: list[int | None] = Field(description="null when the stream facts were not loaded")
    chatters: list[int | None] = Field(description="accounts in any chat read; null under k")
    live_channels: list[int | None]
    viewers_per_live_channel: list[float | None]
    status: list[str] = Field(
        description="snapshot status: complete, partial, no manifest, streams missing"
    )


class OverviewTotals(BaseModel):
    """Headline figures of one day."""

    snapshots: int
    snapshots_expected: int
    peak_viewers: int
    peak_viewers_at: str | None
    avg_viewers: float
    viewer_hours: float
    peak_live_channels: int
    channels_live: int
    viewers_per_live_channel: float | None = Field(
        description="Σ viewers ÷ Σ live channels over the day's snapshots (total over total)"
    )
    peak_chatters: int | None
    day_complete: bool = Field(description="false when the day was loaded before it was over")


class TopChannel(BaseModel):
    """One channel's day, ranked by viewer-hours."""

    channel_login: str
    channel_name: str
    main_game: str
    airtime_hours: float
    peak_viewers: int
    avg_viewers: float
    viewer_hours: float
    unique_chatters: int | None
    chatters_per_viewer: float | None


class TopGame(BaseModel):
    """One game's day, ranked by viewer-hours."""

    game_id: str
    game_name: str
    viewer_hours: float
    share: float = Field(description="share of the day's viewer-hours, 0..1")
    peak_viewers: int
    peak_live_channels: int


class Overview(BaseModel):
    """Overview page: community curve, headline figures, top channels and games."""

    day: dt.date
    interval_minutes: int
    totals: OverviewTotals
    curve: CommunityCurve
    top_channels: list[TopChannel]
    top_games: list[TopGame]


class GameMinutes(BaseModel):
    """Minutes a broadcast (or channel) spent in one game."""

    game_name: str
    minutes: int


class Broadcast(BaseModel):
    """One broadcast: from Helix `started_at` to its last snapshot."""

    stream_id: str
    started_at: str
    ended_at: str
    duration_minutes: int
    peak_viewers: int
    avg_viewers: float
    viewer_hours: float
    main_game: str
    title: str
    games: list[GameMinutes]
    complete: bool = Field(
        description="false when the collection window cut it (started before the first "
        "snapshot, or still live at the last): its figures rest on part of it"
    )
    coverage: float = Field(description="its snapshots / grid times from start to last, 0..1")


class ScheduleChannel(BaseModel):
    """A channel on the day's schedule, with its broadcasts that overlap the day."""

    channel_login: str
    channel_name: str
    viewer_hours: float
    peak_viewers: int
    main_game: str
    broadcasts: list[Broadcast]


class Schedules(BaseModel):
    """Schedules page: who was live when, for the top channels of a day."""

    day: dt.date
    channels_live: int
    channels: list[ScheduleChannel]


class ChannelMatch(BaseModel):
    """A channel found by the search box."""

    channel_login: str
    channel_name: str
    last_day: dt.date
    viewer_hours: float = Field(description="viewer-hours over the loaded days")


class ChannelSearch(BaseModel):
    """Channels whose login or display name starts with the query."""

    q: str
    channels: list[ChannelMatch]


class ChannelIdentity(BaseModel):
    """Who the channel is, and the loaded days it was live."""

    channel_id: str
    channel_login: str
    channel_name: str
    first_day: dt.date
    last_day: dt.date


class ChannelCurve(BaseModel):
    """One channel per snapshot of one day."""

    ts: list[str]
    viewers: list[int]
    chatters: list[int | None] = Field(description="accounts in the chat; null under k")
    game: list[str]


class ChannelDay(BaseModel):
    """One channel's figures of one day."""

    day: dt.date
    airtime_hours: float
    peak_viewers: int
    avg_viewers: float
    viewer_hours: float
    main_game: str
    unique_chatters: int | None
    returning_chatters: int | None
    chatters_per_viewer: float | None
    bot_share: float | None
    complete: bool = Field(
        description="false when the day was not fully collected or chat lists were missed"
    )
    chat_snapshots_missed: int = Field(description="snapshots whose chat list was missed")


class ChannelGame(BaseModel):
    """A game the channel played in the period."""

    game_name: str
    minutes: int
    broadcasts: int


class Neighbour(BaseModel):
    """A channel sharing chatters with this one."""

    channel_login: str
    shared_chatters: int
    share_of_this: float = Field(description="shared / this channel's chatters")
    share_of_other: float = Field(description="shared / the other channel's chatters")
    jaccard: float


class ChannelView(BaseModel):
    """Channel page: broadcasts over recent weeks, the day's curve, games, neighbours."""

    channel: ChannelIdentity
    day: dt.date
    period_from: dt.date
    period_to: dt.date
    interval_minutes: int
    broadcasts: list[Broadcast]
    curve: ChannelCurve
    games: list[ChannelGame]
    days: list[ChannelDay]
    neighbours_window_days: int
    neighbours: list[Neighbour]


class MapNode(BaseModel):
    """A channel on the overlap map, placed by a force layout."""

    channel_login: str
    channel_name: str
    chatters: int = Field(description="people in the chat in the period (at least k)")
    main_game: str
    x: float
    y: float


class MapEdge(BaseModel):
    """Chatters shared by two channels (indexes into `nodes`)."""

    source: int
    target: int
    shared_chatters: int
    jaccard: float


class OverlapMap(BaseModel):
    """Community map: the strongest audience overlaps of a day or 7 days."""

    day: dt.date
    window_days: int
    days_covered: int | None = Field(
        description="days of the period with presence kept (under window_days: partial)"
    )
    pairs_total: int
    nodes: list[MapNode]
    edges: list[MapEdge]


class Heatmap(BaseModel):
    """People chatting per hour of week (UTC), over the 7 days ending on the day."""

    weekdays: list[str]
    dates: list[dt.date | None] = Field(description="the date shown in each weekday row")
    people: list[list[int | None]] = Field(description="7 × 24; null when under k or no data")
    share: list[list[float | None]] = Field(description="people / people active that day")


class HabitBucket(BaseModel):
    """One bar of a distribution (small buckets are merged upwards so each holds k)."""

    label: str
    bucket_min: int
    bucket_max: int | None
    value: int
    share: float


class Distribution(BaseModel):
    """A distribution from `viewer_habits`."""

    metric: str
    title: str
    unit: str
    buckets: list[HabitBucket]


class Habits(BaseModel):
    """Audience habits page: hour-of-week heatmap and distributions."""

    day: dt.date
    heatmap: Heatmap
    distributions: list[Distribution]


class UnicityPoint(BaseModel):
    """Share of people singled out by p random points of their own trace."""

    points: int
    unique_share: float
    ci_low: float
    ci_high: float
    sample_size: int


class CensusMeasure(BaseModel):
    """Share of people unique by one signature, counted over everybody."""

    measure: str
    label: str
    unique_share: float


class Exposure(BaseModel):
    """Exposure page: what a tracker could learn, in aggregate."""

    day: dt.date
    window_days: int
    population: int | None
    days_covered: int | None
    unicity: list[UnicityPoint]
    census: list[CensusMeasure]
    sentences: list[str]


class HealthDay(BaseModel):
    """The pipeline's figures for one loaded day."""

    day: dt.date
    snapshots_expected: int
    snapshots: int
    snapshots_complete: int
    snapshots_partial: int
    snapshots_missing: int
    requests: int
    retries: int
    api_errors: int
    http_429: int
    rate_limit_waits: int
    rate_limit_wait_seconds: float
    rate_limit_use: float | None = Field(
        description="requests per snapshot / the 800 points-per-minute budget of an interval"
    )
    missing_items: int
    raw_bytes: int
    curated_bytes: int
    presence_observations: int
    raw_bytes_per_observation: float | None
    curated_bytes_per_observation: float | None
    compression_ratio: float | None = Field(description="raw chatters bytes / curated bytes")
    quarantined_files: int
    presence_retired: bool
    day_complete: bool


class HealthTotals(BaseModel):
    """Totals over the days shown."""

    days: int
    snapshots_expected: int
    snapshots_complete: int
    snapshots_partial: int
    snapshots_missing: int
    api_errors: int
    http_429: int
    raw_bytes: int
    curated_bytes: int
    presence_observations: int
    quarantined_files: int


class Health(BaseModel):
    """Pipeline health page: per loaded day, up to the chosen day."""

    day: dt.date
    period_from: dt.date
    days: list[HealthDay]
    totals: HealthTotals
