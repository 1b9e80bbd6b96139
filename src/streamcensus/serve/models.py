"""Typed payloads of the JSON API: what each dashboard view receives, and nothing more.

Every count of people in these payloads (chatters, shared chatters, returning chatters,
population, habit buckets) is at least k or null (P3), whichever signal it comes from:
`chat_list` ("people in the chat list": Helix Get Chatters, lurkers included, only channels
whose broadcaster consents or that the operator moderates) or `chat_activity` ("people who
posted": anonymous chat, every joined channel); each payload says which. Viewer counts (`viewers`,
`peak_viewers`, `viewer_hours`) are Twitch's public per-channel `viewer_count` figures.
Times are RFC 3339 strings in UTC (`2026-11-26T20:00:00Z`); curves are columnar (one list
per series) to keep payloads small.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Signal = Literal["chat_list", "chat_activity"]
# how the dashboard names what a signal counts (one home: the pages show these labels)
SIGNAL_LABELS: dict[str, str] = {
    "chat_list": "people in the chat list",
    "chat_activity": "people who posted",
}


class SignalSeries(BaseModel):
    """A curve of people counts from one signal (null under k or where not read)."""

    signal: Signal
    label: str = Field(description="what the signal counts, in words")
    values: list[int | None]


class SignalValue(BaseModel):
    """One people count from one signal (null under k)."""

    signal: Signal
    label: str
    value: int | None


def series(signal: str, values: list[int | None]) -> SignalSeries:
    """A `SignalSeries` with the signal's label."""
    return SignalSeries(signal=signal, label=SIGNAL_LABELS[signal], values=values)  # type: ignore[arg-type]


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
    chatters: list[SignalSeries] = Field(
        description="per signal: people in any chat read, the hour's average per snapshot "
        "(one value per hour); null under k or not read"
    )
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
    peak_chatters: list[SignalValue] = Field(description="per signal, null under k")
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
    signal: Signal | None = Field(
        description="what unique_chatters counts: the chat list where read, else who posted"
    )


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
    chatters: list[SignalSeries] = Field(
        description="per signal: people in the chat, the hour's average per snapshot "
        "(one value per hour); null under k or not read"
    )
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
    signal: Signal | None = Field(
        description="the signal the chatter figures come from: the chat list where the "
        "channel has one that day, else chat activity; null when neither was read"
    )
    has_chat_list: bool
    has_chat_activity: bool
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


class FollowerDay(BaseModel):
    """Follower totals of a channel on one day (a public per-channel figure: no k)."""

    day: dt.date
    followers: int
    gained_day: int
    gained_7d: int


class ChannelFollowers(BaseModel):
    """The follower curve (hourly readings) and growth per day of a channel."""

    ts: list[str]
    followers: list[int]
    days: list[FollowerDay]


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
    neighbours_signal: Signal | None = Field(description="the signal the overlaps rest on")
    neighbours: list[Neighbour]
    followers: ChannelFollowers


class MapNode(BaseModel):
    """A channel on the overlap map, placed by a force layout."""

    channel_login: str
    channel_name: str
    chatters: int = Field(description="people in the chat in the period (at least k)")
    main_game: str
    x: float
    y: float
    community_id: int | None = Field(
        default=None, description="its audience community that period (null: none found)"
    )
    community_label: str | None = None


class MapCommunity(BaseModel):
    """An audience community on the map, with the logins of its channels shown."""

    community_id: int
    label: str
    channels: int = Field(description="its channels in all, shown or not")
    shown: list[str]


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
    signal: Signal
    signal_label: str
    signals: list[Signal] = Field(description="signals with overlaps published that period")
    days_covered: int | None = Field(
        description="days of the period with presence kept (under window_days: partial)"
    )
    pairs_total: int
    nodes: list[MapNode]
    edges: list[MapEdge]
    communities: list[MapCommunity] = Field(
        default_factory=list, description="the communities of the channels shown"
    )


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
    signal: Signal
    signal_label: str
    signals: list[Signal] = Field(description="signals with habits published that day")
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
    signal: Signal
    signal_label: str
    signals: list[Signal] = Field(description="signals with exposure published that period")
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
    chat_list_readers: int = Field(description="user tokens that read chat lists that day")
    chat_list_tokens_tripped: int = Field(description="of which tripped (see `readers`)")
    chat_list_channels_affected: int = Field(
        description="listed channels the tripped tokens could then not read"
    )
    activity_observations: int = Field(description="who-posted rows loaded (chat activity)")
    chat_windows: int = Field(description="channel windows of chat activity")
    chat_windows_partial: int
    chat_windows_not_joined: int
    chat_partial_share: float | None = Field(description="partial / chat_windows, 0..1")
    chat_channels_not_joined: int
    followers_readings: int = Field(description="hourly follower readings that day")
    followers_readings_complete: int
    followers_readings_partial: int
    followers_readings_no_token: int


class TokenDay(BaseModel):
    """A user token that reads chat lists, on one day (its user is the operator or a
    consenting broadcaster, never a viewer)."""

    day: dt.date
    reader_login: str
    ground: Literal["consent", "moderation"]
    state: str = Field(description="at the day's last snapshot: ok or unusable")
    tripped: bool
    reason: str
    tripped_at: str | None
    channels_affected: int


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
    tokens: list[TokenDay] = Field(description="chat-list tokens per day, tripped first")


class ChatListChannel(BaseModel):
    """A channel whose chat list was read, and on what ground (channels only: no viewer)."""

    channel_login: str
    channel_name: str
    ground: Literal["consent", "moderation"]
    snapshots: int = Field(description="snapshots whose chat list was read on this ground")
    first_read: str
    last_read: str


class ChatLists(BaseModel):
    """Whose chat lists streamcensus read on a day, and why it may."""

    day: dt.date
    by_consent: int = Field(description="channels read with their broadcaster's consent")
    by_moderation: int = Field(description="channels read as their moderator")
    channels: list[ChatListChannel]


class FollowerRank(BaseModel):
    """A channel's follower growth (a public per-channel figure: no k)."""

    channel_login: str
    channel_name: str
    followers: int
    gained: int
    gained_since: str


class FollowerRanking(BaseModel):
    """Channels ranked by followers gained in the day or in the 7 days ending on it."""

    day: dt.date
    window_days: int
    channels: list[FollowerRank]


class CommunityChannel(BaseModel):
    """A channel of an audience community."""

    channel_login: str
    channel_name: str
    main_game: str = Field(description="its game with the most viewer-hours in the period")
    inside_share: float = Field(
        description="share of its audience-overlap weight that joins it to its own community"
    )


class Community(BaseModel):
    """A group of channels whose audiences overlap more than chance (modularity)."""

    community_id: int = Field(description="kept from day to day while its channels stay")
    label: str = Field(description="the games with the most viewer-hours among its channels")
    channels: int
    games: list[str] = Field(description="its channels' most common main games")
    since: dt.date = Field(description="first loaded day with this id in the period's series")
    matched_jaccard: float | None = Field(
        description="Jaccard of its channels with the previous day's community of the same id "
        "(null: a new community)"
    )
    members: list[CommunityChannel]


class Communities(BaseModel):
    """Audience communities of a day, in one window and presence signal."""

    day: dt.date
    window_days: int
    signal: Signal
    signal_label: str
    signals: list[Signal] = Field(description="signals with communities that period")
    modularity: float | None = Field(description="modularity of the partition (-0.5..1)")
    channels: int = Field(description="channels with at least one published overlap")
    communities: list[Community]


class CommunityDay(BaseModel):
    """A channel's community on one day."""

    day: dt.date
    community_id: int
    label: str
    channels: int


class CommunityHistory(BaseModel):
    """A channel's community, day by day."""

    channel_login: str
    window_days: int
    signal: Signal
    days: list[CommunityDay]
