"""The `exposure` model: how singled-out viewers would be by a tracker, as shares only.

Measured the way the literature does (de Montjoye et al. 2013; Narayanan & Shmatikov 2008)
over the people (bots excluded) of a day and of the 7 days ending on it, for each presence
signal on its own: `chat_list` (people in the chat lists read, only the channels whose chat
list may be read) and `chat_activity` (people who posted, the whole community):

- unicity for p = 1..8: draw p points at random from a sampled viewer's own trace of
  (channel, hour) points; the viewer is *unique* if nobody else in the whole population
  has all p points. Estimated on a random sample (size `exposure_sample`, deterministic for
  a day, so reloads give identical rows) with a 95% Wilson interval;
- the share of people unique by their set of channels and by their top-3 channels (by
  minutes), and, over 7 days, by their hour-of-day pattern: a census of the window's
  population, computed in DuckDB so memory stays bounded.

People are `people_sessions` (bots excluded; every chat of a person, since uniqueness rests
on the whole trace). This step computes exact counts; `transform/protect.py` publishes
them noisy: the population, the sample size, the count of unique people, and the share and
its interval computed from those noisy counts only.

The sample drives the only numpy work: its traces, and the audiences of the points drawn
from them, which is at most 8 × sample points. Rows with fewer than k people behind them
are not published (P3); no row or column names a viewer.
"""

from __future__ import annotations

import datetime as dt
import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from streamcensus.transform.context import SIGNALS, RunContext, RunParams
from streamcensus.transform.engines import Queries
from streamcensus.transform.engines.sql import literal
from streamcensus.warehouse.connection import Connection

INPUTS = ("people_sessions", "calendar", "run_days", "run_params")
GRAIN = "one row per day, window_days (1 or 7), signal, measure and points"
MAX_POINTS = 8
WINDOWS = (1, 7)
Z95 = 1.959963984540054
WORKERS = 2  # tasks (a window's sample, each census measure) run at once

SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("window_days", pa.int32()),
        pa.field("signal", pa.string()),
        pa.field("measure", pa.string()),
        pa.field("points", pa.int32()),
        pa.field("population", pa.int64()),
        pa.field("days_covered", pa.int32()),
        pa.field("method", pa.string()),
        pa.field("sample_size", pa.int64()),
        pa.field("unique_share", pa.float64()),
        pa.field("ci_low", pa.float64()),
        pa.field("ci_high", pa.float64()),
        # the exact count of unique people behind unique_share: noised, then dropped, by
        # transform/protect.py (the share is published from noisy counts only)
        pa.field("raw_unique", pa.int64()),
    ]
)

Row = dict[str, object]
IntArray = npt.NDArray[np.int64]


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if trials == 0:
        return (0.0, 1.0)
    share = successes / trials
    denom = 1 + Z95**2 / trials
    centre = (share + Z95**2 / (2 * trials)) / denom
    half = Z95 * math.sqrt(share * (1 - share) / trials + Z95**2 / (4 * trials**2)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


PEOPLE_SQL = """
    select
        s.viewer,
        s.channel_id,
        s.day,
        s.minutes,
        c.day_number * 24 + cast(extract(hour from s.first_seen) as bigint) as h0,
        c.day_number * 24 + cast(extract(hour from s.last_seen) as bigint) as h1
    from people_sessions as s
    inner join calendar as c on s.day = c.day
    where s.day between ? and ? and s.signal = ?
"""


def _people(q: Queries, first: dt.date, last: dt.date, signal: str) -> pa.Table:
    """The window's people sessions in one signal (`people_sessions`: bots excluded) with
    absolute start and end hours, read from the run's engine."""
    return q.arrow(PEOPLE_SQL, [first, last, signal])


def _census_share(con: Connection, signature_sql: str, people: str) -> int:
    """Number of people whose signature (one row per viewer) no one else shares."""
    signature_sql = signature_sql.format(people=people)
    rows = con.execute(
        f"""
        with signatures as ({signature_sql}),
        counts as (select signature, count(*) as n from signatures group by signature)
        select coalesce(sum(case when n = 1 then 1 else 0 end), 0) from counts
        """
    ).fetchall()
    return int(rows[0][0])


# Signatures: a viewer is singled out when no one else has the same one. `hash` sums are
# DuckDB's: whichever engine ran the models, the window's people are read from it once and
# the census and the sample run in this step's own in-process DuckDB, so both engines
# publish the same shares and the same seeded sample; each census reads one table of
# (viewer, channel) rows made once per window.
CHANNELS_SQL = """
    create table {people}_channels as
    select viewer, channel_id, sum(minutes) as minutes, hash(channel_id) as channel_hash
    from {people} group by viewer, channel_id
"""
CHANNEL_SET_SQL = """
    select viewer, sum(channel_hash) as signature from {people}_channels group by viewer
"""
# the top 3 channels by minutes; with 3 channels or fewer, that is the channel set
TOP3_SQL = """
    with sizes as (
        select viewer, count(*) as channels, sum(channel_hash) as signature
        from {people}_channels group by viewer
    ),
    ranked as (
        select c.viewer, c.channel_hash,
            row_number() over (
                partition by c.viewer order by c.minutes desc, c.channel_id
            ) as position
        from {people}_channels as c inner join sizes on c.viewer = sizes.viewer
        where sizes.channels > 3
    )
    select viewer, signature from sizes where channels <= 3
    union all
    select viewer, sum(channel_hash) as signature from ranked where position <= 3 group by viewer
"""
# the hours of the day a viewer was seen in, as a 24-bit mask: a session from hour h0 to
# h1 covers (h1 - h0 + 1) bits from h0 mod 24, wrapping past midnight
HOUR_PATTERN_SQL = """
    with spans as (
        select
            viewer,
            case
                when h1 - h0 >= 23 then cast(16777215 as bigint)
                else ((cast(1 as bigint) << (h1 - h0 + 1)) - 1) << (h0 % 24)
            end as bits
        from {people}
    )
    select viewer, bit_or((bits | (bits >> 24)) & 16777215) as signature
    from spans group by viewer
"""


def _expand(h0: IntArray, h1: IntArray) -> tuple[IntArray, IntArray]:
    """Row index and absolute hour for every hour a session covers."""
    lengths = (h1 - h0 + 1).astype(np.int64)
    rows = np.repeat(np.arange(len(h0), dtype=np.int64), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    hours = h0[rows] + (np.arange(int(lengths.sum()), dtype=np.int64) - starts)
    return rows, hours


def _unicity(
    con: Connection, people: str, sample: IntArray, rng: np.random.Generator
) -> tuple[list[int], list[int]]:
    """(eligible, unique) counts for p = 1..8 over the sampled viewers."""
    eligible = [0] * (MAX_POINTS + 1)
    unique = [0] * (MAX_POINTS + 1)
    if len(sample) == 0:
        return eligible, unique
    con.register("_exposure_sample", pa.table({"viewer": pa.array(sample, pa.int64())}))
    try:
        traces = con.sql(
            f"select p.viewer, p.channel_id, p.h0, p.h1 from {people} as p "
            "inner join _exposure_sample as s on p.viewer = s.viewer"
        ).to_arrow_table()
    finally:
        con.unregister("_exposure_sample")
    viewers = traces.column("viewer").to_numpy()
    channels, channel_codes = np.unique(
        traces.column("channel_id").to_numpy(zero_copy_only=False), return_inverse=True
    )
    rows, hours = _expand(traces.column("h0").to_numpy(), traces.column("h1").to_numpy())
    points = np.unique(
        np.stack([viewers[rows], channel_codes[rows].astype(np.int64), hours], axis=1), axis=0
    )
    drawn: list[IntArray] = []
    starts = np.searchsorted(points[:, 0], sample, side="left")
    ends = np.searchsorted(points[:, 0], sample, side="right")
    for start, end in zip(starts, ends, strict=True):
        trace = points[start:end, 1:]
        order = rng.permutation(len(trace))[:MAX_POINTS]
        drawn.append(trace[order])
    wanted = np.unique(np.concatenate(drawn), axis=0)
    con.register(
        "_exposure_drawn",
        pa.table(
            {
                "channel_id": pa.array(channels[wanted[:, 0]], pa.string()),
                "code": pa.array(wanted[:, 0], pa.int64()),
                "hour": pa.array(wanted[:, 1], pa.int64()),
            }
        ),
    )
    try:
        audience = con.execute(
            f"select distinct d.code, d.hour, p.viewer from {people} as p "
            "inner join _exposure_drawn as d "
            "on p.channel_id = d.channel_id and d.hour between p.h0 and p.h1 "
            "order by d.code, d.hour, p.viewer"
        ).fetchnumpy()
    finally:
        con.unregister("_exposure_drawn")
    codes = np.asarray(audience["code"], dtype=np.int64)
    hour_col = np.asarray(audience["hour"], dtype=np.int64)
    members = np.asarray(audience["viewer"], dtype=np.int64)
    keys = np.stack([codes, hour_col], axis=1)
    boundaries = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
    group_starts = np.concatenate([[0], boundaries])
    group_ends = np.concatenate([boundaries, [len(members)]])
    index = {
        (int(codes[s]), int(hour_col[s])): members[s:e]
        for s, e in zip(group_starts, group_ends, strict=True)
    }
    for trace in drawn:
        candidates: IntArray | None = None
        for p in range(1, len(trace) + 1):
            group = index[(int(trace[p - 1, 0]), int(trace[p - 1, 1]))]
            if candidates is None:
                candidates = group
            else:
                at = np.searchsorted(group, candidates).clip(max=len(group) - 1)
                candidates = candidates[group[at] == candidates]
            eligible[p] += 1
            if len(candidates) == 1:
                for rest in range(p, len(trace) + 1):
                    unique[rest] += 1
                eligible[p + 1 : len(trace) + 1] = [e + 1 for e in eligible[p + 1 : len(trace) + 1]]
                break
    return eligible, unique


@dataclass(frozen=True)
class _Window:
    """One (day, window, signal) of the run and its people table in the worker database."""

    day: dt.date
    window: int
    signal: str
    table: str


def _sampled(con: Connection, w: _Window, params: RunParams) -> tuple[Row, list[Row]]:
    """Population, days covered, and the unicity rows of one window (a task)."""
    population, days_covered = con.execute(
        f"select count(distinct viewer), count(distinct day) from {w.table}"
    ).fetchall()[0]
    base: Row = {
        "day": w.day,
        "window_days": w.window,
        "signal": w.signal,
        "population": int(population),
        "days_covered": int(days_covered),
    }
    k = params.k
    if population < k:
        return base, []
    seed = [params.seed, (w.day - dt.date(1970, 1, 1)).days, w.window, SIGNALS.index(w.signal)]
    rng = np.random.default_rng(seed)
    sample_size = min(params.exposure_sample, int(population))
    sample = np.asarray(
        [
            r[0]
            for r in con.execute(
                f"select viewer from (select distinct viewer from {w.table}) "
                "order by hash(viewer, ?), viewer limit ?",
                [int(rng.integers(0, 2**31)), sample_size],
            ).fetchall()
        ],
        dtype=np.int64,
    )
    sample.sort()
    rows: list[Row] = []
    eligible, unique = _unicity(con, w.table, sample, rng)
    for p in range(1, MAX_POINTS + 1):
        if eligible[p] < k:
            continue
        low, high = wilson(unique[p], eligible[p])
        rows.append(
            base
            | {
                "measure": "unicity",
                "points": p,
                "method": "sample",
                "sample_size": eligible[p],
                "unique_share": round(unique[p] / eligible[p], 6),
                "ci_low": round(low, 6),
                "ci_high": round(high, 6),
                "raw_unique": unique[p],
            }
        )
    return base, rows


def _census_measures(window: int) -> list[tuple[str, str]]:
    census = [("channel_set", CHANNEL_SET_SQL), ("top3_channels", TOP3_SQL)]
    if window == 7:
        census.append(("hour_pattern", HOUR_PATTERN_SQL))
    return census


def _census_row(base: Row, measure: str, unique_people: int) -> Row:
    population = int(str(base["population"]))
    share = round(unique_people / population, 6)
    return base | {
        "measure": measure,
        "points": None,
        "method": "census",
        "sample_size": population,
        "unique_share": share,
        "ci_low": share,
        "ci_high": share,
        "raw_unique": unique_people,
    }


def _prepare(work: Connection, w: _Window, people: pa.Table | str) -> None:
    """Make the window's people table in the worker database (from the rows read from the
    engine; or, from a wider window's table, a view of its days: nothing copied) and its
    (viewer, channel) table the census reads."""
    with work.cursor() as cur:
        if isinstance(people, str):
            first = w.day - dt.timedelta(days=w.window - 1)
            cur.execute(
                f"create view {w.table} as select * from {people} "
                f"where day between {literal(first)} and {literal(w.day)}"
            )
        else:
            cur.register("_people_arrow", people)
            cur.execute(f"create table {w.table} as select * from _people_arrow")
            cur.unregister("_people_arrow")
        cur.execute(CHANNELS_SQL.format(people=w.table))


def build(q: Queries, ctx: RunContext) -> pa.Table:
    """Exposure rows for the run's days, both windows, each signal.

    The widest window ending on a day (7 days) is read once per signal from the run's
    engine (DuckDB or Spark) into a private in-memory DuckDB, and the narrower ones (the
    day itself) are cut from it there (the same rows as reading them alone). Making each
    window's tables, its sampled unicity and each of its census measures are then tasks
    run `WORKERS` at a time on cursors of that database, so the machine's cores share the
    work: the next window is read from the engine while the last one's tables are made,
    and a window's measures start as soon as its tables are there. The seeds depend only
    on day and window, so the rows are the same whatever order the tasks finish in.
    """
    widest = max(WINDOWS)
    windows: dict[tuple[dt.date, int, str], _Window] = {}
    rows: list[Row] = []
    with (
        duckdb.connect(":memory:") as work,
        ThreadPoolExecutor(WORKERS, thread_name_prefix="exposure") as pool,
    ):
        prepared: dict[_Window, Future[None]] = {}

        def narrow(w: _Window, wide: _Window) -> None:
            # the wide window's task was submitted first, so it runs before this waits
            prepared[wide].result()
            _prepare(work, w, wide.table)

        for day in sorted(ctx.run_days):
            for signal in SIGNALS:
                for window in sorted(WINDOWS, reverse=True):  # the widest first
                    table = f"people_{len(windows)}"
                    w = windows[(day, window, signal)] = _Window(day, window, signal, table)
                    if window == widest:
                        first = day - dt.timedelta(days=window - 1)
                        people: pa.Table | str = _people(q, first, day, signal)
                        prepared[w] = pool.submit(_prepare, work, w, people)
                        del people
                    else:
                        wide = windows[(day, widest, signal)]
                        prepared[w] = pool.submit(narrow, w, wide)

        def sampled(w: _Window) -> tuple[Row, list[Row]]:
            with work.cursor() as cur:
                return _sampled(cur, w, ctx.params)

        def census(w: _Window, sql: str) -> int:
            with work.cursor() as cur:
                return _census_share(cur, sql, w.table)

        # measures submitted as tables are made; rows published by day, window, signal
        samples: dict[_Window, Future[tuple[Row, list[Row]]]] = {}
        censuses: dict[_Window, list[tuple[str, Future[int]]]] = {}
        for w, ready in prepared.items():
            ready.result()
            samples[w] = pool.submit(sampled, w)
            censuses[w] = [
                (m, pool.submit(census, w, sql)) for m, sql in _census_measures(w.window)
            ]
        order = [windows[(d, n, s)] for d in sorted(ctx.run_days) for n in WINDOWS for s in SIGNALS]
        for w in order:
            base, unicity = samples[w].result()
            measures = censuses[w]
            if int(str(base["population"])) < ctx.params.k:
                for _, future in measures:
                    future.cancel()
                continue
            rows.extend(unicity)
            rows.extend(_census_row(base, m, f.result()) for m, f in measures)
    return pa.Table.from_pylist(rows, schema=SCHEMA)
