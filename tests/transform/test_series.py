"""The hourly people series published from Arrow columns (`transform/series.py`) equal the
row-by-row definition (`protect._series`: one noisy figure per bucket and keys, by its
`figure_id`, repeated on the bucket's rows, null under k or where the count is unknown)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa
import pytest

from streamcensus.timeutil import UTC
from streamcensus.transform.noise import FigureNoise
from streamcensus.transform.protect import _series, protect_table
from streamcensus.transform.series import series

K = 5
START = dt.datetime(2026, 11, 28, 21, 35, tzinfo=UTC)  # the day's last hours and the next's
SIGNALS = ["chat_list", "chat_activity"]


def _rows(seed: int, rows: int, tz: str | None = "UTC") -> pa.Table:
    """Snapshots of a few chats and games over several hours: counts around k, some null."""
    rng = random.Random(seed)
    moments = [START + dt.timedelta(minutes=5 * rng.randrange(60)) for _ in range(rows)]
    people: list[int | None] = [
        None if rng.random() < 0.2 else rng.choice([0, 1, 4, 5, 6, 9, 30, 200]) for _ in range(rows)
    ]
    stamps = [m if tz else m.replace(tzinfo=None) for m in moments]
    return pa.table(
        {
            "day": pa.array([m.date() for m in moments], pa.date32()),
            "snapshot_ts": pa.array(stamps, pa.timestamp("us", tz=tz)),
            "channel_id": pa.array([str(rng.choice([11, 22, 333, 4444])) for _ in range(rows)]),
            "signal": pa.array([rng.choice(SIGNALS) for _ in range(rows)]),
            "game_id": pa.array([rng.choice(["21779", "509658", None]) for _ in range(rows)]),
            "viewer_count": pa.array([rng.randrange(1000) for _ in range(rows)], pa.int64()),
            "chatters": pa.array(people, pa.int64()),
            "raw_people": pa.array(people, pa.int64()),
        }
    )


def _reference(name: str, table: pa.Table, noise: FigureNoise) -> pa.Table:
    """The model's rows published row by row in Python (the path these models had)."""
    cols: dict[str, list[Any]] = table.to_pydict()
    if name == "int_snapshot_channels":
        added = _series(cols, noise, K, "chat_hour_people", "raw_people", ("channel_id", "signal"))
        fields = [f for f in table.schema if not f.name.startswith("raw_")]
        fields.append(pa.field("published_chatters", pa.int64()))
        cols["published_chatters"] = added
    else:
        cols["chatters"] = _series(
            cols, noise, K, "game_hour_people", "chatters", ("signal", "game_id")
        )
        fields = [f for f in table.schema if not f.name.startswith("raw_")]
    schema = pa.schema(fields)
    return pa.Table.from_pydict({f.name: cols[f.name] for f in fields}, schema=schema)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", ["int_snapshot_channels", "community_chatters_by_game"])
def test_the_arrow_series_equal_the_row_path(name: str, seed: int) -> None:
    table = _rows(seed, 400)
    noise = FigureNoise(b"k" * 32)
    published = protect_table(name, table, noise, K)
    expected = _reference(name, table, noise)
    assert published.schema == expected.schema
    assert published.equals(expected)
    column = "published_chatters" if name == "int_snapshot_channels" else "chatters"
    values = published.column(column).to_pylist()
    # the draw is exercised: figures under k hidden, others shown, unknown counts null
    assert any(v is None for v in values) and any(v is not None and v >= K for v in values)
    unknown = [p is None for p in table.column("raw_people").to_pylist()]
    assert all(v is None for v, u in zip(values, unknown, strict=True) if u)


def test_a_timestamp_without_zone_is_read_as_utc() -> None:
    noise = FigureNoise(b"k" * 32)
    naive, aware = _rows(7, 300, tz=None), _rows(7, 300)
    got = series(naive, noise, K, "chat_hour_people", "raw_people", ("channel_id", "signal"))
    want = series(aware, noise, K, "chat_hour_people", "raw_people", ("channel_id", "signal"))
    assert got.equals(want)
    cols = naive.to_pydict()
    keys = ("channel_id", "signal")
    assert got.to_pylist() == _series(cols, noise, K, "chat_hour_people", "raw_people", keys)


def test_one_figure_per_bucket_and_keys() -> None:
    """Every row of a (chat, hour, signal) reads the same figure; a different key's figure
    is another draw (the identities differ only there)."""
    noise = FigureNoise(b"k" * 32)
    hour = [START.replace(minute=m) for m in (0, 5, 10)]
    table = pa.table(
        {
            "snapshot_ts": pa.array(hour * 2, pa.timestamp("s", tz="UTC")),
            "channel_id": pa.array(["11"] * 3 + ["22"] * 3),
            "signal": pa.array(["chat_list"] * 6),
            "raw_people": pa.array([100, 101, 102, 100, 101, 102], pa.int64()),
        }
    )
    got = series(table, noise, K, "chat_hour_people", "raw_people", ("channel_id", "signal"))
    values = got.to_pylist()
    assert len(set(values[:3])) == 1 and len(set(values[3:])) == 1
    draws = noise.draw(["chat_hour_people|2026-11-28T21:00|11|chat_list"]).tolist()
    assert values[0] == round(101.0 + draws[0])


def test_no_rows() -> None:
    table = _rows(1, 0)
    published = protect_table("int_snapshot_channels", table, FigureNoise(b"k" * 32), K)
    assert published.num_rows == 0
    assert published.schema.names[-1] == "published_chatters"
