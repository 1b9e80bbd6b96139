"""Publication decisions taken on noisy values only (transform/protect.py), unit by unit.

- viewer_habits: which buckets of a distribution are merged is decided on the noisy
  values, never on the exact ones (an exact decision would tell the attacker on which side
  of k an exact bucket lies);
- exposure: the shares of unique people and their intervals come from noisy counts only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from streamcensus.transform.exposure import SCHEMA as EXPOSURE_SCHEMA
from streamcensus.transform.exposure import wilson
from streamcensus.transform.noise import FigureNoise, figure_id
from streamcensus.transform.protect import protect_table

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


def _cut(values: list[int]) -> int | None:
    """The rule, written out: from the first bucket under k upwards, everything is merged;
    if what is merged stays under k, the merge starts lower until it reaches k."""
    first_small = next((i for i, v in enumerate(values) if v < K), len(values))
    start = first_small
    while start > 0 and sum(values[start:]) < K:
        start -= 1
    if sum(values[start:]) < K:
        return None
    return start if start < len(values) else None


def test_habit_buckets_are_merged_on_noisy_values() -> None:
    noise = FigureNoise(KEY, 0.5)
    found: tuple[dt.date, list[int]] | None = None
    for offset in range(400):  # a day whose noise moves the merge (bounded search)
        day = DAY + dt.timedelta(days=offset)
        ids = [figure_id("habits", day, SIGNAL, "sessions_per_viewer", b) for b, _, _ in BUCKETS]
        noisy = [int(v or 0) for v in noise.counts(ids, EXACT)]
        if _cut(noisy) != _cut(EXACT) and _cut(noisy) is not None:
            found = (day, noisy)
            break
    assert found is not None
    day, noisy = found
    table = protect_table("viewer_habits", _habits(day, EXACT), noise, K)
    rows = table.select(["bucket", "bucket_min", "bucket_max", "value", "share"]).to_pylist()
    cut = _cut(noisy)
    assert cut is not None
    total = sum(noisy)
    expected: list[dict[str, Any]] = [
        {
            "bucket": BUCKETS[i][0],
            "bucket_min": BUCKETS[i][1],
            "bucket_max": BUCKETS[i][2],
            "value": noisy[i],
            "share": round(noisy[i] / total, 6),
        }
        for i in range(cut)
    ]
    expected.append(
        {
            "bucket": BUCKETS[cut][0],
            "bucket_min": BUCKETS[cut][1],
            "bucket_max": None,  # merged up to the open bucket
            "value": sum(noisy[cut:]),
            "share": round(sum(noisy[cut:]) / total, 6),
        }
    )
    assert rows == expected
    # merged on exact values, the rows would have been cut elsewhere
    assert len(rows) != (_cut(EXACT) or 0) + 1
    assert "raw_people" not in table.column_names


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
    noise = FigureNoise(KEY, 0.5)
    table = protect_table("exposure", _exposure_rows(), noise, K)
    census, sample = table.to_pylist()
    window = (DAY, 7, SIGNAL)

    def noisy(kind: str, *parts: object, exact: int) -> int:
        value = noise.counts([figure_id(kind, *window, *parts)], [exact])[0]
        assert value is not None
        return value

    population = noisy("exposure_population", exact=500)
    # a census's sample is its population: the same figure, one noisy value
    assert census["population"] == census["sample_size"] == population
    unique = noisy("exposure_unique", "channel_set", None, exact=62)
    share = round(unique / population, 6)
    assert (census["unique_share"], census["ci_low"], census["ci_high"]) == (share, share, share)
    size = min(noisy("exposure_sample", "unicity", 2, exact=300), population)
    found = noisy("exposure_unique", "unicity", 2, exact=90)
    low, high = wilson(found, size)
    assert sample["sample_size"] == size
    assert sample["unique_share"] == round(found / size, 6)
    assert (sample["ci_low"], sample["ci_high"]) == (round(low, 6), round(high, 6))
    assert "raw_unique" not in table.column_names
    # the exact shares are gone (this key's noise moves both)
    assert (census["unique_share"], sample["unique_share"]) != (0.124, 0.3)
