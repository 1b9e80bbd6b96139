"""Publication of people counts (P3): noise, then k, then ratios, on a model's new rows.

The SQL models that feed serving tables compute exact counts of people; before their rows
are materialised, the runner hands them here (`apply`), in Python, after the SQL and on
every engine alike. For each model listed in `PROTECTED`:

1. every people count gets seeded discrete Laplace noise by figure identity (`noise.py`);
2. k is applied to the noisy value (null, or the row dropped, below k);
3. every ratio built from a people count (shares, Jaccard, bot share, chatters per viewer)
   is computed from the noisy counts only;
4. helper columns (`raw_*`: exact figures the ratios need) are dropped (but for
   `pipeline_health`, whose `raw_*` columns are bytes of the raw lake).

So the serving tables hold only protected values, and the API and the export, which read
them, publish each figure once, the same everywhere. The exact counts stay in the internal
tables (`int_*`, the curated viewing sessions), which nothing publishes.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from streamcensus.timeutil import UTC
from streamcensus.transform.context import RunContext, RunParams
from streamcensus.transform.exposure import wilson
from streamcensus.transform.noise import SENSITIVITY, FigureNoise, accuracy, figure_id
from streamcensus.transform.pairs import PAIR_ALPHA, ratio
from streamcensus.transform.pairs import audience_overlap as overlap_pairs
from streamcensus.transform.series import HELPER_PREFIX, bucket_text
from streamcensus.transform.series import SERIES_MINUTES as SERIES_MINUTES
from streamcensus.transform.series import community_chatters_by_game as game_series
from streamcensus.transform.series import snapshot_channels as chat_series
from streamcensus.warehouse.connection import Connection

Columns = dict[str, list[Any]]
Key = tuple[Any, ...]
Protector = Callable[[Columns, FigureNoise, int], tuple[Columns, list[bool]]]
# Models whose `raw_*` columns are published figures, not helpers (bytes of the raw lake).
KEEPS_RAW = {"pipeline_health"}
# A sampled unicity row is published only where its noise's 95% bound is under this share
# of its sample (wider, its share would be noise)
UNICITY_NOISE_SHARE = 0.5


def _ids(kind: str, cols: Columns, *keys: str) -> list[str]:
    return [figure_id(kind, *vals) for vals in zip(*(cols[k] for k in keys), strict=True)]


def _at_least(values: list[int | None], k: int) -> list[int | None]:
    return [v if v is not None and v >= k else None for v in values]


@functools.cache
def series_bucket(moment: dt.datetime) -> str:
    """The series bucket holding a snapshot: its start, UTC, `SERIES_MINUTES` wide."""
    width = SERIES_MINUTES * 60
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    start = int(aware.timestamp()) // width * width
    return bucket_text(start)


def _bucket_means(cols: Columns, value: str, keys: tuple[str, ...]) -> dict[Key, float]:
    """Exact mean of `value` per series bucket and `keys`, over the rows where it is known
    (the snapshots read: which rows exist and are read never depends on who was there)."""
    sums: dict[Key, list[float]] = {}
    for i, v in enumerate(cols[value]):
        if v is not None:
            key = (series_bucket(cols["snapshot_ts"][i]), *(cols[c][i] for c in keys))
            acc = sums.setdefault(key, [0.0, 0.0])
            acc[0] += float(v)
            acc[1] += 1.0
    return {key: total / n for key, (total, n) in sums.items()}


def _series(
    cols: Columns, noise: FigureNoise, k: int, kind: str, value: str, keys: tuple[str, ...]
) -> list[int | None]:
    """A per-snapshot people count published per series bucket: the bucket's average per
    snapshot read, one noisy figure per bucket and `keys` (`kind|bucket|keys...`), rounded,
    null under k, on every row of the bucket (rows where `value` is unknown: null).

    A person is in a snapshot's count at most once, so she moves a bucket's average by at
    most 1 (sensitivity 1), and over a day by at most her hours present: the budget of
    these series is finite whatever her day (docs/privacy.md)."""
    means = _bucket_means(cols, value, keys)
    order = list(means)
    noisy = noise.means([figure_id(kind, *key) for key in order], [means[x] for x in order])
    published = {
        key: None if m is None or round(m) < k else round(m)
        for key, m in zip(order, noisy, strict=True)
    }
    return [
        None if v is None else published[(series_bucket(t), *(cols[c][i] for c in keys))]
        for i, (v, t) in enumerate(zip(cols[value], cols["snapshot_ts"], strict=True))
    ]


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
    cols["bot_share"] = ratio(bots, accounts, 4)
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


def community_chatters(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """The community's people per snapshot, by hour, and people per viewer (of the hour's
    average viewers in the chats read)."""
    chatters = _series(cols, noise, k, "community_hour_people", "chatters", ("signal",))
    viewers = _bucket_means(cols, "viewers_read", ("signal",))
    cols["chatters"] = chatters
    cols["chatters_per_viewer"] = [
        None
        if c is None or not viewers.get((series_bucket(t), sig))
        else round(c / viewers[(series_bucket(t), sig)], 4)
        for c, t, sig in zip(chatters, cols["snapshot_ts"], cols["signal"], strict=True)
    ]
    return cols, [True] * len(chatters)


def merge_groups(values: list[int], k: int) -> list[list[int]]:
    """How a distribution's buckets (their values in bucket order) are merged so each
    published bucket holds at least k: runs of neighbouring buckets, from the lowest up,
    each closed as soon as it reaches k; a last run under k joins the run before it. No
    run at all when the whole distribution is under k. Decided on noisy values only.

    So an empty or small bucket is merged with its neighbours only, and the buckets above
    stay as they are: [0, 40, 30, 5, 2] at k = 10 gives [0, 40], [30], [5, 2] -> [30, 5, 2].
    """
    groups: list[list[int]] = []
    run: list[int] = []
    total = 0
    for i, value in enumerate(values):
        run.append(i)
        total += value
        if total >= k:
            groups.append(run)
            run, total = [], 0
    if run and groups:
        groups[-1].extend(run)
    return groups


def viewer_habits(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """Buckets of the habits: every bucket's value noisy first; then, on noisy values only,
    hours under k dropped and each distribution's neighbouring buckets merged until each
    holds k (`merge_groups`; a distribution under k in total dropped); shares of noisy
    totals (hour_of_week: of the noisy people of the day)."""
    value = noise.counts(_ids("habits", cols, "day", "signal", "metric", "bucket"), cols["value"])
    people = noise.counts(_ids("habits_people", cols, "day", "signal"), cols["raw_people"])
    keep = [False] * len(value)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, metric in enumerate(cols["metric"]):
        if metric == "hour_of_week":
            keep[i] = int(value[i] or 0) >= k
        else:
            groups.setdefault((cols["day"][i], cols["signal"][i], metric), []).append(i)
    totals: dict[tuple[Any, ...], int] = {}
    for group, rows in groups.items():
        rows.sort(key=lambda i: int(cols["bucket"][i]))
        noisy = [int(value[i] or 0) for i in rows]
        runs = merge_groups(noisy, k)
        for run in runs:
            merged = [rows[j] for j in run]
            first = merged[0]
            keep[first] = True
            value[first] = sum(noisy[j] for j in run)
            cols["bucket_min"][first] = min(cols["bucket_min"][i] for i in merged)
            maxima = [cols["bucket_max"][i] for i in merged]
            cols["bucket_max"][first] = None if None in maxima else max(maxima)
        if runs:
            totals[group] = sum(noisy)
    share: list[float | None] = []
    for i, metric in enumerate(cols["metric"]):
        if metric == "hour_of_week":
            den: int | None = people[i]
        else:
            den = totals.get((cols["day"][i], cols["signal"][i], metric))
        num = value[i]
        share.append(
            None if not keep[i] or not den or num is None else round(min(1.0, num / den), 6)
        )
    cols["value"], cols["share"] = value, share
    return cols, keep


def exposure(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """Exposure rows from noisy counts only: the population, the sample size (a census's
    is the population: the same figure) and the people found unique, each noisy; the share
    and its interval computed from them; rows whose population or sample is under k
    dropped.

    `noise` is calibrated for the sampled unicity's sensitivity (`unicity_sensitivity`):
    its sample sizes and unique counts get that noise, and a sampled row is published only
    where the noise's 95% bound is under `UNICITY_NOISE_SHARE` of its noisy sample (else
    its share says nothing), with that bound added to both sides of its interval. The
    population and the census counts (a person moves them by at most 1) get noise for 1."""
    one = noise.with_sensitivity(SENSITIVITY)
    window = ("day", "window_days", "signal")
    sampled = [method == "sample" for method in cols["method"]]

    def by_method(kind: str, column: str) -> list[int | None]:
        ids = _ids(kind, cols, *window, "measure", "points")
        wide, narrow = noise.counts(ids, cols[column]), one.counts(ids, cols[column])
        return [w if s else n for s, w, n in zip(sampled, wide, narrow, strict=True)]

    population = one.counts(_ids("exposure_population", cols, *window), cols["population"])
    sizes = by_method("exposure_sample", "sample_size")
    unique = by_method("exposure_unique", "raw_unique")
    margin = math.floor(accuracy(noise.scale, PAIR_ALPHA))  # integer noise: its floor
    sample: list[int | None] = []
    for is_sample, size, people in zip(sampled, sizes, population, strict=True):
        if size is None or people is None:
            sample.append(None)
        else:
            sample.append(min(size, people) if is_sample else people)
    shares: list[float | None] = []
    lows: list[float | None] = []
    highs: list[float | None] = []
    informative: list[bool] = []
    for is_sample, n, u in zip(sampled, sample, unique, strict=True):
        informative.append(not is_sample or (bool(n) and margin < UNICITY_NOISE_SHARE * (n or 0)))
        if not n or u is None:
            shares.append(None)
            lows.append(None)
            highs.append(None)
            continue
        found = min(u, n)
        share = round(found / n, 6)
        if is_sample:
            low, high = wilson(found, n)
            low, high = max(0.0, low - margin / n), min(1.0, high + margin / n)
        else:
            low, high = share, share
        shares.append(share)
        lows.append(round(low, 6))
        highs.append(round(high, 6))
    cols["population"], cols["sample_size"] = population, sample
    cols["unique_share"], cols["ci_low"], cols["ci_high"] = shares, lows, highs
    return cols, [
        p is not None and p >= k and n is not None and n >= k and ok
        for p, n, ok in zip(population, sample, informative, strict=True)
    ]


def unicity_sensitivity(params: RunParams) -> int:
    """How much one person can move a sampled unicity count (a sample size or the people
    found unique in it): up to the whole sample. Her trace can hold the points drawn for
    every sampled person (each then not unique), and the sample's points are drawn by one
    random stream over the sampled people in order, so adding her to the sample changes
    the draws of everyone after her. Only the sample's size bounds it."""
    return max(SENSITIVITY, params.exposure_sample)


def observation_sensitivity(params: RunParams) -> int:
    """The most rows one person adds to a day's presence files (or viewing sessions) in
    one signal: every snapshot of the day, in fewer chats at once than make a bot."""
    return (24 * 60 // params.interval_minutes) * (params.bot_min_chats - 1)


# pipeline_health columns that sum people's rows: identity kind, and how many signals'
# rows one person adds to them (viewing sessions are of both signals)
HEALTH_COUNTS = {
    "presence_observations": ("observations_chat_list", 1),
    "activity_observations": ("observations_chat_activity", 1),
    "viewing_sessions": ("viewing_sessions", 2),
}


def pipeline_health(cols: Columns, noise: FigureNoise, k: int) -> tuple[Columns, list[bool]]:
    """A day's rows of presence (chat lists, chat activity) and of viewing sessions: sums
    over people's rows, each person adding up to `observation_sensitivity` per signal, so
    noisy at that sensitivity (`noise` is calibrated for it); bytes per observation from
    the noisy count."""
    for column, (kind, signals) in HEALTH_COUNTS.items():
        scaled = noise.with_sensitivity(signals * noise.sensitivity)
        cols[column] = [int(v or 0) for v in scaled.counts(_ids(kind, cols, "day"), cols[column])]
    for column, numerator in (
        ("raw_bytes_per_observation", "raw_chatters_bytes"),
        ("curated_bytes_per_observation", "curated_bytes"),
    ):
        cols[column] = [
            round(float(b) / n, 3) if n and b is not None else None
            for b, n in zip(cols[numerator], cols["presence_observations"], strict=True)
        ]
    return cols, [True] * len(cols["day"])


# Figures a person moves by more than 1 (by model): the sensitivity their noise is
# calibrated for, from the run's parameters; every other protected figure has 1.
SENSITIVITIES: dict[str, Callable[[RunParams], int]] = {
    "pipeline_health": observation_sensitivity,
    "exposure": unicity_sensitivity,
}

PROTECTED: dict[str, Protector] = {
    "bot_share": bot_share,
    "channel_day_presence": channel_day_presence,
    "community_chatters": community_chatters,
    "viewer_habits": viewer_habits,
    "exposure": exposure,
    "pipeline_health": pipeline_health,
}

# Models published from Arrow columns (millions of rows: never turned into Python objects)
ARROW_PROTECTED: dict[str, Callable[[pa.Table, FigureNoise, int], pa.Table]] = {
    "audience_overlap": overlap_pairs,
    "int_snapshot_channels": chat_series,
    "community_chatters_by_game": game_series,
}


def protect_table(name: str, table: pa.Table, noise: FigureNoise, k: int) -> pa.Table:
    """The model's rows as published: noisy, k applied, ratios from noisy counts."""
    if name in ARROW_PROTECTED:
        return ARROW_PROTECTED[name](table, noise, k)
    cols: Columns = table.to_pydict()
    cols, keep = PROTECTED[name](cols, noise, k)
    fields = [f for f in table.schema if name in KEEPS_RAW or not f.name.startswith(HELPER_PREFIX)]
    schema = pa.schema(fields)
    kept = {f.name: [v for v, ok in zip(cols[f.name], keep, strict=True) if ok] for f in fields}
    return pa.Table.from_pydict(kept, schema=schema)


def apply(con: Connection, name: str, ctx: RunContext) -> None:
    """Protect the staged rows of `name` (`_model_rows`) in place, if it publishes people."""
    if name not in PROTECTED and name not in ARROW_PROTECTED:
        return
    table = con.sql("select * from _model_rows").to_arrow_table()
    sensitivity = SENSITIVITIES[name](ctx.params) if name in SENSITIVITIES else SENSITIVITY
    noise = FigureNoise(ctx.params.noise_key, ctx.params.epsilon, sensitivity)
    protected = protect_table(name, table, noise, ctx.params.k)
    con.register("_protected_arrow", protected)
    try:
        con.execute("create or replace temp table _model_rows as select * from _protected_arrow")
    finally:
        con.unregister("_protected_arrow")
