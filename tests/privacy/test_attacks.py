"""Differencing attacks on the public JSON API, as an attacker would run them.

A two-day lake (60 chats: clusters of channels sharing people, tiny chats with bots) is
loaded and served; each attack combines published figures into a count of people that is never
published on its own (people seen on both days, first-time chatters, people under k behind
a bot share, people of one chat not in another), and is scored against the exact truth
from the curated viewing sessions, which are internal and never published.

On exact counts (k applied alone) every such combination recovers its group exactly, one
person included. With noise per figure a combination hits the truth only by chance (the
noise of each figure is 0 with probability ≈ 0.24 at ε = 0.5, less for sums), and the
attacker cannot tell which hits are right. So each attack must find enough small groups
(1 to k−1 people) to be meaningful and must recover at most half of them exactly: on the
code that published exact counts, each recovered all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import pytest

from load.lakebuilder import LakeBuilder, Stream, at, grid, make_settings, run_load
from streamcensus.config import Settings
from streamcensus.lake.schema import CURATED
from streamcensus.serve.app import create_app

DAY1 = dt.date(2026, 11, 26)
DAY2 = dt.date(2026, 11, 27)
SIGNAL = "chat_list"
MIN_TARGETS = 5
MAX_EXACT_SHARE = 0.5


CLUSTERS = 10  # groups of 4 channels sharing a pool of 150 people
CLUSTER_CHANNELS = 4
CLUSTER_PEOPLE = 150
TINY = 8  # channels of 3..9 people and every bot
KNOWN_BOTS = [9_000_001, 9_000_002]
LURKERS = [9_100_000 + i for i in range(6)]  # in every chat at once: flagged as bots


LOYAL = 6  # pairs of chats sharing 30 regulars, each with a few people of its own


def _loyal(chats: dict[str, list[int]], second_day: bool) -> None:
    """Pair p: chat A has 30 regulars on day 1, 25 of them and 1..9 newcomers on day 2;
    chat B has the 30 (then 25) regulars and 1..9 people of its own on both days."""
    for pair in range(LOYAL):
        base = 200_000 + pair * 1000
        regulars = list(range(base, base + (25 if second_day else 30)))
        own = list(range(base + 100, base + 101 + (pair * 7) % 9))
        newcomers = list(range(base + 200, base + 201 + (pair * 5 + 3) % 9))
        chats[f"{5000 + 2 * pair}"] = regulars + (newcomers if second_day else [])
        chats[f"{5001 + 2 * pair}"] = regulars + own


def _audience(rng: np.random.Generator, active: float, second_day: bool) -> dict[str, list[int]]:
    """One day's chats: each active person of a cluster joins 2 of its 4 channels; tiny
    chats; loyal pairs."""
    chats: dict[str, list[int]] = {}
    for cluster in range(CLUSTERS):
        channels = [f"{3000 + cluster * CLUSTER_CHANNELS + i}" for i in range(CLUSTER_CHANNELS)]
        for c in channels:
            chats[c] = []
        for person in range(CLUSTER_PEOPLE):
            if rng.random() < active:
                for i in rng.choice(CLUSTER_CHANNELS, size=2, replace=False):
                    chats[channels[int(i)]].append(cluster * 1000 + person)
    for tiny in range(TINY):
        people = rng.choice(500, size=int(rng.integers(3, 10)), replace=False)
        chats[f"{4000 + tiny}"] = [100_000 + tiny * 1000 + int(p) for p in people]
    _loyal(chats, second_day)
    for members in chats.values():
        members.extend([*KNOWN_BOTS, *LURKERS])
    return chats


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Two days of 60 chats (three snapshots each): 40 in clusters whose people return
    from day to day in small numbers, 8 tiny chats of fewer than k people with bots, and 6
    pairs of chats with the same regulars and a few people of their own."""
    data_dir: Path = tmp_path_factory.mktemp("attacks")
    builder = LakeBuilder(data_dir / "lake", known_bots=KNOWN_BOTS)
    rng = np.random.default_rng(2026)
    for day, active in ((DAY1, 0.5), (DAY2, 0.4)):
        chats = _audience(rng, active, day == DAY2)
        streams = [Stream(c, 100, at(day, "19:00"), login=f"ch{c}") for c in sorted(chats)]
        for moment in grid(at(day, "20:00"), at(day, "20:10")):
            builder.snapshot(moment, streams, chats)
    settings = make_settings(data_dir)
    run_load(settings, today=DAY2 + dt.timedelta(days=1))
    return settings


@pytest.fixture
async def api(lake: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(lake)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            yield c
    finally:
        app.state.serve.pool.close()


def _truth(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The exact sessions (internal): people are accounts with a session not flagged bot."""
    con = duckdb.connect()
    root = settings.lake_dir / CURATED / "viewing_sessions"
    con.execute(
        f"create view s as select * from read_parquet('{root}/*/*.parquet') "
        f"where signal = '{SIGNAL}'"
    )
    con.execute(
        f"create view people as select distinct day, channel_id, viewer from s "
        f"where not is_known_bot and peak_chats < {settings.bot_min_chats}"
    )
    # a chat's people on a day: accounts never flagged as a bot there that day
    con.execute(
        "create view day_people as select day, channel_id, viewer from s group by all "
        f"having max(case when is_known_bot or peak_chats >= {settings.bot_min_chats} "
        "then 1 else 0 end) = 0"
    )
    return con


def _logins(settings: Settings) -> dict[str, str]:
    """Channel login → id (public: both are on every channel page)."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = con.execute("select distinct channel_login, channel_id from channel_day").fetchall()
    finally:
        con.close()
    return {str(login): str(cid) for login, cid in rows}


def _score(pairs: Iterable[tuple[set[int], int]], k: int) -> tuple[int, int]:
    """(targets, exact hits): a target is a true group of 1..k-1 people; a hit is any of
    the attacker's candidate values equal to it."""
    targets = hits = 0
    for candidates, truth in pairs:
        if 1 <= truth < k:
            targets += 1
            hits += truth in candidates
    return targets, hits


def _assert_defeated(name: str, targets: int, hits: int) -> None:
    print(f"{name}: {hits} of {targets} small groups recovered exactly")  # shown with -s
    assert targets >= MIN_TARGETS, f"{name}: only {targets} small groups to attack"
    assert hits <= MAX_EXACT_SHARE * targets, (
        f"{name}: recovered {hits} of {targets} groups of 1..k-1 people exactly"
    )


async def _get(api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _channel_days(api: httpx.AsyncClient, logins: Iterable[str]) -> list[dict[str, Any]]:
    rows = []
    for login in logins:
        view = await _get(api, f"/api/channels/{login}", day=DAY2.isoformat(), weeks=1)
        for day in view["days"]:
            rows.append({"login": login, **day})
    return rows


async def test_map_node_sizes_do_not_give_the_people_of_both_days(
    lake: Settings, api: httpx.AsyncClient
) -> None:
    """people(day 1) + people(day 2) − people(7 days) from the map's node sizes."""
    sizes: dict[tuple[str, int], dict[str, int]] = {}
    for day, window in ((DAY1, 1), (DAY2, 1), (DAY2, 7)):
        found = await _get(
            api, "/api/map", day=day.isoformat(), window=window, limit=200, signal=SIGNAL
        )
        sizes[(day.isoformat(), window)] = {
            n["channel_login"]: n["chatters"] for n in found["nodes"]
        }
    logins = _logins(lake)
    con = _truth(lake)
    both = dict(
        con.execute(
            "select channel_id, count(*) from (select channel_id, viewer from people "
            "group by all having count(distinct day) = 2) group by channel_id"
        ).fetchall()
    )
    first, second, week = (
        sizes[(DAY1.isoformat(), 1)],
        sizes[(DAY2.isoformat(), 1)],
        sizes[(DAY2.isoformat(), 7)],
    )
    published = {
        logins[c]: first[c] + second[c] - week[c] for c in set(first) & set(second) & set(week)
    }
    pairs = [({published[c]} if c in published else set(), int(n)) for c, n in both.items()]
    _assert_defeated("map union", *_score(pairs, lake.k))


async def test_unique_less_returning_does_not_give_first_time_chatters(
    lake: Settings, api: httpx.AsyncClient
) -> None:
    """people − returning chatters on a channel page, with people read directly or as
    unique_chatters × (1 − bot_share)."""
    logins = _logins(lake)
    days = await _channel_days(api, logins)
    con = _truth(lake)
    first_time = {
        (str(c), d.isoformat()): int(n)
        for c, d, n in con.execute(
            "select t.channel_id, t.day, count(*) from day_people as t "
            "where t.day = ? and not exists (select 1 from people as p where p.day < t.day "
            "and p.channel_id = t.channel_id and p.viewer = t.viewer) group by all",
            [DAY2],
        ).fetchall()
    }
    published: dict[tuple[str, str], set[int]] = {}
    for r in days:
        if r["day"] != DAY2.isoformat() or r["returning_chatters"] is None:
            continue
        unique, back, share = r["unique_chatters"], r["returning_chatters"], r["bot_share"]
        candidates = {unique - back}
        if share is not None:
            candidates.add(round(unique * (1 - share)) - back)
        published[(logins[r["login"]], r["day"])] = candidates
    pairs = [(published.get(key, set()), truth) for key, truth in first_time.items()]
    _assert_defeated("unique - returning", *_score(pairs, lake.k))


async def test_bot_share_does_not_give_people_under_k(
    lake: Settings, api: httpx.AsyncClient
) -> None:
    """unique_chatters × (1 − bot_share) on every published channel-day: k must hold for
    people, bots excluded."""
    logins = _logins(lake)
    days = await _channel_days(api, logins)
    con = _truth(lake)
    people = {
        (str(c), d.isoformat()): int(n)
        for c, d, n in con.execute(
            "select channel_id, day, count(*) from day_people group by all"
        ).fetchall()
    }
    published: dict[tuple[str, str], set[int]] = {}
    for r in days:
        if r["unique_chatters"] is None:
            continue
        candidates = {r["unique_chatters"]}
        if r["bot_share"] is not None:
            candidates.add(round(r["unique_chatters"] * (1 - r["bot_share"])))
        published[(logins[r["login"]], r["day"])] = candidates
    # every small chat is a target, published or not: suppressing it is a defence
    pairs = [(published.get(key, set()), truth) for key, truth in people.items()]
    _assert_defeated("bot share", *_score(pairs, lake.k))


async def test_neighbour_shares_do_not_give_the_people_of_one_chat_only(
    lake: Settings, api: httpx.AsyncClient
) -> None:
    """chatters − shared from a channel page's neighbours: this chat's size is shared /
    share_of_this, and its people not in the other chat are the difference."""
    logins = _logins(lake)
    con = _truth(lake)
    shared = {
        (str(a), str(b))
        for a, b in con.execute(
            "select distinct x.channel_id, y.channel_id from people as x join people as y "
            "on x.viewer = y.viewer and x.channel_id <> y.channel_id"
        ).fetchall()
    }
    only = {
        (str(a), str(b)): int(n)
        for a, b, n in con.execute(
            "with week as (select distinct channel_id, viewer from people) "
            "select x.channel_id, y.channel_id, count(*) from week as x cross join "
            "(select distinct channel_id from week) as y where x.channel_id <> y.channel_id "
            "and not exists (select 1 from week as z where z.channel_id = y.channel_id "
            "and z.viewer = x.viewer) group by all"
        ).fetchall()
    }
    published: dict[tuple[str, str], set[int]] = {}
    for login in logins:
        view = await _get(api, f"/api/channels/{login}", day=DAY2.isoformat(), weeks=1)
        for n in view["neighbours"]:
            if n["share_of_this"]:
                size = round(n["shared_chatters"] / n["share_of_this"])
                key = (logins[login], logins[n["channel_login"]])
                published[key] = {size - n["shared_chatters"]}
    # the pairs of chats that share anyone: those a neighbour list could show
    pairs = [(published.get(key, set()), truth) for key, truth in only.items() if key in shared]
    _assert_defeated("chatters - shared", *_score(pairs, lake.k))
