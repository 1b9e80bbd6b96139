"""Publication of `audience_overlap` (P3): every candidate pair noisy, then the threshold.

Millions of candidate pairs at `fr` (every two chats sharing anyone in a period): their rows
stay Arrow columns and numpy arrays from the query to the published table, never Python
objects. Each pair's shared count gets the noise of its identity (`pair_shared|day|window|
signal|channel_a|channel_b`, the same string `noise.figure_id` makes), built by Arrow; each
chat's people in a period is one figure drawn once; the ratios are computed in Python only
for the pairs kept (a few thousand), rounded as every other published ratio.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamcensus.transform.noise import FigureNoise, IntArray, accuracy, figure_id

PAIR_ALPHA = 0.05  # the pair threshold's margin: the noise's bound at this level
PAIR_FIGURE = "pair_shared"  # a pair's shared people: (day, window, signal, a, b)


def ratio(num: list[Any], den: list[Any], digits: int) -> list[float | None]:
    """num / den, at most 1, rounded (None where either is unknown or den is 0)."""
    return [
        None if n is None or not d else round(min(1.0, float(n) / float(d)), digits)
        for n, d in zip(num, den, strict=True)
    ]


def pair_threshold(noise: FigureNoise, k: int) -> int:
    """The noisy shared count a pair needs to be published: k plus the noise's 95% bound.

    Every pair of chats sharing anyone is a candidate, and most share one to three people:
    with k alone, the few of those thousands whose noise is large would be published as
    spurious edges (and small true groups with them). The margin keeps that to a few in
    ten thousand (P(noise >= margin + k - 3) for b = 2)."""
    # integer noise: |noise| > a exactly when |noise| > floor(a)
    return k + math.floor(accuracy(noise.scale, PAIR_ALPHA))


def _text(column: pa.ChunkedArray) -> pa.Array:
    """A column as the text `str()` gives its Python values (ISO dates, decimal ints)."""
    return pc.cast(column.combine_chunks(), pa.string())


def pair_ids(table: pa.Table) -> pa.Array:
    """Each row's pair identity, as `figure_id(PAIR_FIGURE, day, window, signal, a, b)`."""
    return pc.binary_join_element_wise(
        PAIR_FIGURE,
        *(_text(table.column(c)) for c in ("day", "window_days", "signal", "channel_a")),
        _text(table.column("channel_b")),
        "|",
    )


def _codes(column: pa.Array) -> tuple[IntArray, list[Any]]:
    """Each value's index into the list of its distinct values (Arrow's hash)."""
    encoded = column.dictionary_encode()
    return encoded.indices.to_numpy().astype(np.int64), encoded.dictionary.to_pylist()


def period_people(table: pa.Table, noise: FigureNoise) -> tuple[IntArray, IntArray]:
    """The noisy people of each row's two chats in its period (`chatters_a`, `chatters_b`).

    A chat's people in a period is one figure, whichever pair or side it appears in: over
    one day it is the chat's people of that day (the same people), so the same figure as
    channel_day_presence's `channel_people`, over a window `window_people`. Each distinct
    figure is drawn once (a period has thousands of chats, against millions of pairs):
    the rows' (period, chat) are coded as integers, made distinct by numpy."""
    rows = table.num_rows
    day, days = _codes(table.column("day").combine_chunks())
    window, windows = _codes(table.column("window_days").combine_chunks())
    signal, signals = _codes(table.column("signal").combine_chunks())
    both = pa.concat_arrays(
        [table.column("channel_a").combine_chunks(), table.column("channel_b").combine_chunks()]
    )
    chat, chats = _codes(both)
    period = (day * len(windows) + window) * len(signals) + signal
    coded = np.concatenate([period, period]) * len(chats) + chat
    distinct, first, inverse = np.unique(coded, return_index=True, return_inverse=True)
    exact = np.concatenate(
        [
            table.column("chatters_a").to_numpy().astype(np.int64),
            table.column("chatters_b").to_numpy().astype(np.int64),
        ]
    )[first]
    ids = []
    for code in distinct.tolist():
        rest, c = divmod(code, len(chats))
        rest, s = divmod(rest, len(signals))
        d, w = divmod(rest, len(windows))
        ids.append(
            figure_id("channel_people", days[d], chats[c], signals[s])
            if int(windows[w]) == 1
            else figure_id("window_people", days[d], windows[w], signals[s], chats[c])
        )
    sizes = noise.noisy(ids, exact)[inverse.reshape(-1)]
    return sizes[:rows], sizes[rows:]


def audience_overlap(table: pa.Table, noise: FigureNoise, k: int) -> pa.Table:
    """Shared people of two chats in a period, each chat's people, and the shares; pairs
    whose noisy shared count is under `pair_threshold` or either side under k dropped.

    Every candidate pair gets its noise, by identity, before anything is decided: its
    counts are never null (the model's inner joins), so they are numpy columns here."""
    shared = noise.noisy(pair_ids(table), table.column("shared_chatters").to_numpy())
    size_a, size_b = period_people(table, noise)
    keep = (shared >= pair_threshold(noise, k)) & (size_a >= k) & (size_b >= k)
    kept = np.flatnonzero(keep)
    shared = np.minimum(shared, np.minimum(size_a, size_b))[kept]
    size_a, size_b = size_a[kept], size_b[kept]
    values: dict[str, Any] = {
        "shared_chatters": shared,
        "chatters_a": size_a,
        "chatters_b": size_b,
        "share_a": ratio(shared.tolist(), size_a.tolist(), 6),
        "share_b": ratio(shared.tolist(), size_b.tolist(), 6),
        "jaccard": ratio(shared.tolist(), (size_a + size_b - shared).tolist(), 6),
    }
    published = table.take(pa.array(kept, pa.int64()))
    for name, column in values.items():
        at = published.schema.get_field_index(name)
        field = published.schema.field(at)
        published = published.set_column(at, field, pa.array(column, field.type))
    return published
