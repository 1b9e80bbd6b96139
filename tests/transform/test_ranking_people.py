"""`ranking_chatters`' exact people per window against the definition, person by person."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict

import duckdb

from streamcensus.transform.rankings import WINDOWS, people_sql

SALT = "0123456789abcdef0123456789abcdef"
BOUND = 3
FIRST = dt.date(2026, 10, 20)
RUN_DAYS = (dt.date(2026, 11, 20), dt.date(2026, 11, 27))
SIGNALS = ("chat_list", "chat_activity")
Key = tuple[dt.date, str, str, str]


def _draw(kind: str, subject: str, viewer: int) -> str:
    middle = "|game|" if kind == "games" else "|"
    return hashlib.md5(f"{SALT}{middle}{subject}|{viewer}".encode()).hexdigest()


def _lake(seed: int) -> tuple[duckdb.DuckDBPyConnection, list[tuple[object, ...]], set[object]]:
    """Sessions of 30 people over 40 days in 9 chats (some people in many: the bound
    bites), bots on some days, and the games each chat streamed in spans of a day."""
    rng = random.Random(seed)
    con = duckdb.connect(":memory:")
    con.execute("set timezone = 'UTC'")
    con.execute("create table calendar (day date, day_number integer, isodow integer)")
    days = [FIRST + dt.timedelta(days=i) for i in range(40)]
    con.executemany(
        "insert into calendar values (?, ?, ?)",
        [[d, (d - dt.date(1970, 1, 1)).days, d.isoweekday()] for d in days],
    )
    con.execute("create table run_days (day date)")
    con.executemany("insert into run_days values (?)", [[d] for d in RUN_DAYS])
    con.execute(
        "create table run_params as select ? as contribution_bound, ? as contribution_salt",
        [BOUND, SALT],
    )
    sessions: list[tuple[object, ...]] = []
    for viewer in range(1, 31):
        chats = rng.sample(range(9), rng.randint(1, 8))
        for _ in range(rng.randint(1, 25)):
            day = rng.choice(days)
            start = dt.datetime.combine(day, dt.time(rng.randint(0, 22)), dt.UTC)
            end = start + dt.timedelta(minutes=rng.randint(0, 50))
            sessions.append((day, rng.choice(SIGNALS), f"c{rng.choice(chats)}", viewer, start, end))
    con.execute(
        "create table viewing_sessions (day date, signal varchar, channel_id varchar, "
        "viewer bigint, first_seen timestamptz, last_seen timestamptz)"
    )
    con.executemany("insert into viewing_sessions values (?, ?, ?, ?, ?, ?)", sessions)
    bots = {(rng.choice(days), v) for v in range(1, 31) for _ in range(3)}
    con.execute("create table int_bots (day date, viewer bigint, is_bot boolean)")
    con.executemany(
        "insert into int_bots values (?, ?, ?)", [[d, v, rng.random() < 0.7] for d, v in bots]
    )
    con.execute(
        "create table game_channel_day (day date, channel_id varchar, game_id varchar, "
        "first_ts timestamptz, last_ts timestamptz)"
    )
    games = []
    for day in days:
        for chat in range(9):
            for game in rng.sample(["g1", "g2", "g3"], rng.randint(0, 2)):
                start = dt.datetime.combine(day, dt.time(rng.randint(0, 20)), dt.UTC)
                games.append((day, f"c{chat}", game, start, start + dt.timedelta(hours=3)))
    con.executemany("insert into game_channel_day values (?, ?, ?, ?, ?)", games)
    flagged = {
        (d, v) for d, v, is_bot in con.execute("select * from int_bots").fetchall() if is_bot
    }
    return con, sessions, {*flagged}


def _reference(
    con: duckdb.DuckDBPyConnection, sessions: list[tuple[object, ...]], bots: set[object]
) -> tuple[dict[Key, list[int]], int]:
    """The people of each subject per window, and how many times a person held more
    subjects than the bound in a window."""
    games = con.execute("select * from game_channel_day").fetchall()
    found: dict[Key, list[int]] = {}
    crowded = 0
    for run_day in RUN_DAYS:
        for wi, window in enumerate(WINDOWS):
            # each person's chats and games of the window, per signal
            held: dict[tuple[str, str, int], set[str]] = defaultdict(set)
            for day, signal, chat, viewer, start, end in sessions:
                assert isinstance(day, dt.date) and isinstance(viewer, int)
                age = (run_day - day).days
                if not 0 <= age < max(WINDOWS) or (day, viewer) in bots:
                    continue
                for kind, subject in [("channels", str(chat))] + [
                    ("games", g)
                    for d, c, g, first, last in games
                    if d == day and c == chat and start <= last and end >= first
                ]:
                    key: Key = (run_day, str(signal), kind, subject)
                    found.setdefault(key, [0] * len(WINDOWS))
                    if age < window:
                        held[(str(signal), kind, viewer)].add(subject)
            for (signal, kind, viewer), subjects in held.items():
                crowded += len(subjects) > BOUND
                ranked = sorted(subjects, key=lambda s: (_draw(kind, s, viewer), s))
                for subject in ranked[:BOUND]:
                    found[(run_day, signal, kind, subject)][wi] += 1
    return found, crowded


def test_people_per_window_are_each_persons_first_chats_by_the_draw() -> None:
    for seed in (1, 2, 3):
        con, sessions, bots = _lake(seed)
        rows = con.execute(people_sql()).fetchall()
        got = {(r[0], r[1], r[2], r[3]): [int(v) for v in r[4:]] for r in rows}
        expected, crowded = _reference(con, sessions, bots)
        assert got == expected
        assert crowded > 0  # the bound bites: people hold more chats (games) than it
