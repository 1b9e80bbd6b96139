"""The compression study: every format encodes, reads back with DuckDB, and is measured."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from streamcensus.lake.formats import (
    Encoding,
    baseline_table,
    compression_study,
    default_encodings,
    encode,
    synthetic_snapshot,
)
from streamcensus.lake.schema import CHATTERS_SCHEMA
from streamcensus.lake.writer import encode_parquet


def test_synthetic_snapshot_shape() -> None:
    chatters, baseline = synthetic_snapshot(channels=50, observations=3000, seed=7)
    assert chatters.schema == CHATTERS_SCHEMA
    assert chatters.num_rows == baseline.num_rows == 3000
    assert pc.count_distinct(chatters.column("channel_id")).as_py() == 50
    sizes = chatters.group_by("channel_id").aggregate([("viewer", "count")])
    counts = sorted(sizes.column("viewer_count").to_pylist(), reverse=True)
    assert counts[0] > 10 * counts[-1]  # Zipf: the top channel dwarfs the tail
    pairs = chatters.group_by(["channel_id", "viewer"]).aggregate([])
    assert pairs.num_rows == 3000  # nobody twice in one chat
    assert (
        chatters.column("is_bot").to_pylist() == chatters.column("bot_name").is_valid().to_pylist()
    )
    again, _ = synthetic_snapshot(channels=50, observations=3000, seed=7)
    assert again.equals(chatters)


def test_baseline_rows_as_tuples() -> None:
    table = baseline_table([("2026-11-27 20:05:00", "streamer", "viewer")])
    assert table.column_names == ["snapshot_time", "channel_login", "viewer_login"]
    assert baseline_table([]).num_rows == 0


def test_csv_gzip_is_the_write_up_format() -> None:
    _, baseline = synthetic_snapshot(channels=5, observations=100, seed=1)
    data = encode(baseline, Encoding("baseline", "csv", "gzip", 6))
    text = gzip.decompress(data).decode()
    assert text.splitlines()[0] == '"snapshot_time","channel_login","viewer_login"'
    assert len(text.splitlines()) == 101
    assert pacsv.read_csv(pa.BufferReader(gzip.decompress(data))).num_rows == 100


def test_compression_study(tmp_path: Path) -> None:
    chatters, baseline = synthetic_snapshot(channels=40, observations=4000, seed=3)
    results = compression_study(chatters, baseline, repeats=1, workdir=tmp_path)
    by_name = {r["format"]: r for r in results}
    assert len(by_name) == len(default_encodings()) == 21
    assert by_name["baseline:csv+gzip-6"]["bytes_vs_baseline"] == 1.0
    for result in results:
        assert result["rows"] == 4000
        assert result["bytes"] > 0 and result["write_cpu_s"] >= 0 and result["read_s"] > 0
        assert result["bytes_per_observation"] == result["bytes"] / 4000
    # the lake's encoding is what the writer produces
    lake = by_name["chatters:parquet+zstd-3/plain"]
    assert lake["bytes"] == len(
        encode_parquet(chatters.sort_by([("channel_id", "ascending"), ("viewer", "ascending")]))
    )
    assert by_name["chatters:csv+none"]["bytes"] > 5 * lake["bytes"]
    assert list(tmp_path.iterdir()) == []
