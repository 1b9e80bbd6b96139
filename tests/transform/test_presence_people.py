"""The people and bots per snapshot computed from the presence pass's snapshots are the rows
of the SQL definitions (`int_presence_people`, `int_presence_shared`, `int_bot_presence`).

A seeded random day and signal pair: viewers in one or several chats per snapshot, some
chats of each person not counted (as the contribution bound leaves them out), some
accounts flagged as bots. The pass's rows and the SQL's, over the same presence loaded
into DuckDB, must be equal.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from load.lakebuilder import DAY, at
from streamcensus.lake.schema import CHATTERS_SCHEMA
from streamcensus.transform.context import CHAT_ACTIVITY, CHAT_LIST
from streamcensus.transform.engines import DuckQueries
from streamcensus.transform.presence import DayPresence
from streamcensus.transform.presence_people import MODELS, PresencePeople
from streamcensus.transform.runner import load_models, strip_comments

CHANNELS = [str(7000 + i) for i in range(6)]
VIEWERS = [9_000_000 + 37 * i for i in range(80)]
SNAPSHOTS = 30
Row = tuple[str, str, int, int, bool]  # signal, channel, slot, viewer, is_known_bot


def _presence(seed: int) -> dict[str, list[tuple[dt.datetime, list[tuple[str, int]]]]]:
    """Per signal, the snapshots' (channel, viewer) rows: most viewers in one chat, some in
    two or three, a few in every chat."""
    rng = random.Random(seed)
    days: dict[str, list[tuple[dt.datetime, list[tuple[str, int]]]]] = {}
    for signal in (CHAT_LIST, CHAT_ACTIVITY):
        snapshots = []
        for index in range(SNAPSHOTS):
            if rng.random() < 0.1:
                continue  # a missed snapshot
            moment = at(DAY, "10:00") + dt.timedelta(minutes=5 * index)
            rows: set[tuple[str, int]] = set()
            for viewer in rng.sample(VIEWERS, 50):
                spread = 6 if viewer % 10 == 0 else rng.choice((1, 1, 1, 2, 3))
                for channel in rng.sample(CHANNELS, spread):
                    rows.add((channel, viewer))
            snapshots.append((moment, sorted(rows)))
        days[signal] = snapshots
    return days


def _chatters(moment: dt.datetime, rows: list[tuple[str, int]]) -> pa.Table:
    n = len(rows)
    return pa.table(
        {
            "snapshot_id": [moment.strftime("%Y%m%dT%H%M%SZ")] * n,
            "snapshot_ts": pa.array([moment] * n, pa.timestamp("s", tz="UTC")),
            "channel_id": [c for c, _ in rows],
            "viewer": pa.array([v for _, v in rows], pa.int64()),
            "key_id": ["k1"] * n,
            "is_bot": [False] * n,
            "bot_name": pa.array([None] * n, pa.string()),
        },
        schema=CHATTERS_SCHEMA,
    )


def _sql_rows(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[Any, ...]]:
    sql = load_models()[name].sql
    assert sql is not None
    return sorted(con.execute(strip_comments(sql)).fetchall())


def _arrow_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return sorted(tuple(row.values()) for row in table.to_pylist())


@pytest.mark.parametrize("seed", [1, 2])
def test_the_pass_counts_people_and_bots_as_the_sql(seed: int) -> None:
    rng = random.Random(seed + 100)
    presence = _presence(seed)
    passes = []
    rows: list[tuple[Any, ...]] = []
    for signal, snapshots in presence.items():
        day = DayPresence(DAY, bot_min_chats=20, interval_minutes=5, signal=signal)
        for moment, chat_rows in snapshots:
            day.add(moment, _chatters(moment, chat_rows))
            slot = int(moment.timestamp()) // 300
            rows += [(DAY, signal, slot, "x", moment, c, v, False) for c, v in chat_rows]
        assert day.finish() is not None
        passes.append(day)
    # each person counts in a random subset (up to 2) of the chats she was in that day
    bots = set(rng.sample(VIEWERS, 8))
    chats: dict[tuple[str, int], set[str]] = {}
    per_slot: dict[tuple[str, int, int], int] = {}
    for _, signal, slot, _, _, channel, viewer, _ in rows:
        chats.setdefault((signal, viewer), set()).add(channel)
        per_slot[(signal, slot, viewer)] = per_slot.get((signal, slot, viewer), 0) + 1
    peaks: dict[tuple[str, int], int] = {}
    for (signal, _, viewer), n in per_slot.items():
        peaks[(signal, viewer)] = max(peaks.get((signal, viewer), 0), n)
    bounded = [
        (DAY, signal, viewer, channel, peaks[(signal, viewer)], rank + 1)
        for (signal, viewer), seen in sorted(chats.items())
        if viewer not in bots
        for rank, channel in enumerate(rng.sample(sorted(seen), min(2, len(seen))))
    ]
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            "create table stg_presence (day date, signal varchar, slot bigint, "
            "snapshot_id varchar, snapshot_ts timestamptz, channel_id varchar, viewer bigint, "
            "is_known_bot boolean)"
        )
        con.executemany("insert into stg_presence values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute(
            "create table bounded_sessions (day date, signal varchar, viewer bigint, "
            "channel_id varchar, peak_chats integer, contribution_rank integer)"
        )
        con.executemany("insert into bounded_sessions values (?, ?, ?, ?, ?, ?)", bounded)
        con.execute("create table int_bots (day date, viewer bigint, is_bot boolean)")
        con.executemany(
            "insert into int_bots values (?, ?, ?)", [(DAY, v, v in bots) for v in VIEWERS]
        )
        con.execute("create table run_days as select cast(? as date) as day", [DAY])
        con.execute("create table run_params as select 2 as contribution_bound")
        people = PresencePeople(passes)
        for name in MODELS:
            expected = _sql_rows(con, name)
            assert expected, name  # every model has rows to compare
            assert _arrow_rows(people.rows(name, DuckQueries(con))) == expected, name
        # the bound and the bots matter: fewer people than accounts present
        assert sum(r[-1] for r in _sql_rows(con, "int_presence_people")) < len(rows)
    finally:
        con.close()
