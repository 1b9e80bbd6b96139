"""Publication decisions taken on noisy values only (transform/protect.py), unit by unit.

- viewer_habits: which buckets of a distribution are merged is decided on the noisy
  values, never on the exact ones (an exact decision would tell the attacker on which side
  of k an exact bucket lies);
- viewer_habits: an empty or small bucket is merged with its neighbours, not with
  everything above it;
- exposure: the shares of unique people and their intervals come from noisy counts only,
  and the sampled unicity is calibrated for what one person can move it by (the sample).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa

from streamcensus.transform.context import RunParams
from streamcensus.transform.exposure import SCHEMA as EXPOSURE_SCHEMA
from streamcensus.transform.exposure import wilson
from streamcensus.transform.noise import FigureNoise, accuracy, figure_id
from streamcensus.transform.protect import SENSITIVITIES, protect_table, unicity_sensitivity

KEY = bytes(range(40, 72))
K = 10
DAY = dt.date(2026, 11, 27)
SIGNAL = "chat_list"
# sessions_per_viewer's buckets: 1, 2, 3, 4-5, 6-10, 11+
BUCKETS = [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 5), (5, 6, 10), (6, 11, None)]
EXACT = [40, 14, 11, 10, 9, 2]  # exactly: bucket 5 (9) is the first under k


def _habits(day: dt.date, values: list[int]) -> pa.Table:
    n = len(BUCKETS)
    return pa.table(
        {
            "day": [day] * n,
            "signal": [SIGNAL] * n,
            "metric": ["sessions_per_viewer"] * n,
            "unit": ["people"] * n,
            "bucket": pa.array([b for b, _, _ in BUCKETS], pa.int32()),
            "bucket_min": pa.array([lo for _, lo, _ in BUCKETS], pa.int32()),
            "bucket_max": pa.array([hi for _, _, hi in BUCKETS], pa.int32()),
            "value": pa.array(values, pa.int32()),
            "share": pa.array([None] * n, pa.float64()),
            "raw_people": pa.array([None] * n, pa.int64()),
        }
    )


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """The rule, written out: (first, last) bucket of each published bucket. Walking up,
    a bucket closes where everything since the last close reaches k; what is left at the
    top under k widens the last closed bucket; nothing closes: nothing published."""
    closes = []
    since = 0
    for i, value in enumerate(values):
        since += value
        if since >= K:
            closes.append(i)
            since = 0
    if not closes:
        return []
    closes[-1] = len(values) - 1
    starts = [0, *(c + 1 for c in closes[:-1])]
    return list(zip(starts, closes, strict=True))


def _expected(values: list[int]) -> list[dict[str, Any]]:
    total = sum(values)
    return [
        {
            "bucket": BUCKETS[first][0],
            "bucket_min": BUCKETS[first][1],
            "bucket_max": BUCKETS[last][2],
            "value": sum(values[first : last + 1]),
            "share": round(sum(values[first : last + 1]) / total, 6),
        }
        for first, last in _runs(values)
    ]


def test_habit_buckets_are_merged_on_noisy_values() -> None:
    noise = FigureNoise(KEY, 0.5)
    found: tuple[dt.date, list[int]] | None = None
    for offset in range(400):  # a day whose noise moves the merge (bounded search)
        day = DAY + dt.timedelta(days=offset)
        ids = [figure_id("habits", day, SIGNAL, "sessions_per_viewer", b) for b, _, _ in BUCKETS]
        noisy = [int(v or 0) for v in noise.counts(ids, EXACT)]
        if _runs(noisy) != _runs(EXACT) and _runs(noisy):
            found = (day, noisy)
            break
    assert found is not None
    day, noisy = found
    table = protect_table("viewer_habits", _habits(day, EXACT), noise, K)
    rows = table.select(["bucket", "bucket_min", "bucket_max", "value", "share"]).to_pylist()
    assert rows == _expected(noisy)
    # merged on exact values, the rows would have been cut elsewhere
    assert [(r["bucket_min"], r["bucket_max"]) for r in rows] != [
        (r["bucket_min"], r["bucket_max"]) for r in _expected(EXACT)
    ]
    assert "raw_people" not in table.column_names


def test_an_empty_lowest_bucket_merges_with_its_neighbour_only() -> None:
    # at ε = 10 (scale 0.1) this key adds no noise to these buckets: the exact values
    noise = FigureNoise(KEY, 10.0)
    values = [0, 40, 30, 12, 5, 2]
    ids = [figure_id("habits", DAY, SIGNAL, "sessions_per_viewer", b) for b, _, _ in BUCKETS]
    assert noise.counts(ids, values) == values
    table = protect_table("viewer_habits", _habits(DAY, values), noise, K)
    rows = table.select(["bucket", "bucket_min", "bucket_max", "value"]).to_pylist()
    # 1-2 (the empty 1 with 2), 3 alone, and 4 upwards (4-5 and 6-10 hold 7, under k,
    # so they join 4): never one open bucket holding everyone
    assert rows == [
        {"bucket": 1, "bucket_min": 1, "bucket_max": 2, "value": 40},
        {"bucket": 3, "bucket_min": 3, "bucket_max": 3, "value": 30},
        {"bucket": 4, "bucket_min": 4, "bucket_max": None, "value": 19},
    ]
    assert rows == [{k: r[k] for k in rows[0]} for r in _expected(values)]


def test_a_distribution_under_k_in_noisy_total_is_not_published() -> None:
    noise = FigureNoise(KEY, 0.5)
    table = protect_table("viewer_habits", _habits(DAY, [1, 1, 0, 0, 0, 0]), noise, K)
    assert table.num_rows == 0


def _exposure_rows() -> pa.Table:
    base = {"day": DAY, "window_days": 7, "signal": SIGNAL, "days_covered": 7}
    rows = [
        base
        | {
            "measure": "channel_set",
            "points": None,
            "method": "census",
            "population": 500,
            "sample_size": 500,
            "unique_share": 0.124,
            "ci_low": 0.124,
            "ci_high": 0.124,
            "raw_unique": 62,
        },
        base
        | {
            "measure": "unicity",
            "points": 2,
            "method": "sample",
            "population": 500,
            "sample_size": 300,
            "unique_share": 0.3,
            "ci_low": 0.25,
            "ci_high": 0.35,
            "raw_unique": 90,
        },
    ]
    return pa.Table.from_pylist(rows, schema=EXPOSURE_SCHEMA)


def test_exposure_shares_come_from_noisy_counts_only() -> None:
    # a sample a person moves by up to 5: its counts get noise for 5, the census's for 1
    noise = FigureNoise(KEY, 0.5, 5)
    one = noise.with_sensitivity(1)
    table = protect_table("exposure", _exposure_rows(), noise, K)
    census, sample = table.to_pylist()
    window = (DAY, 7, SIGNAL)

    def noisy(kind: str, *parts: object, exact: int, by: FigureNoise = one) -> int:
        value = by.counts([figure_id(kind, *window, *parts)], [exact])[0]
        assert value is not None
        return value

    population = noisy("exposure_population", exact=500)
    # a census's sample is its population: the same figure, one noisy value
    assert census["population"] == census["sample_size"] == population
    unique = noisy("exposure_unique", "channel_set", None, exact=62)
    share = round(unique / population, 6)
    assert (census["unique_share"], census["ci_low"], census["ci_high"]) == (share, share, share)
    size = min(noisy("exposure_sample", "unicity", 2, exact=300, by=noise), population)
    found = noisy("exposure_unique", "unicity", 2, exact=90, by=noise)
    low, high = wilson(found, size)
    # the interval adds the noise's 95% bound (integer noise: its floor) on both sides
    margin = math.floor(accuracy(noise.scale, 0.05))
    assert margin == 30  # scale 10 (ε 0.5 for a sensitivity of 5)
    assert sample["sample_size"] == size
    assert sample["unique_share"] == round(found / size, 6)
    assert (sample["ci_low"], sample["ci_high"]) == (
        round(max(0.0, low - margin / size), 6),
        round(min(1.0, high + margin / size), 6),
    )
    assert "raw_unique" not in table.column_names
    # the exact shares are gone (this key's noise moves both)
    assert (census["unique_share"], sample["unique_share"]) != (0.124, 0.3)


def test_sampled_unicity_is_calibrated_for_the_whole_sample() -> None:
    # one person can change every sampled person's uniqueness: the sensitivity is the sample
    assert unicity_sensitivity(RunParams()) == RunParams().exposure_sample == 1000
    assert SENSITIVITIES["exposure"](RunParams(exposure_sample=300)) == 300
    # at the defaults the noise's 95% bound (~6,000) drowns a sample of 300: not published,
    # while the census row (a person moves it by 1) is
    noise = FigureNoise(KEY, 0.5, unicity_sensitivity(RunParams()))
    table = protect_table("exposure", _exposure_rows(), noise, K)
    assert table.column("method").to_pylist() == ["census"]
