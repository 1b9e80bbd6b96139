"""Community views: overview, schedules, habits and exposure.

Each function reads the serving tables of one day (or of the days ending on it) and
returns the payload of one page, sized for the view: one day's curve, the top channels
and games, the top channels' broadcasts, a 7 × 24 heatmap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from streamcensus.serve import channelrows
from streamcensus.serve import models as m
from streamcensus.serve.channelstore import is_store
from streamcensus.serve.reader import Reader, day_bounds, num, opt, people, ts

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class ViewContext:
    """Settings the views need: k (P3) and the snapshot interval."""

    k: int = 10
    interval_minutes: int = 5


SIGNALS: tuple[m.Signal, ...] = ("chat_list", "chat_activity")
DEFAULT_SIGNAL: m.Signal = "chat_activity"  # the whole community; chat lists only where read


def signals_of(reader: Reader, table: str, where: str, params: list[Any]) -> list[m.Signal]:
    """The signals a serving table has rows for, chat list first."""
    if not reader.has(table):
        return []
    found = {
        str(r["signal"])
        for r in reader.rows(f"select distinct signal from {table} where {where}", params)
    }
    return [s for s in SIGNALS if s in found]


def signal_series(
    reader: Reader, table: str, key: str, value: str, where: str, params: list[Any], k: int
) -> dict[str, dict[Any, int | None]]:
    """People counts of a table by signal and key (under k: None)."""
    found: dict[str, dict[Any, int | None]] = {}
    if reader.has(table):
        for r in reader.rows(f"select signal, {key}, {value} from {table} where {where}", params):
            found.setdefault(str(r["signal"]), {})[r[key]] = people(r[value], k)
    return found


def _curve(reader: Reader, day: dt.date, k: int) -> m.CommunityCurve:
    rows = (
        reader.rows(
            "select snapshot_ts, snapshot_status, live_channels, viewers, "
            "viewers_per_live_channel from community_timeseries "
            "where day = ? order by snapshot_ts",
            [day],
        )
        if reader.has("community_timeseries")
        else []
    )
    chatters = signal_series(
        reader, "community_chatters", "snapshot_ts", "chatters", "day = ?", [day], k
    )
    return m.CommunityCurve(
        ts=[ts(r["snapshot_ts"]) for r in rows],
        viewers=[None if r["viewers"] is None else int(r["viewers"]) for r in rows],
        chatters=[
            m.series(s, [chatters[s].get(r["snapshot_ts"]) for r in rows])
            for s in SIGNALS
            if s in chatters
        ],
        live_channels=[
            None if r["live_channels"] is None else int(r["live_channels"]) for r in rows
        ],
        viewers_per_live_channel=[opt(r["viewers_per_live_channel"], 2) for r in rows],
        status=[str(r["snapshot_status"]) for r in rows],
    )


def _totals(
    curve: m.CommunityCurve, channels_live: int, ctx: ViewContext, day_complete: bool
) -> m.OverviewTotals:
    n = len(curve.ts)
    known = [i for i, v in enumerate(curve.viewers) if v is not None]
    viewers = [curve.viewers[i] or 0 for i in known]
    live = [curve.live_channels[i] or 0 for i in known]
    peak = max(viewers, default=0)
    peaks = [
        m.SignalValue(
            signal=line.signal,
            label=line.label,
            value=max((v for v in line.values if v is not None), default=None),
        )
        for line in curve.chatters
    ]
    return m.OverviewTotals(
        snapshots=n,
        snapshots_expected=24 * 60 // ctx.interval_minutes,
        peak_viewers=peak,
        peak_viewers_at=curve.ts[known[viewers.index(peak)]] if known else None,
        avg_viewers=num(sum(viewers) / len(known), 2) if known else 0.0,
        viewer_hours=num(sum(viewers) * ctx.interval_minutes / 60),
        peak_live_channels=max(live, default=0),
        channels_live=channels_live,
        # total over total: a snapshot counts by its channels, not as one ratio among many
        viewers_per_live_channel=opt(sum(viewers) / sum(live), 2) if sum(live) else None,
        peak_chatters=peaks,
        day_complete=day_complete,
    )


def day_complete(reader: Reader, day: dt.date) -> bool:
    """False when the day was loaded before it was over (its figures are partial)."""
    if not reader.has("pipeline_health"):
        return True
    value = reader.value("select day_complete from pipeline_health where day = ?", [day])
    return value is None or bool(value)


def top_channels(reader: Reader, day: dt.date, limit: int, k: int) -> list[m.TopChannel]:
    """The day's channels with the most viewer-hours."""
    if not reader.has("channel_day"):
        return []
    rows = reader.rows(
        "select channel_login, channel_name, main_game, airtime_hours, peak_viewers, "
        "avg_viewers, viewer_hours, unique_chatters, chatters_per_viewer, signal from channel_day "
        "where day = ? order by viewer_hours desc, channel_login limit ?",
        [day, limit],
    )
    return [
        m.TopChannel(
            channel_login=r["channel_login"],
            channel_name=r["channel_name"],
            main_game=r["main_game"],
            airtime_hours=num(r["airtime_hours"]),
            peak_viewers=int(r["peak_viewers"]),
            avg_viewers=num(r["avg_viewers"], 2),
            viewer_hours=num(r["viewer_hours"]),
            unique_chatters=people(r["unique_chatters"], k),
            chatters_per_viewer=opt(r["chatters_per_viewer"])
            if people(r["unique_chatters"], k) is not None
            else None,
            signal=r["signal"],
        )
        for r in rows
    ]


def top_games(reader: Reader, day: dt.date, limit: int, ctx: ViewContext) -> list[m.TopGame]:
    """The day's games with the most viewer-hours."""
    if not reader.has("community_timeseries_by_game"):
        return []
    rows = reader.rows(
        "with games as (select game_id, max(game_name) as game_name, sum(viewers) as viewer_sum, "
        "max(viewers) as peak_viewers, max(live_channels) as peak_live_channels "
        "from community_timeseries_by_game where day = ? group by game_id) "
        "select *, sum(viewer_sum) over () as all_viewers from games "
        "order by viewer_sum desc, game_name limit ?",
        [day, limit],
    )
    return [
        m.TopGame(
            game_id=r["game_id"],
            game_name=r["game_name"],
            viewer_hours=num(int(r["viewer_sum"]) * ctx.interval_minutes / 60),
            share=num(int(r["viewer_sum"]) / int(r["all_viewers"])) if r["all_viewers"] else 0.0,
            peak_viewers=int(r["peak_viewers"]),
            peak_live_channels=int(r["peak_live_channels"]),
        )
        for r in rows
    ]


def overview(reader: Reader, day: dt.date, ctx: ViewContext, limit: int = 10) -> m.Overview:
    """Overview page of `day`."""
    curve = _curve(reader, day, ctx.k)
    channels_live = (
        int(reader.value("select count(*) from channel_day where day = ?", [day]) or 0)
        if reader.has("channel_day")
        else 0
    )
    return m.Overview(
        day=day,
        interval_minutes=ctx.interval_minutes,
        totals=_totals(curve, channels_live, ctx, day_complete(reader, day)),
        curve=curve,
        top_channels=top_channels(reader, day, limit, ctx.k),
        top_games=top_games(reader, day, limit, ctx),
    )


def broadcast_games(
    reader: Reader, broadcasts: list[dict[str, Any]]
) -> dict[str, list[m.GameMinutes]]:
    """Games of each broadcast (`stream_sessions` rows), in the order they were played.

    A broadcast's games have its `day` (the UTC day it started), so the query reads only
    the days of `broadcasts` (one channel's rows, with the per-channel tables)."""
    if not broadcasts or not reader.has("stream_session_games"):
        return {}
    days = [r["day"] for r in broadcasts]
    ids = [r["stream_id"] for r in broadcasts]
    if is_store(reader):
        rows = channelrows.broadcast_games(reader, min(days), max(days), ids)
    else:
        rows = reader.rows(
            "select stream_id, game_name, minutes from stream_session_games "
            "where day between ? and ? and list_contains(?, stream_id) "
            "order by stream_id, first_seen, game_id",
            [min(days), max(days), ids],
        )
    games: dict[str, list[m.GameMinutes]] = {}
    for r in rows:
        games.setdefault(r["stream_id"], []).append(
            m.GameMinutes(game_name=r["game_name"], minutes=int(r["minutes"]))
        )
    return games


def broadcast(row: dict[str, Any], games: dict[str, list[m.GameMinutes]]) -> m.Broadcast:
    """A `stream_sessions` row as a payload."""
    return m.Broadcast(
        stream_id=row["stream_id"],
        started_at=ts(row["started_at"]),
        ended_at=ts(row["ended_at"]),
        duration_minutes=int(row["duration_minutes"]),
        peak_viewers=int(row["peak_viewers"]),
        avg_viewers=num(row["avg_viewers"], 2),
        viewer_hours=num(row["viewer_hours"]),
        main_game=row["main_game"],
        title=row["last_title"] or "",
        games=games.get(row["stream_id"], []),
        complete=bool(row["complete"]),
        coverage=num(row["coverage"]),
    )


BROADCAST_COLUMNS = (
    "s.stream_id, s.day, s.channel_id, s.started_at, s.ended_at, s.duration_minutes, "
    "s.peak_viewers, s.avg_viewers, s.viewer_hours, s.main_game, s.last_title, "
    "s.complete, s.coverage"
)


def schedules(reader: Reader, day: dt.date, limit: int = 25) -> m.Schedules:
    """The top channels of `day` (by viewer-hours) with their broadcasts overlapping it."""
    if not reader.has("channel_day", "stream_sessions"):
        return m.Schedules(day=day, channels_live=0, channels=[])
    ranked = reader.rows(
        "select channel_id, channel_login, channel_name, viewer_hours, peak_viewers, main_game "
        "from channel_day where day = ? order by viewer_hours desc, channel_login limit ?",
        [day, limit],
    )
    start, end = day_bounds(day)
    ids = [r["channel_id"] for r in ranked]
    rows = reader.rows(
        f"select {BROADCAST_COLUMNS} from stream_sessions as s "
        "where list_contains(?, s.channel_id) and s.started_at < ? and s.ended_at >= ? "
        "order by s.started_at, s.stream_id",
        [ids, end, start],
    )
    games = broadcast_games(reader, rows)
    by_channel: dict[str, list[m.Broadcast]] = {}
    for r in rows:
        by_channel.setdefault(r["channel_id"], []).append(broadcast(r, games))
    channels_live = int(reader.value("select count(*) from channel_day where day = ?", [day]))
    return m.Schedules(
        day=day,
        channels_live=channels_live,
        channels=[
            m.ScheduleChannel(
                channel_login=r["channel_login"],
                channel_name=r["channel_name"],
                viewer_hours=num(r["viewer_hours"]),
                peak_viewers=int(r["peak_viewers"]),
                main_game=r["main_game"],
                broadcasts=by_channel.get(r["channel_id"], []),
            )
            for r in ranked
        ],
    )


DISTRIBUTIONS = {
    "sessions_per_viewer": "Viewing sessions per person in the day",
    "channels_per_viewer": "Channels per person in the day",
    "session_minutes": "Length of viewing sessions (minutes)",
    "days_active_per_week": "Days active in the 7 days ending on the day",
}


def bucket_label(low: int, high: int | None) -> str:
    """`3`, `4–5` or `11+`."""
    if high is None:
        return f"{low}+"
    if high == low:
        return f"{low}"
    return f"{low}–{high}"


def habits(reader: Reader, day: dt.date, signal: m.Signal = DEFAULT_SIGNAL) -> m.Habits:
    """Hour-of-week heatmap over the 7 days ending on `day`, and the day's distributions,
    of one signal."""
    dates: list[dt.date | None] = [None] * 7
    counts: list[list[int | None]] = [[None] * 24 for _ in range(7)]
    shares: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    distributions: list[m.Distribution] = []
    if reader.has("viewer_habits"):
        first = day - dt.timedelta(days=6)
        for r in reader.rows(
            "select day, bucket, value, share from viewer_habits where metric = 'hour_of_week' "
            "and signal = ? and day between ? and ? order by day, bucket",
            [signal, first, day],
        ):
            weekday, hour = divmod(int(r["bucket"]), 24)
            if 0 <= weekday < 7:
                dates[weekday] = r["day"]
                counts[weekday][hour] = int(r["value"])
                shares[weekday][hour] = num(r["share"])
        loaded = set(reader.loaded_days())
        for d in range(7):
            shown = first + dt.timedelta(days=d)
            if dates[shown.weekday()] is None and shown in loaded:
                dates[shown.weekday()] = shown
        rows = reader.rows(
            "select metric, unit, bucket, bucket_min, bucket_max, value, share "
            "from viewer_habits where day = ? and signal = ? and metric <> 'hour_of_week' "
            "order by metric, bucket",
            [day, signal],
        )
        for metric, title in DISTRIBUTIONS.items():
            buckets = [r for r in rows if r["metric"] == metric]
            if not buckets:
                continue
            distributions.append(
                m.Distribution(
                    metric=metric,
                    title=title,
                    unit=str(buckets[0]["unit"]),
                    buckets=[
                        m.HabitBucket(
                            label=bucket_label(int(b["bucket_min"]), b["bucket_max"]),
                            bucket_min=int(b["bucket_min"]),
                            bucket_max=None if b["bucket_max"] is None else int(b["bucket_max"]),
                            value=int(b["value"]),
                            share=num(b["share"]),
                        )
                        for b in buckets
                    ],
                )
            )
    return m.Habits(
        day=day,
        signal=signal,
        signal_label=m.SIGNAL_LABELS[signal],
        signals=signals_of(reader, "viewer_habits", "day = ?", [day]),
        heatmap=m.Heatmap(weekdays=WEEKDAYS, dates=dates, people=counts, share=shares),
        distributions=distributions,
    )


CENSUS_LABELS = {
    "channel_set": "their exact set of channels",
    "top3_channels": "their three most-watched channels",
    "hour_pattern": "the hours of the day they chat in",
}


def _percent(share: float) -> str:
    value = share * 100
    if value == 0:
        return "0%"
    if value < 1:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def exposure_sentences(view: m.Exposure, day: dt.date) -> list[str]:
    """The exposure figures in plain words."""
    if view.population is None:
        return [
            f"No exposure figures for {day.isoformat()}: fewer than k people chatted "
            "in this period, so nothing is published."
        ]
    period = (
        f"on {day.isoformat()}"
        if view.window_days == 1
        else f"in the {view.window_days} days ending on {day.isoformat()}"
    )
    covered = (
        f" (data for {view.days_covered} of those days)"
        if view.window_days > 1 and view.days_covered is not None
        else ""
    )
    sentences = [
        f"{view.population:,} people chatted {period}{covered}, bots excluded. A tracker "
        "that saw every chat list would know, for each of them, which channels they were in "
        "and at which hours."
    ]
    for point in view.unicity:
        if point.points in (1, 2, 4):
            plural = "point" if point.points == 1 else "points"
            known = f"Knowing {point.points} random (channel, hour) {plural} of someone's activity"
            if point.unique_share == 0:
                sentences.append(
                    f"{known} singles out nobody in the sample of {point.sample_size:,} "
                    f"(95% interval up to {_percent(point.ci_high)} of people)."
                )
            else:
                sentences.append(
                    f"{known} is enough to single out {_percent(point.unique_share)} of people "
                    f"(95% interval {_percent(point.ci_low)}–{_percent(point.ci_high)})."
                )
    for measure in view.census:
        sentences.append(
            f"{_percent(measure.unique_share)} of people are the only ones with {measure.label}."
        )
    sentences.append(
        "This is why streamcensus publishes only aggregates of at least k people and deletes "
        "pseudonymous presence after the retention period: the raw chat lists would make "
        "many people easy to pick out."
    )
    return sentences


def exposure(
    reader: Reader, day: dt.date, window: int, signal: m.Signal = DEFAULT_SIGNAL
) -> m.Exposure:
    """Unicity and census uniqueness of `day` over a 1- or 7-day window, in one signal."""
    rows = (
        reader.rows(
            "select measure, points, population, days_covered, sample_size, unique_share, "
            "ci_low, ci_high from exposure where day = ? and window_days = ? and signal = ? "
            "order by measure, points",
            [day, window, signal],
        )
        if reader.has("exposure")
        else []
    )
    unicity = [
        m.UnicityPoint(
            points=int(r["points"]),
            unique_share=num(r["unique_share"], 6),
            ci_low=num(r["ci_low"], 6),
            ci_high=num(r["ci_high"], 6),
            sample_size=int(r["sample_size"]),
        )
        for r in rows
        if r["measure"] == "unicity"
    ]
    census = [
        m.CensusMeasure(
            measure=name,
            label=label,
            unique_share=num(r["unique_share"], 6),
        )
        for name, label in CENSUS_LABELS.items()
        for r in rows
        if r["measure"] == name
    ]
    view = m.Exposure(
        day=day,
        window_days=window,
        signal=signal,
        signal_label=m.SIGNAL_LABELS[signal],
        signals=signals_of(reader, "exposure", "day = ? and window_days = ?", [day, window]),
        population=int(rows[0]["population"]) if rows else None,
        days_covered=int(rows[0]["days_covered"]) if rows else None,
        unicity=unicity,
        census=census,
        sentences=[],
    )
    view.sentences = exposure_sentences(view, day)
    return view
