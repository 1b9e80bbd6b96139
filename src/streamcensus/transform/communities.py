"""The `communities` model: audience communities found on the audience-overlap graph.

For each run day, each window (`WINDOWS`: the day, the 7 and the 30 days ending on it) and
each presence signal, the graph has one node per channel and one edge per *published*
`audience_overlap` pair (pairs sharing fewer than k people are not published, so nothing
here rests on a group under k, and no presence row is read):

- 1 and 7 days: the pairs of that window, weighted by their Jaccard index;
- 30 days: the one-day pairs of the 30 days summed (Σ daily Jaccard), since presence is
  kept 30 days at most and the published one-day pairs outlive it.

Communities are found by the Leiden algorithm (`leidenalg`, modularity, seeded: a reload
gives the same rows). Each community keeps an id across days: it inherits the id of the
previous day's community (same window and signal) it shares the most channels with, by
Jaccard of their channel sets, when that is at least `MATCH_MIN` (greedy, best match
first); otherwise it gets a new id. Its label is what its channels stream: the games with
the most viewer-hours among its channels over the window (`channel_day`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import igraph as ig
import leidenalg
import pyarrow as pa

from streamcensus.transform.context import SIGNALS, RunContext
from streamcensus.transform.engines import Queries

NAME = "communities"
INPUTS = ("audience_overlap", "channel_day", "run_days", "run_params")
GRAIN = "one row per day, window_days (1, 7 or 30), signal and channel"
WINDOWS = (1, 7, 30)
SUMMED_WINDOW = 30  # built from the one-day pairs of its days
MATCH_MIN = 0.3  # Jaccard of channel sets for a community to keep yesterday's id
LABEL_GAMES = 2  # games named in a label, at most
LABEL_SHARE = 0.15  # a second game is named when it has at least this share of hours

SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("window_days", pa.int32()),
        pa.field("signal", pa.string()),
        pa.field("channel_id", pa.string()),
        pa.field("channel_login", pa.string()),
        pa.field("main_game", pa.string()),
        pa.field("community_id", pa.int32()),
        pa.field("community_label", pa.string()),
        pa.field("community_channels", pa.int32()),
        pa.field("inside_share", pa.float64()),
        pa.field("matched_jaccard", pa.float64()),
        pa.field("modularity", pa.float64()),
    ]
)


@dataclass(frozen=True)
class Graph:
    """An undirected weighted graph of channels (ids sorted, edges as index pairs)."""

    channels: list[str]
    logins: dict[str, str]
    edges: list[tuple[int, int]]
    weights: list[float]


@dataclass(frozen=True)
class Partition:
    """Channels (in graph order) and the community index of each; its modularity."""

    membership: list[int]
    modularity: float


def graph_from_pairs(pairs: list[tuple[str, str, str | None, str | None, float]]) -> Graph:
    """A graph from (channel_a, channel_b, login_a, login_b, weight) rows."""
    logins: dict[str, str] = {}
    for a, b, login_a, login_b, _ in pairs:
        logins.setdefault(a, login_a or a)
        logins.setdefault(b, login_b or b)
    channels = sorted(logins)
    index = {c: i for i, c in enumerate(channels)}
    ordered = sorted((index[a], index[b], float(w)) for a, b, _, _, w in pairs if w > 0)
    return Graph(
        channels=channels,
        logins=logins,
        edges=[(a, b) for a, b, _ in ordered],
        weights=[w for _, _, w in ordered],
    )


def detect(graph: Graph, seed: int) -> Partition:
    """Leiden communities maximising modularity, deterministic for a seed."""
    if not graph.channels:
        return Partition([], 0.0)
    g = ig.Graph(n=len(graph.channels), edges=graph.edges)
    g.es["weight"] = graph.weights
    found = leidenalg.find_partition(
        g, leidenalg.ModularityVertexPartition, weights="weight", n_iterations=-1, seed=seed
    )
    membership = list(found.membership)
    return Partition(membership, float(g.modularity(membership, weights="weight")))


def match_ids(
    previous: dict[int, set[str]], found: list[set[str]], next_id: int
) -> tuple[list[int], list[float | None], int]:
    """Ids for the communities `found`: a previous id where the channel sets' Jaccard is
    at least `MATCH_MIN` (best matches first, each id once), else new ids from `next_id`
    (largest communities first). Returns the ids, the matched Jaccards and the next id."""
    scored: list[tuple[float, int, int]] = []
    for i, channels in enumerate(found):
        for pid, before in previous.items():
            shared = len(channels & before)
            if shared:
                jac = shared / len(channels | before)
                if jac >= MATCH_MIN:
                    scored.append((jac, pid, i))
    ids: list[int | None] = [None] * len(found)
    jaccards: list[float | None] = [None] * len(found)
    used: set[int] = set()
    for jac, pid, i in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if ids[i] is None and pid not in used:
            ids[i], jaccards[i] = pid, round(jac, 6)
            used.add(pid)
    for i in sorted(range(len(found)), key=lambda i: (-len(found[i]), min(found[i]))):
        if ids[i] is None:
            ids[i] = next_id
            next_id += 1
    return [int(i) for i in ids if i is not None], jaccards, next_id


def label(games: dict[str, float], fallback: str) -> str:
    """The dominant games of a community's channels ("A · B"), or `fallback`."""
    total = sum(games.values())
    if total <= 0:
        return fallback
    ranked = sorted(games.items(), key=lambda g: (-g[1], g[0]))
    named = [ranked[0][0]] + [
        name for name, hours in ranked[1:LABEL_GAMES] if hours >= LABEL_SHARE * total
    ]
    return " · ".join(named)


def _pairs(
    con: Queries, day: dt.date, window: int, signal: str
) -> list[tuple[str, str, str | None, str | None, float]]:
    if window == SUMMED_WINDOW:
        sql = (
            "select channel_a, channel_b, max(channel_login_a), max(channel_login_b), "
            "sum(jaccard) from audience_overlap where window_days = 1 and signal = ? "
            "and day between ? and ? group by channel_a, channel_b"
        )
        params: list[object] = [signal, day - dt.timedelta(days=window - 1), day]
    else:
        sql = (
            "select channel_a, channel_b, channel_login_a, channel_login_b, jaccard "
            "from audience_overlap where window_days = ? and signal = ? and day = ?"
        )
        params = [window, signal, day]
    return [(str(r[0]), str(r[1]), r[2], r[3], float(r[4])) for r in con.rows(sql, params)]


def _games(con: Queries, day: dt.date, window: int) -> dict[str, dict[str, float]]:
    """Viewer-hours of each channel's games over the window (by its main game per day)."""
    rows = con.rows(
        "select channel_id, main_game, sum(viewer_hours) from channel_day "
        "where day between ? and ? and main_game is not null and main_game <> '' "
        "group by channel_id, main_game",
        [day - dt.timedelta(days=window - 1), day],
    )
    found: dict[str, dict[str, float]] = {}
    for channel, game, hours in rows:
        found.setdefault(str(channel), {})[str(game)] = float(hours or 0.0)
    return found


class _Memory:
    """Yesterday's communities and the next free id of each (window, signal) series:
    from the warehouse for the run's first day, then from the rows built in the run."""

    def __init__(self, con: Queries) -> None:
        self._con = con
        self._has = con.has_table(NAME)
        self._built: dict[tuple[int, str], tuple[dt.date, dict[int, set[str]], int]] = {}

    def before(self, day: dt.date, window: int, signal: str) -> tuple[dict[int, set[str]], int]:
        built = self._built.get((window, signal))
        if built is not None and built[0] < day:
            return built[1], built[2]
        if not self._has:
            return {}, 1
        rows = self._con.rows(
            f"select community_id, channel_id from {NAME} where window_days = ? and signal = ? "
            f"and day = (select max(day) from {NAME} where window_days = ? and signal = ? "
            "and day < ?)",
            [window, signal, window, signal, day],
        )
        top = self._con.rows(
            f"select coalesce(max(community_id), 0) from {NAME} "
            "where window_days = ? and signal = ? and day < ?",
            [window, signal, day],
        )[0][0]
        previous: dict[int, set[str]] = {}
        for cid, channel in rows:
            previous.setdefault(int(cid), set()).add(str(channel))
        return previous, int(top) + 1

    def remember(
        self, day: dt.date, window: int, signal: str, found: dict[int, set[str]], next_id: int
    ) -> None:
        self._built[(window, signal)] = (day, found, next_id)


def _rows(
    con: Queries, day: dt.date, window: int, signal: str, seed: int, memory: _Memory
) -> list[dict[str, object]]:
    graph = graph_from_pairs(_pairs(con, day, window, signal))
    part = detect(graph, seed)
    groups: dict[int, set[str]] = {}
    for i, c in enumerate(part.membership):
        groups.setdefault(c, set()).add(graph.channels[i])
    order = sorted(groups)
    previous, next_id = memory.before(day, window, signal)
    ids, jaccards, next_id = match_ids(previous, [groups[c] for c in order], next_id)
    community = {c: (ids[k], jaccards[k]) for k, c in enumerate(order)}
    memory.remember(day, window, signal, {ids[k]: groups[c] for k, c in enumerate(order)}, next_id)
    games = _games(con, day, window)
    main = {
        c: max(g.items(), key=lambda item: (item[1], item[0]))[0] for c, g in games.items() if g
    }
    labels: dict[int, str] = {}
    for c in order:
        hours: dict[str, float] = {}
        for channel in groups[c]:
            for game, h in games.get(channel, {}).items():
                hours[game] = hours.get(game, 0.0) + h
        labels[c] = label(hours, f"community {community[c][0]}")
    inside = [0.0] * len(graph.channels)
    strength = [0.0] * len(graph.channels)
    for (a, b), w in zip(graph.edges, graph.weights, strict=True):
        strength[a] += w
        strength[b] += w
        if part.membership[a] == part.membership[b]:
            inside[a] += w
            inside[b] += w
    return [
        {
            "day": day,
            "window_days": window,
            "signal": signal,
            "channel_id": channel,
            "channel_login": graph.logins[channel],
            "main_game": main.get(channel),
            "community_id": community[part.membership[i]][0],
            "community_label": labels[part.membership[i]],
            "community_channels": len(groups[part.membership[i]]),
            "inside_share": round(inside[i] / strength[i], 6) if strength[i] else 0.0,
            "matched_jaccard": community[part.membership[i]][1],
            "modularity": round(part.modularity, 6),
        }
        for i, channel in enumerate(graph.channels)
    ]


def build(con: Queries, ctx: RunContext) -> pa.Table:
    """Rows of `communities` for the run's days (in order, so each day follows the last)."""
    memory = _Memory(con)
    rows: list[dict[str, object]] = []
    for day in sorted(ctx.run_days):
        for window in WINDOWS:
            for signal in SIGNALS:
                rows.extend(_rows(con, day, window, signal, ctx.params.seed, memory))
    return pa.Table.from_pylist(rows, schema=SCHEMA)
