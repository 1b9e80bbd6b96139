"""The chat sizes of `/api/rankings` under attack, on the two-day lake of the privacy tests.

The rankings publish a chat's people over the day, 7 and 30 days, and the change against
the day before: exact, these would give the people of both days (day 1 + day 2 − the
week) and the people of one day only. Every chatters value must be at least k, and no
chat under k (1 to k−1 people) may have its exact size published, alone or by
differencing windows.
"""

from __future__ import annotations

from typing import Any

import httpx

from privacy.test_attacks import (
    DAY1,
    DAY2,
    SIGNAL,
    _assert_defeated,
    _get,
    _logins,
    _score,
    _truth,
    api,
    lake,
)
from streamcensus.config import Settings

__all__ = ["api", "lake"]  # the privacy tests' fixtures, used here


async def _sizes(api: httpx.AsyncClient, day: str, window: int) -> dict[str, Any]:
    found = await _get(
        api,
        "/api/rankings",
        day=day,
        window=window,
        kind="channels",
        by="hours_watched",  # every live channel, with its chat size beside
        signal=SIGNAL,
        limit=200,
    )
    return {s["id"]: s["chatters"] for s in found["subjects"]}


async def test_no_chat_size_is_an_exact_count_under_k(
    lake: Settings, api: httpx.AsyncClient
) -> None:
    con = _truth(lake)
    exact = {
        (str(day), str(channel)): int(n)
        for day, channel, n in con.execute(
            "select day, channel_id, count(*) from day_people group by all"
        ).fetchall()
    }
    small = published = 0
    for day in (DAY1, DAY2):
        sizes = await _sizes(api, day.isoformat(), 1)
        assert len(sizes) == 60
        for channel, figure in sizes.items():
            value = figure["current"]
            assert value is None or value >= lake.k, (channel, value)
            truth = exact.get((day.isoformat(), channel), 0)
            if 1 <= truth < lake.k:
                small += 1
                assert value != truth
                published += value is not None
            if figure["previous"] is not None:
                assert figure["previous"] >= lake.k
    assert small >= 8  # the tiny chats, on each day
    assert published <= small // 2


async def test_day_plus_day_less_week_does_not_give_the_people_of_both_days(
    lake: Settings, api: httpx.AsyncClient
) -> None:
    first = await _sizes(api, DAY1.isoformat(), 1)
    second = await _sizes(api, DAY2.isoformat(), 1)
    week = await _sizes(api, DAY2.isoformat(), 7)
    logins = _logins(lake)
    assert set(second) <= set(logins.values())
    both = dict(
        _truth(lake)
        .execute(
            "select channel_id, count(*) from (select channel_id, viewer from people "
            "group by all having count(distinct day) = 2) group by channel_id"
        )
        .fetchall()
    )
    guessed: dict[str, set[int]] = {}
    for channel in set(first) & set(second) & set(week):
        a, b, w = first[channel]["current"], second[channel]["current"], week[channel]["current"]
        if None not in (a, b, w):
            guessed[channel] = {int(a + b - w)}
        # the day's change against the day before is published too: it adds nothing exact
        change = second[channel]["change"]
        if change is not None and a is not None and b is not None:
            assert change == b - a
    pairs = [(guessed.get(str(c), set()), int(n)) for c, n in both.items()]
    _assert_defeated("rankings union", *_score(pairs, lake.k))
