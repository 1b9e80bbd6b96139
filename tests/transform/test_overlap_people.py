"""`audience_overlap`'s exact counts against the definition, person by person: a week holds
each person's first `contribution_bound` chats of its days by the draw."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import random
from collections import defaultdict

import duckdb

from streamcensus.transform.runner import load_models, strip_comments

BOUND = 2
DAYS = [dt.date(2026, 11, 20) + dt.timedelta(days=i) for i in range(8)]
RUN_DAY = DAYS[-1]
SIGNAL = "chat_list"
Key = tuple[int, str, str]


def _draw(chat: str, viewer: int) -> str:
    return hashlib.md5(f"salt|{chat}|{viewer}".encode()).hexdigest()


def _lake(seed: int) -> tuple[duckdb.DuckDBPyConnection, dict[tuple[dt.date, int], set[str]]]:
    """Each person's chats of each day, at most the bound (as `bounded_sessions` keeps
    them), in chats that change from day to day, so a week holds more than the bound."""
    rng = random.Random(seed)
    con = duckdb.connect(":memory:")
    con.execute("create table calendar (day date, day_number integer, isodow integer)")
    con.executemany(
        "insert into calendar values (?, ?, ?)",
        [[d, (d - dt.date(1970, 1, 1)).days, d.isoweekday()] for d in DAYS],
    )
    con.execute("create table run_days as select ?::date as day", [RUN_DAY])
    con.execute("create table run_params as select ? as contribution_bound", [BOUND])
    con.execute("create table curated_files (day date, model varchar, retired boolean)")
    con.executemany(
        "insert into curated_files values (?, 'viewing_sessions', false)", [[d] for d in DAYS]
    )
    con.execute(
        "create table stg_streams (day date, slot integer, channel_id varchar, "
        "channel_login varchar)"
    )
    chats = [f"c{i}" for i in range(8)]
    con.executemany(
        "insert into stg_streams values (?, ?, ?, ?)",
        [[d, s, c, f"{c}-{s}"] for d in DAYS for c in chats for s in (1, 2)],
    )
    held: dict[tuple[dt.date, int], set[str]] = {}
    rows = []
    for viewer in range(1, 41):
        for day in rng.sample(DAYS, rng.randint(1, 5)):
            mine = rng.sample(chats, rng.randint(1, 4))
            kept = sorted(mine, key=lambda c: (_draw(c, viewer), c))[:BOUND]
            held[(day, viewer)] = set(kept)
            # a chat of the day may come in several sessions
            rows += [(day, SIGNAL, viewer, c, _draw(c, viewer)) for c in kept for _ in (1, 2)]
    con.execute(
        "create table bounded_sessions (day date, signal varchar, viewer bigint, "
        "channel_id varchar, contribution_draw varchar)"
    )
    con.executemany("insert into bounded_sessions values (?, ?, ?, ?, ?)", rows)
    return con, held


def _reference(held: dict[tuple[dt.date, int], set[str]]) -> dict[Key, tuple[int, int, int]]:
    counts: dict[Key, tuple[int, int, int]] = {}
    for window in (1, 7):
        first = RUN_DAY - dt.timedelta(days=window - 1)
        people: dict[int, set[str]] = defaultdict(set)
        for (day, viewer), chats in held.items():
            if first <= day <= RUN_DAY:
                people[viewer] |= chats
        kept = {v: sorted(c, key=lambda x: (_draw(x, v), x))[:BOUND] for v, c in people.items()}
        sizes: dict[str, int] = defaultdict(int)
        shared: dict[tuple[str, str], int] = defaultdict(int)
        for first_chats in kept.values():
            for c in first_chats:
                sizes[c] += 1
            for a, b in itertools.combinations(sorted(first_chats), 2):
                shared[(a, b)] += 1
        for (a, b), n in shared.items():
            counts[(window, a, b)] = (n, sizes[a], sizes[b])
    return counts


def test_week_pairs_keep_each_persons_first_chats_of_the_week() -> None:
    model = load_models()["audience_overlap"]
    assert model.sql is not None
    for seed in (1, 2, 3):
        con, held = _lake(seed)
        rows = con.execute(
            "select window_days, channel_a, channel_b, shared_chatters, chatters_a, "
            f"chatters_b, days_covered from ({strip_comments(model.sql)})"
        ).fetchall()
        got = {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in rows}
        assert got == _reference(held)
        assert {r[6] for r in rows} <= {1, 7}
        # the bound bites over the week: someone holds more chats than it
        weeks: dict[int, set[str]] = defaultdict(set)
        for (_, viewer), chats in held.items():
            weeks[viewer] |= chats
        assert any(len(c) > BOUND for c in weeks.values())
