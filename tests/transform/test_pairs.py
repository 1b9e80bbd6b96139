"""`audience_overlap`'s publication from Arrow columns against the per-row definition."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa

from streamcensus.transform.noise import FigureNoise, figure_id
from streamcensus.transform.pairs import audience_overlap, pair_ids, pair_threshold
from streamcensus.transform.protect import protect_table

KEY = bytes(range(32))
K = 5
SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("window_days", pa.int32()),
        pa.field("signal", pa.string()),
        pa.field("channel_a", pa.string()),
        pa.field("channel_login_a", pa.string()),
        pa.field("channel_b", pa.string()),
        pa.field("channel_login_b", pa.string()),
        pa.field("shared_chatters", pa.int32()),
        pa.field("chatters_a", pa.int32()),
        pa.field("chatters_b", pa.int32()),
        pa.field("share_a", pa.float64()),
        pa.field("share_b", pa.float64()),
        pa.field("jaccard", pa.float64()),
        pa.field("days_covered", pa.int32()),
        pa.field("complete", pa.bool_()),
    ]
)


def _candidates(seed: int) -> list[dict[str, Any]]:
    """Candidate pairs of two days, both windows and signals: a chat's people the same in
    every pair of its period (as the model gives them), shared counts from 1 to many."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    chats = [str(c) for c in range(100, 130)] + ["é"]
    for day in (dt.date(2026, 11, 26), dt.date(2026, 11, 27)):
        for window in (1, 7):
            for signal in ("chat_list", "chat_activity"):
                people = {c: rng.randint(1, 60) for c in chats}
                for a in chats:
                    for b in chats:
                        if a < b and rng.random() < 0.5:
                            shared = rng.randint(1, min(people[a], people[b]))
                            rows.append(
                                {
                                    "day": day,
                                    "window_days": window,
                                    "signal": signal,
                                    "channel_a": a,
                                    "channel_login_a": f"login{a}",
                                    "channel_b": b,
                                    "channel_login_b": None,
                                    "shared_chatters": shared,
                                    "chatters_a": people[a],
                                    "chatters_b": people[b],
                                    "share_a": None,
                                    "share_b": None,
                                    "jaccard": None,
                                    "days_covered": 1,
                                    "complete": window == 1,
                                }
                            )
    return rows


def _size_id(row: dict[str, Any], chat: str) -> str:
    if row["window_days"] == 1:
        return figure_id("channel_people", row["day"], chat, row["signal"])
    return figure_id("window_people", row["day"], row["window_days"], row["signal"], chat)


def _reference(rows: list[dict[str, Any]], noise: FigureNoise) -> list[dict[str, Any]]:
    """The publication row by row: each figure's noise by its identity, the threshold on
    the pair and k on each side, the shares from the noisy counts."""
    published = []
    for row in rows:
        ident = ("pair_shared", row["day"], row["window_days"], row["signal"])
        [shared] = noise.counts(
            [figure_id(*ident, row["channel_a"], row["channel_b"])], [row["shared_chatters"]]
        )
        [a] = noise.counts([_size_id(row, row["channel_a"])], [row["chatters_a"]])
        [b] = noise.counts([_size_id(row, row["channel_b"])], [row["chatters_b"]])
        assert shared is not None and a is not None and b is not None
        if shared < pair_threshold(noise, K) or a < K or b < K:
            continue
        shared = min(shared, a, b)
        published.append(
            row
            | {
                "shared_chatters": shared,
                "chatters_a": a,
                "chatters_b": b,
                "share_a": round(min(1.0, shared / a), 6),
                "share_b": round(min(1.0, shared / b), 6),
                "jaccard": round(min(1.0, shared / (a + b - shared)), 6),
            }
        )
    return published


def test_pairs_are_published_as_the_per_row_definition_gives_them() -> None:
    noise = FigureNoise(KEY, 0.5)
    rows = _candidates(7)
    # several record batches, as a query's result arrives
    table = pa.Table.from_batches(
        pa.Table.from_pylist(rows, schema=SCHEMA).to_batches(max_chunksize=333)
    )
    expected = _reference(rows, noise)
    published = audience_overlap(table, noise, K)
    assert published.schema == SCHEMA
    assert published.to_pylist() == expected
    assert 0 < len(expected) < len(rows)  # some pairs kept, some dropped
    # the runner's entry point gives the same table
    assert protect_table("audience_overlap", table, noise, K).equals(published)


def test_a_pair_identity_is_the_figure_id_of_its_row() -> None:
    rows = _candidates(3)[:50]
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    assert pair_ids(table).to_pylist() == [
        figure_id(
            "pair_shared",
            r["day"],
            r["window_days"],
            r["signal"],
            r["channel_a"],
            r["channel_b"],
        )
        for r in rows
    ]


def test_no_candidate_pairs_publish_no_rows() -> None:
    empty = pa.Table.from_pylist([], schema=SCHEMA)
    published = audience_overlap(empty, FigureNoise(KEY, 0.5), K)
    assert published.num_rows == 0
    assert published.schema == SCHEMA
