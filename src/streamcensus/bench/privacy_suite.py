"""Suite `privacy`: what the noise on published people counts costs in accuracy.

Two consecutive days are written from the simulator's ground truth (`bench/truthlake.py`,
chat lists of the top channels) and loaded with the default settings. The published figures
(the serving tables, as the API reads them) are then compared with the exact counts
recomputed from the curated viewing sessions less the accounts `int_bots` flags (both
internal, never published), every chat of every person counted: the error is what the
noise and the per-person contribution bound cost together.

- the contribution bound: people with more chats in a day than the bound, and the share of
  (person, chat, day) presences the bound leaves out of the per-chat figures;

- channel-day people (`channel_day_presence.unique_chatters`, bots excluded): median and
  90th percentile relative error over the published channel-days (and, apart, against the
  people the figure counts, each in her first C chats by the keyed draw: the noise alone),
  the share of channel-days of at least k exact people that were suppressed (their noisy count fell
  under k), and of published ones under k exactly;
- overlap shares (`audience_overlap.share_a` and `share_b`, 1-day and 7-day windows):
  median relative and absolute error over the published pairs, and the share of published
  pairs sharing fewer than k people exactly;
- a chat's hourly curve (`int_snapshot_channels.published_chatters`): relative error over
  the published chat-hours against the exact people per snapshot of the hour.

The noise scale, ε per figure and OpenDP's 95% accuracy bound are reported beside them.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from streamcensus import noisekey
from streamcensus.bench.truthlake import write_truth_day
from streamcensus.clock import SimClock
from streamcensus.config import Settings
from streamcensus.lake.schema import CHATTERS, CURATED, RAW
from streamcensus.load.loader import load_days
from streamcensus.timeutil import day_start
from streamcensus.transform.noise import accuracy, calibrate, contribution_salt

Progress = Callable[[str], None]
DAYS = 2


def _quantiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median": None, "p90": None}
    arr = np.asarray(values, dtype=np.float64)
    return {
        "n": len(values),
        "median": round(float(np.median(arr)), 5),
        "p90": round(float(np.quantile(arr, 0.9)), 5),
    }


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The warehouse (read-only) with the exact curated sessions as `sessions`."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    root = settings.lake_dir / CURATED / "viewing_sessions"
    con.execute(f"create temp view sessions as select * from read_parquet('{root}/*/*.parquet')")
    bots = settings.lake_dir / CURATED / "int_bots"
    con.execute(f"create temp view bots as select * from read_parquet('{bots}/*/*.parquet')")
    con.execute(
        "create temp view people as select distinct s.day, s.signal, s.channel_id, s.viewer "
        "from sessions as s where not exists (select 1 from bots as b where b.day = s.day "
        "and b.viewer = s.viewer and b.is_bot)"
    )
    con.execute("create temp view day_people as select * from people")
    # the people the per-chat figures count: each person's first C chats by the keyed draw
    salt = contribution_salt(noisekey.load_or_create(settings.key_store_dir))
    assert salt.isalnum()  # hex: safe in the view's text (a view takes no parameters)
    con.execute(
        "create temp view counted as select day, signal, channel_id, viewer from ("
        "select *, row_number() over (partition by day, signal, viewer order by "
        f"md5(concat('{salt}', '|', channel_id, '|', cast(viewer as varchar))), channel_id) "
        f"as r from people) where r <= {int(settings.privacy_contribution_bound)}"
    )
    return con


def bound_cost(con: duckdb.DuckDBPyConnection, bound: int) -> dict[str, Any]:
    """How many people the contribution bound touches, and how much presence it drops."""
    rows = con.execute(
        "select count(*), sum(case when chats > ? then 1 else 0 end), sum(chats), "
        "sum(least(chats, ?)) from (select day, signal, viewer, count(*) as chats "
        "from people group by all)",
        [bound, bound],
    ).fetchall()
    people_days, over, presences, kept = (int(v or 0) for v in rows[0])
    return {
        "contribution_bound": bound,
        "person_days": people_days,
        "person_days_over_bound_share": round(over / max(people_days, 1), 4),
        "presences_dropped_share": round(1 - kept / max(presences, 1), 4),
    }


def channel_day_errors(con: duckdb.DuckDBPyConnection, k: int) -> dict[str, Any]:
    """Published channel-day people against the exact count."""
    rows = con.execute(
        "with exact as (select day, signal, channel_id, count(*) as n from day_people "
        "group by all), "
        "kept as (select day, signal, channel_id, count(*) as n from counted group by all) "
        "select exact.n, p.unique_chatters, coalesce(kept.n, 0) from exact "
        "join channel_day_presence as p using (day, signal, channel_id) "
        "left join kept using (day, signal, channel_id)"
    ).fetchall()
    published = [(int(n), int(p)) for n, p, _ in rows if p is not None]
    noise_only = [(int(c), int(p)) for _, p, c in rows if p is not None and c]
    at_least_k = [p for n, p, _ in rows if int(n) >= k]
    return {
        "channel_days": len(rows),
        "published": len(published),
        "relative_error": _quantiles([abs(p - n) / n for n, p in published]),
        "absolute_error": _quantiles([float(abs(p - n)) for n, p in published]),
        # against the people the figure counts (each in her first C chats): the noise alone
        "noise_relative_error": _quantiles([abs(p - c) / c for c, p in noise_only]),
        "suppressed_share_of_at_least_k": round(
            sum(1 for p in at_least_k if p is None) / max(len(at_least_k), 1), 4
        ),
        "published_under_k_share": round(
            sum(1 for n, _ in published if n < k) / max(len(published), 1), 4
        ),
    }


def overlap_errors(con: duckdb.DuckDBPyConnection, window: int, k: int) -> dict[str, Any]:
    """Published overlap shares of one window against the exact shares."""
    rows = con.execute(
        "with pub as (select * from audience_overlap where window_days = ?), "
        "days as (select distinct day from pub), "
        "members as (select days.day, p.signal, p.channel_id, p.viewer from days join people "
        "as p on p.day <= days.day and p.day > days.day - cast(? as integer)), "
        "w as (select distinct * from members), "
        "sizes as (select day, signal, channel_id, count(*) as n from w group by all), "
        "shared as (select a.day, a.signal, a.channel_id as ca, b.channel_id as cb, "
        "count(*) as n from w as a join w as b on a.day = b.day and a.signal = b.signal "
        "and a.viewer = b.viewer and a.channel_id < b.channel_id "
        "join pub on pub.day = a.day and pub.signal = a.signal and pub.channel_a = a.channel_id "
        "and pub.channel_b = b.channel_id group by all) "
        "select shared.n, sa.n, sb.n, pub.share_a, pub.share_b from pub "
        "join shared on pub.day = shared.day and pub.signal = shared.signal "
        "and pub.channel_a = shared.ca and pub.channel_b = shared.cb "
        "join sizes as sa on sa.day = pub.day and sa.signal = pub.signal "
        "and sa.channel_id = pub.channel_a "
        "join sizes as sb on sb.day = pub.day and sb.signal = pub.signal "
        "and sb.channel_id = pub.channel_b",
        [window, window],
    ).fetchall()
    relative: list[float] = []
    absolute: list[float] = []
    for shared, size_a, size_b, share_a, share_b in rows:
        for exact, published in ((shared / size_a, share_a), (shared / size_b, share_b)):
            relative.append(abs(published - exact) / exact)
            absolute.append(abs(published - exact))
    return {
        "pairs": len(rows),
        "published_under_k_share": round(sum(1 for r in rows if r[0] < k) / max(len(rows), 1), 4),
        "share_relative_error": _quantiles(relative),
        "share_absolute_error": _quantiles(absolute),
    }


def curve_errors(con: duckdb.DuckDBPyConnection, lake: Path, k: int) -> dict[str, Any]:
    """A chat's published hourly curve (`int_snapshot_channels.published_chatters`, chat
    lists) against the exact hour: its people per snapshot read (every account in the raw
    chat list less those `int_bots` flags, every chat of every person), averaged."""
    root = lake / RAW / CHATTERS.name
    rows = con.execute(
        "with presence as (select cast(snapshot_ts as date) as day, snapshot_ts, channel_id, "
        f"viewer from read_parquet('{root}/*/*.parquet')), "
        "people as (select p.* from presence as p where not exists (select 1 from bots as b "
        "where b.day = p.day and b.viewer = p.viewer and b.is_bot)), "
        "observed as (select channel_id, date_trunc('hour', snapshot_ts) as hour, count(*) as n "
        "from people group by all), "
        "reads as (select channel_id, date_trunc('hour', snapshot_ts) as hour, "
        "count(*) as snapshots, max(published_chatters) as published "
        "from int_snapshot_channels where signal = 'chat_list' and presence_read group by all) "
        "select coalesce(observed.n, 0) / reads.snapshots, reads.published from reads "
        "left join observed using (channel_id, hour)"
    ).fetchall()
    published = [(float(e), int(p)) for e, p in rows if p is not None and e]
    at_least_k = [p for e, p in rows if e >= k]
    return {
        "chat_hours": len(rows),
        "published": len(published),
        "relative_error": _quantiles([abs(p - e) / e for e, p in published]),
        "absolute_error": _quantiles([abs(p - e) for e, p in published]),
        "suppressed_share_of_at_least_k": round(
            sum(1 for p in at_least_k if p is None) / max(len(at_least_k), 1), 4
        ),
    }


def run_privacy_suite(
    scale: str, *, day: dt.date, hours: float, seed: int, progress: Progress
) -> dict[str, Any]:
    """Write and load `DAYS` days ending on `day`, then measure the published figures."""
    first = day - dt.timedelta(days=DAYS - 1)
    days = [first + dt.timedelta(days=i) for i in range(DAYS)]
    with tempfile.TemporaryDirectory(prefix="streamcensus-bench-privacy-") as tmp:
        settings = Settings.model_validate({"data_dir": Path(tmp)})
        for one in days:
            progress(f"privacy: write {one} from the simulator's ground truth ({hours:g} h)")
            write_truth_day(
                settings.lake_dir,
                settings.state_dir,
                one,
                scale=scale,
                seed=seed,
                hours=hours,
                language=settings.language,
                top_n=settings.top_n,
                known_bots=settings.known_bots,
            )
        progress("privacy: load")
        load_days(settings, days, clock=SimClock(day_start(day + dt.timedelta(days=1)), speed=0.0))
        con = _connect(settings)
        try:
            scale_b = calibrate(settings.privacy_epsilon)
            return {
                "scale": scale,
                "days": [d.isoformat() for d in days],
                "hours": hours,
                "k": settings.k,
                "epsilon_per_figure": settings.privacy_epsilon,
                "noise_scale": scale_b,
                "noise_95": round(accuracy(scale_b, 0.05), 3),
                "bound": bound_cost(con, settings.privacy_contribution_bound),
                "channel_day_people": channel_day_errors(con, settings.k),
                "overlap_day": overlap_errors(con, 1, settings.k),
                "overlap_week": overlap_errors(con, 7, settings.k),
                "chat_curve_hours": curve_errors(con, settings.lake_dir, settings.k),
            }
        finally:
            con.close()
