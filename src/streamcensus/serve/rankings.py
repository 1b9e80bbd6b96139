"""Rankings and games: the `rankings`, `game_day` and `game_channel_day` tables as JSON.

Every figure is read as the models stored it: viewer figures are public per-channel
counts, and chatters are already published values (noisy, null under k, P3), so nothing
here can show a count of people under k; the changes against the previous period were
computed in the warehouse from those published values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from streamcensus.serve import models as m
from streamcensus.serve import ranking_models as r
from streamcensus.serve.reader import Reader, num, opt
from streamcensus.transform.rankings import KINDS, WINDOWS

__all__ = ["KINDS", "WINDOWS", "find_game", "game_view", "games", "rankings", "top_games"]

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
GAME_CHANNELS = 25  # channels listed on a game's page


def _figure(row: dict[str, Any] | None) -> r.Figure:
    if row is None:
        return r.Figure(current=None, previous=None, change=None, change_pct=None, rank=None)
    return r.Figure(
        current=opt(row["value"]),
        previous=opt(row["previous_value"]),
        change=opt(row["change"]),
        change_pct=opt(row["change_pct"]),
        rank=None if row["rank"] is None else int(row["rank"]),
    )


def _period(window: int, rows: list[dict[str, Any]]) -> r.Period:
    covered = max((int(x["days_covered"]) for x in rows), default=0)
    before = max((int(x["previous_days_covered"]) for x in rows), default=0)
    return r.Period(
        window_days=window,
        days_covered=covered,
        previous_days_covered=before,
        complete=covered == window,
    )


def _subjects(
    reader: Reader, day: dt.date, window: int, kind: str, signal: str, ids: list[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every measure of the subjects `ids`: subject → measure → row."""
    if not ids:
        return {}
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for row in reader.rows(
        "select * from rankings where day = ? and window_days = ? and kind = ? "
        "and list_contains(?, subject_id) and (signal is null or signal = ?)",
        [day, window, kind, ids, signal],
    ):
        found.setdefault(str(row["subject_id"]), {})[str(row["measure"])] = row
    return found


def _ranked(subject: str, position: int, measures: dict[str, dict[str, Any]]) -> r.RankedSubject:
    any_row = next(iter(measures.values()))
    return r.RankedSubject(
        rank=position,
        id=subject,
        channel_login=any_row["subject_login"],
        name=str(any_row["subject_name"] or any_row["subject_login"] or subject),
        main_game=any_row["main_game"],
        hours_watched=_figure(measures.get("hours_watched")),
        peak_viewers=_figure(measures.get("peak_viewers")),
        avg_viewers=_figure(measures.get("avg_viewers")),
        airtime_hours=_figure(measures.get("airtime_hours")),
        chatters=_figure(measures.get("chatters")),
    )


def _coverage(reader: Reader, day: dt.date, window: int, signal: str) -> tuple[r.Period, r.Period]:
    rows = reader.rows(
        "select measure = 'chatters' as people, max(days_covered) as days_covered, "
        "max(previous_days_covered) as previous_days_covered from rankings "
        "where day = ? and window_days = ? and (signal is null or signal = ?) group by 1",
        [day, window, signal],
    )
    viewers = [x for x in rows if not x["people"]]
    chatters = [x for x in rows if x["people"]]
    return _period(window, viewers), _period(window, chatters)


def rankings(
    reader: Reader,
    day: dt.date,
    window: int,
    kind: r.Kind,
    by: r.Measure,
    signal: m.Signal,
    limit: int,
) -> r.Rankings:
    """The `limit` channels or games with the largest `by` over the window ending on `day`
    (subjects whose figure is null, e.g. chatters under k, are not ranked)."""
    empty_period = r.Period(
        window_days=window, days_covered=0, previous_days_covered=0, complete=False
    )
    result = r.Rankings(
        day=day,
        window_days=window,
        kind=kind,
        by=by,
        signal=signal,
        signal_label=m.SIGNAL_LABELS[signal],
        period=empty_period,
        chatters_period=empty_period,
        subjects=[],
    )
    if not reader.has("rankings"):
        return result
    top = reader.rows(
        "select subject_id, rank from rankings where day = ? and window_days = ? and kind = ? "
        "and measure = ? and (signal is null or signal = ?) and rank is not null "
        "order by rank limit ?",
        [day, window, kind, by, signal, limit],
    )
    ids = [str(x["subject_id"]) for x in top]
    found = _subjects(reader, day, window, kind, signal, ids)
    period, chatters_period = _coverage(reader, day, window, signal)
    return result.model_copy(
        update={
            "period": period,
            "chatters_period": chatters_period,
            "subjects": [
                _ranked(s, int(x["rank"]), found[s]) for s, x in zip(ids, top, strict=True)
            ],
        }
    )


def _first_day(day: dt.date, window: int) -> dt.date:
    return day - dt.timedelta(days=window - 1)


def games(reader: Reader, day: dt.date, window: int, signal: m.Signal, limit: int) -> r.Games:
    """The games of the window by hours watched, with their share of all hours watched,
    their channels and the channel with the most hours in each."""
    ranked = rankings(reader, day, window, "games", "hours_watched", signal, limit)
    result = r.Games(
        day=day,
        window_days=window,
        signal=signal,
        signal_label=m.SIGNAL_LABELS[signal],
        period=ranked.period,
        hours_watched=0.0,
        games=[],
    )
    if not ranked.subjects or not reader.has("game_channel_day"):
        return result
    first = _first_day(day, window)
    total = num(
        reader.value(
            "select sum(value) from rankings where day = ? and window_days = ? "
            "and kind = 'games' and measure = 'hours_watched'",
            [day, window],
        )
    )
    ids = [g.id for g in ranked.subjects]
    channels = {
        str(x["game_id"]): (int(x["channels"]), x["top_channel"])
        for x in reader.rows(
            "select game_id, count(*) as channels, arg_max(channel_login, hours) as top_channel "
            "from (select game_id, channel_id, max(channel_login) as channel_login, "
            "sum(viewer_hours) as hours from game_channel_day where day between ? and ? "
            "and list_contains(?, game_id) group by game_id, channel_id) group by game_id",
            [first, day, ids],
        )
    }
    return result.model_copy(
        update={
            "hours_watched": total,
            "games": [
                r.GameSummary(
                    game=g,
                    share_of_hours=num((g.hours_watched.current or 0.0) / total if total else 0.0),
                    channels=channels.get(g.id, (0, None))[0],
                    top_channel=channels.get(g.id, (0, None))[1],
                )
                for g in ranked.subjects
            ],
        }
    )


def top_games(reader: Reader, first: dt.date, last: dt.date, limit: int) -> list[str]:
    """Ids of the games with the most hours watched from `first` to `last`."""
    if not reader.has("game_day"):
        return []
    return [
        str(x["game_id"])
        for x in reader.rows(
            "select game_id from game_day where day between ? and ? group by game_id "
            "order by sum(viewer_hours) desc, game_id limit ?",
            [first, last, limit],
        )
    ]


def find_game(reader: Reader, game_id: str) -> str | None:
    """The latest name of the game with this id, or None when no loaded day has it."""
    if not reader.has("game_day"):
        return None
    name = reader.value("select arg_max(game_name, day) from game_day where game_id = ?", [game_id])
    return None if name is None else str(name)


def _when(reader: Reader, game_id: str, first: dt.date, last: dt.date, minutes: int) -> r.GameHours:
    hours = list(range(24))
    matrix = [[0.0] * 24 for _ in WEEKDAYS]
    per_hour = [0.0] * 24
    if reader.has("community_timeseries_by_game"):
        rows = reader.rows(
            "select isodow(snapshot_ts) as weekday, hour(snapshot_ts) as hour, "
            "sum(viewers) as viewers, sum(live_channels) as channels, count(*) as snapshots "
            "from community_timeseries_by_game where game_id = ? and day between ? and ? "
            "group by 1, 2",
            [game_id, first, last],
        )
        slots = reader.rows(
            "select hour(snapshot_ts) as hour, count(distinct snapshot_id) as snapshots "
            "from community_timeseries where day between ? and ? group by 1",
            [first, last],
        )
        taken = {int(x["hour"]): int(x["snapshots"]) for x in slots}
        channels = [0] * 24
        for x in rows:
            weekday, hour = int(x["weekday"]) - 1, int(x["hour"])
            matrix[weekday][hour] = num(int(x["viewers"]) * minutes / 60)
            channels[hour] += int(x["channels"])
        per_hour = [num(channels[h] / taken[h], 2) if taken.get(h) else 0.0 for h in hours]
    return r.GameHours(weekdays=WEEKDAYS, hours=hours, viewer_hours=matrix, avg_channels=per_hour)


def game_view(
    reader: Reader,
    game_id: str,
    name: str,
    day: dt.date,
    window: int,
    signal: m.Signal,
    minutes: int,
    limit: int = GAME_CHANNELS,
) -> r.GameView:
    """A game over the window ending on `day`: its figures and their change, its days,
    when it is watched, and the channels that stream it."""
    first = _first_day(day, window)
    measures = (
        _subjects(reader, day, window, "games", signal, [game_id]) if reader.has("rankings") else {}
    )
    figures = None
    if game_id in measures:
        rank = measures[game_id].get("hours_watched", {}).get("rank")
        figures = _ranked(game_id, int(rank or 0), measures[game_id])
    period, _ = (
        _coverage(reader, day, window, signal)
        if reader.has("rankings")
        else (
            r.Period(window_days=window, days_covered=0, previous_days_covered=0, complete=False),
            None,
        )
    )
    days = (
        reader.rows(
            "select day, viewer_hours, peak_viewers, avg_viewers, airtime_hours, channels "
            "from game_day where game_id = ? and day between ? and ? order by day",
            [game_id, first, day],
        )
        if reader.has("game_day")
        else []
    )
    played = (
        reader.rows(
            "select channel_id, arg_max(channel_login, day) as login, "
            "arg_max(channel_name, day) as name, sum(viewer_hours) as hours, "
            "sum(airtime_hours) as airtime, max(peak_viewers) as peak from game_channel_day "
            "where game_id = ? and day between ? and ? group by channel_id "
            "order by hours desc, login limit ?",
            [game_id, first, day, limit],
        )
        if reader.has("game_channel_day")
        else []
    )
    total = sum(float(x["viewer_hours"]) for x in days)
    return r.GameView(
        day=day,
        window_days=window,
        id=game_id,
        name=name,
        signal=signal,
        signal_label=m.SIGNAL_LABELS[signal],
        period=period,
        figures=figures,
        days=[
            r.GameDay(
                day=x["day"],
                hours_watched=num(x["viewer_hours"]),
                peak_viewers=int(x["peak_viewers"]),
                avg_viewers=num(x["avg_viewers"], 2),
                airtime_hours=num(x["airtime_hours"]),
                channels=int(x["channels"]),
            )
            for x in days
        ],
        when=_when(reader, game_id, first, day, minutes),
        channels=[
            r.GameChannel(
                channel_login=str(x["login"]),
                channel_name=str(x["name"] or x["login"]),
                hours_watched=num(x["hours"]),
                airtime_hours=num(x["airtime"]),
                peak_viewers=int(x["peak"]),
                share_of_hours=num(float(x["hours"]) / total if total else 0.0),
            )
            for x in played
        ],
    )
