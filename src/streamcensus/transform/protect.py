"""Publication of people counts (P3): noise, then k, then ratios, on a model's new rows.

The SQL models that feed serving tables compute exact counts of people; before their rows
are materialised, the runner hands them here (`apply`), in Python, after the SQL and on
every engine alike. For each model listed in `PROTECTED`:

1. every people count gets seeded discrete Laplace noise by figure identity (`noise.py`);
2. k is applied to the noisy value (null, or the row dropped, below k);
3. every ratio built from a people count (shares, Jaccard, bot share, chatters per viewer)
   is computed from the noisy counts only;
4. helper columns (`raw_*`: exact denominators the ratios need) are dropped.

So the serving tables hold only protected values, and the API and the export, which read
them, publish each figure once, the same everywhere. The exact counts stay in the internal
tables (`int_*`, the curated viewing sessions), which nothing publishes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from streamcensus.transform.context import RunContext
from streamcensus.transform.noise import FigureNoise, accuracy, figure_id
from streamcensus.warehouse.connection import Connection

Columns = dict[str, list[Any]]
Protector = Callable[[Columns, FigureNoise, int], tuple[Columns, list[bool]]]
HELPER_PREFIX = "raw_"
PAIR_ALPHA = 0.05  # the pair threshold's margin: the noise's bound at this level


def _ids(kind: str, cols: Columns, *keys: str) -> list[str]:
    return [figure_id(kind, *vals) for vals in zip(*(cols[k] for k in keys), strict=True)]


def _at_least(values: list[int | None], k: int) -> list[int | None]:
    return [v if v is not None and v >= k else None for v in values]


def _ratio(num: list[Any], den: list[Any], digits: int) -> list[float | None]:
    return [
        None if n is None or not d else round(min(1.0, float(n) / float(d)), digits)
        for n, d in zip(num, den, strict=True)
    ]


def snapshot_channels(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """A chat's people at one snapshot (the channel page's curve): `published_chatters`."""
    people = [
        None if c is None else int(c) - int(kb or 0) - int(mc or 0)
        for c, kb, mc in zip(
            cols["chatters"], cols["known_bot_chatters"], cols["multi_chat_chatters"], strict=True
        )
    ]
    ids = _ids("chat_people", cols, "snapshot_id", "channel_id", "signal")
    cols["published_chatters"] = _at_least(noise.counts(ids, people), k)
    return cols, [True] * len(people)


def stream_sessions(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """A broadcast's peak and average people in chat."""
    peak = noise.counts(_ids("stream_peak", cols, "stream_id", "signal"), cols["peak_chatters"])
    avg = noise.means(_ids("stream_avg", cols, "stream_id", "signal"), cols["avg_chatters"])
    cols["peak_chatters"] = _at_least(peak, k)
    cols["avg_chatters"] = [None if a is None or a < k else round(max(a, 0.0), 2) for a in avg]
    # a peak under its own average would betray the noise: the average is capped
    cols["avg_chatters"] = [
        None if a is None or p is None else min(a, float(p))
        for a, p in zip(cols["avg_chatters"], cols["peak_chatters"], strict=True)
    ]
    return cols, [True] * len(peak)


def bot_share(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """People, bots and the bot share of a chat on a day; chats under k people dropped."""
    keys = ("day", "channel_id", "signal")
    people = noise.counts(_ids("channel_people", cols, *keys), cols["people"])
    known = noise.counts(_ids("channel_known_bots", cols, *keys), cols["known_bots"])
    multi = noise.counts(_ids("channel_multi_chat", cols, *keys), cols["multi_chat_accounts"])
    accounts = [
        int(p or 0) + int(a or 0) + int(b or 0)
        for p, a, b in zip(people, known, multi, strict=True)
    ]
    cols["people"], cols["known_bots"], cols["multi_chat_accounts"] = people, known, multi
    cols["chatters"] = accounts
    bots = [int(a or 0) + int(b or 0) for a, b in zip(known, multi, strict=True)]
    cols["bot_share"] = _ratio(bots, accounts, 4)
    return cols, [p is not None and p >= k for p in people]


def channel_day_presence(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """A chat's people, returning people and average people per snapshot on a day."""
    keys = ("day", "channel_id", "signal")
    # the same figure as bot_share.people: the same identity, so the same noisy value
    unique = noise.counts(_ids("channel_people", cols, *keys), cols["unique_chatters"])
    back = noise.counts(_ids("channel_returning", cols, *keys), cols["returning_chatters"])
    avg = noise.means(_ids("channel_avg_people", cols, *keys), cols["avg_chatters"])
    cols["unique_chatters"] = _at_least(unique, k)
    # returning people are some of the day's people: capped by them, hidden with them
    cols["returning_chatters"] = [
        None if u is None or b is None else min(b, u)
        for u, b in zip(cols["unique_chatters"], _at_least(back, k), strict=True)
    ]
    cols["avg_chatters"] = [None if a is None or a < k else round(a, 2) for a in avg]
    cols["chatters_per_viewer"] = [
        None if a is None or not v else round(a / float(v), 4)
        for a, v in zip(cols["avg_chatters"], cols["raw_viewers_per_snapshot"], strict=True)
    ]
    return cols, [True] * len(unique)


def pair_threshold(noise: FigureNoise, k: int) -> int:
    """The noisy shared count a pair needs to be published: k plus the noise's 95% bound.

    Every pair of chats sharing anyone is a candidate, and most share one to three people:
    with k alone, the few of those thousands whose noise is large would be published as
    spurious edges (and small true groups with them). The margin keeps that to a few in
    ten thousand (P(noise >= margin + k - 3) for b = 2)."""
    # integer noise: |noise| > a exactly when |noise| > floor(a)
    return k + math.floor(accuracy(noise.scale, PAIR_ALPHA))


def audience_overlap(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """Shared people of two chats in a period, each chat's people, and the shares; pairs
    whose noisy shared count is under `pair_threshold` or either side under k dropped."""
    period = ("day", "window_days", "signal")
    shared = noise.counts(
        _ids("pair_shared", cols, *period, "channel_a", "channel_b"), cols["shared_chatters"]
    )
    # a chat's size in a period is one figure, whichever pair it appears in
    size_a = noise.counts(_ids("window_people", cols, *period, "channel_a"), cols["chatters_a"])
    size_b = noise.counts(_ids("window_people", cols, *period, "channel_b"), cols["chatters_b"])
    floor = pair_threshold(noise, k)
    keep = [
        s is not None and a is not None and b is not None and s >= floor and a >= k and b >= k
        for s, a, b in zip(shared, size_a, size_b, strict=True)
    ]
    shared = [
        None if s is None or a is None or b is None else min(s, a, b)
        for s, a, b in zip(shared, size_a, size_b, strict=True)
    ]
    union = [
        None if s is None or a is None or b is None else a + b - s
        for s, a, b in zip(shared, size_a, size_b, strict=True)
    ]
    cols["shared_chatters"], cols["chatters_a"], cols["chatters_b"] = shared, size_a, size_b
    cols["share_a"] = _ratio(shared, size_a, 6)
    cols["share_b"] = _ratio(shared, size_b, 6)
    cols["jaccard"] = _ratio(shared, union, 6)
    return cols, keep


def community_chatters(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """The community's chatters at each snapshot, and chatters per viewer."""
    ids = _ids("community_chatters", cols, "snapshot_id", "signal")
    chatters = _at_least(noise.counts(ids, cols["chatters"]), k)
    cols["chatters"] = chatters
    cols["chatters_per_viewer"] = [
        None if c is None or not v else round(c / float(v), 4)
        for c, v in zip(chatters, cols["viewers_read"], strict=True)
    ]
    return cols, [True] * len(chatters)


def community_chatters_by_game(
    cols: Columns, noise: FigureNoise, k: int
) -> tuple[Columns, list[bool]]:
    """A game's chatters at each snapshot."""
    ids = _ids("game_chatters", cols, "snapshot_id", "signal", "game_id")
    cols["chatters"] = _at_least(noise.counts(ids, cols["chatters"]), k)
    return cols, [True] * len(ids)


def viewer_habits(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """Buckets of the habits: noisy values, buckets under k dropped, shares of noisy totals
    (hour_of_week: of the noisy people of the day)."""
    value = noise.counts(_ids("habits", cols, "day", "signal", "metric", "bucket"), cols["value"])
    people = noise.counts(_ids("habits_people", cols, "day", "signal"), cols["raw_people"])
    keep = [v is not None and v >= k for v in value]
    totals: dict[tuple[Any, ...], int] = {}
    for i, metric in enumerate(cols["metric"]):
        if keep[i] and metric != "hour_of_week":
            group = (cols["day"][i], cols["signal"][i], metric)
            totals[group] = totals.get(group, 0) + int(value[i] or 0)
    share: list[float | None] = []
    for i, metric in enumerate(cols["metric"]):
        if metric == "hour_of_week":
            den: int | None = people[i]
        else:
            den = totals.get((cols["day"][i], cols["signal"][i], metric))
        share.append(None if not keep[i] or not den else round(min(1.0, value[i] / den), 6))  # type: ignore[operator]
    cols["value"], cols["share"] = value, share
    return cols, keep


def exposure(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """The population a row of exposure figures rests on: noisy, rows under k dropped."""
    ids = _ids("exposure_population", cols, "day", "window_days", "signal")
    population = noise.counts(ids, cols["population"])
    # a sample may be everybody (or everybody with p points): its size is noisy too
    sizes = noise.counts(
        _ids("exposure_sample", cols, "day", "window_days", "signal", "measure", "points"),
        cols["sample_size"],
    )
    cols["sample_size"] = [
        None if s is None or p is None else min(s, p)
        for s, p in zip(sizes, population, strict=True)
    ]
    cols["population"] = population
    return cols, [
        p is not None and p >= k and s is not None and s >= k
        for p, s in zip(population, cols["sample_size"], strict=True)
    ]


PROTECTED: dict[str, Protector] = {
    "int_snapshot_channels": snapshot_channels,
    "stream_sessions": stream_sessions,
    "bot_share": bot_share,
    "channel_day_presence": channel_day_presence,
    "audience_overlap": audience_overlap,
    "community_chatters": community_chatters,
    "community_chatters_by_game": community_chatters_by_game,
    "viewer_habits": viewer_habits,
    "exposure": exposure,
}

# Columns a protector adds to its model's rows, with their type.
ADDED: dict[str, dict[str, pa.DataType]] = {
    "int_snapshot_channels": {"published_chatters": pa.int64()},
}


def protect_table(name: str, table: pa.Table, noise: FigureNoise, k: int) -> pa.Table:
    """The model's rows as published: noisy, k applied, ratios from noisy counts."""
    cols: Columns = table.to_pydict()
    cols, keep = PROTECTED[name](cols, noise, k)
    fields = [f for f in table.schema if not f.name.startswith(HELPER_PREFIX)]
    fields += [pa.field(n, t) for n, t in ADDED.get(name, {}).items()]
    schema = pa.schema(fields)
    kept = {f.name: [v for v, ok in zip(cols[f.name], keep, strict=True) if ok] for f in fields}
    return pa.Table.from_pydict(kept, schema=schema)


def apply(con: Connection, name: str, ctx: RunContext) -> None:
    """Protect the staged rows of `name` (`_model_rows`) in place, if it publishes people."""
    if name not in PROTECTED:
        return
    table = con.sql("select * from _model_rows").to_arrow_table()
    noise = FigureNoise(ctx.params.noise_key, ctx.params.epsilon)
    protected = protect_table(name, table, noise, ctx.params.k)
    con.register("_protected_arrow", protected)
    try:
        con.execute("create or replace temp table _model_rows as select * from _protected_arrow")
    finally:
        con.unregister("_protected_arrow")
