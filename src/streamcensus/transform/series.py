"""Publication of the hourly people series (P3) from Arrow columns: a chat's curve
(`int_snapshot_channels.published_chatters`) and a game's people
(`community_chatters_by_game.chatters`).

Each snapshot's exact count is averaged over the snapshots read in its series bucket
(`SERIES_MINUTES`), one figure per bucket and keys (`kind|bucket|keys...`, the string
`noise.figure_id` makes), noisy, rounded, null under k, and the figure repeated on every
row of the bucket (rows whose count is unknown: null). Hundreds of thousands of rows at
`fr`: the rows stay Arrow columns and numpy arrays; the keys are coded as integers and
made distinct by numpy, each distinct figure's identity is built by Arrow and drawn once.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamcensus.timeutil import UTC
from streamcensus.transform.noise import FigureNoise, IntArray

# The per-snapshot people series (a chat's curve, the community's and a game's people) are
# published per bucket of this many minutes: a person moves a bucket by at most 1, so a
# day of them by at most 24 per chat she counts in (docs/privacy.md, transform/budget.py)
SERIES_MINUTES = 60
_MICROS = 1_000_000
HELPER_PREFIX = "raw_"


@functools.cache
def bucket_text(start: int) -> str:
    """A series bucket's name: its start (epoch seconds), UTC, to the minute."""
    return dt.datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M")


def bucket_starts(column: pa.ChunkedArray | pa.Array) -> IntArray:
    """Each snapshot's series bucket, as its start in epoch seconds (a timestamp without a
    zone is read as UTC)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    micros = pc.cast(column.cast(pa.timestamp("us", tz=column.type.tz)), pa.int64())
    width = SERIES_MINUTES * 60
    seconds = micros.to_numpy(zero_copy_only=False) // _MICROS
    starts: IntArray = (seconds // width * width).astype(np.int64)
    return starts


def _codes(column: pa.ChunkedArray) -> tuple[IntArray, int]:
    """Each value's index into its distinct values (null one of them), and how many."""
    encoded = column.combine_chunks().dictionary_encode(null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(encoded.dictionary)


def _text(column: pa.Array) -> pa.Array:
    """A column as the text `str()` gives its Python values ('None' for a null)."""
    return pc.fill_null(pc.cast(column, pa.string()), "None")


def series(
    table: pa.Table, noise: FigureNoise, k: int, kind: str, value: str, keys: tuple[str, ...]
) -> pa.Array:
    """The published series of `value` per bucket and `keys` (int64, null where `value` is
    unknown or the bucket's rounded noisy average is under k)."""
    rows = table.num_rows
    column = table.column(value).combine_chunks()
    known = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    starts = bucket_starts(table.column("snapshot_ts"))
    code = np.unique(starts, return_inverse=True)[1].reshape(-1).astype(np.int64)
    for key in keys:
        codes, size = _codes(table.column(key))
        code = code * size + codes
    at = np.flatnonzero(known)
    distinct, first, inverse = np.unique(code[at], return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    exact = column.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)[at]
    sums = np.bincount(inverse, weights=exact, minlength=len(distinct))
    counts = np.bincount(inverse, minlength=len(distinct)).astype(np.float64)
    heads = pa.array(at[first], pa.int64())
    buckets = pa.array([bucket_text(int(s)) for s in starts[at[first]].tolist()], pa.string())
    ids = pc.binary_join_element_wise(
        kind, buckets, *(_text(table.column(c).take(heads)) for c in keys), "|"
    )
    noisy = np.maximum(sums / counts + noise.draw(ids).astype(np.float64), 0.0)
    rounded = np.rint(noisy).astype(np.int64)
    published = np.zeros(rows, dtype=np.int64)
    published[at] = rounded[inverse]
    shown = np.zeros(rows, dtype=bool)
    shown[at] = (rounded >= k)[inverse]
    return pa.array(published, pa.int64(), mask=~shown)


def _public(table: pa.Table) -> pa.Table:
    """The table without its helper columns (`raw_*`: exact figures never published)."""
    return table.select([n for n in table.column_names if not n.startswith(HELPER_PREFIX)])


def snapshot_channels(table: pa.Table, noise: FigureNoise, k: int) -> pa.Table:
    """A chat's people per snapshot read, by hour (the channel page's curve, and what a
    broadcast's peak and average are computed from): `published_chatters`."""
    chatters = series(table, noise, k, "chat_hour_people", "raw_people", ("channel_id", "signal"))
    return _public(table).append_column(pa.field("published_chatters", pa.int64()), chatters)


def community_chatters_by_game(table: pa.Table, noise: FigureNoise, k: int) -> pa.Table:
    """A game's people per snapshot, by hour."""
    chatters = series(table, noise, k, "game_hour_people", "chatters", ("signal", "game_id"))
    at = table.schema.get_field_index("chatters")
    field = table.schema.field(at)
    return _public(table.set_column(at, field, chatters.cast(field.type)))
