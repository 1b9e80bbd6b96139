"""The raw lake's compression study: bytes, write CPU and load time per format and codec.

Encodes one snapshot's presence observations as CSV (none, gzip, bzip2, lzma, zstd) and
Parquet (none, snappy, gzip, zstd at several levels), plus the write-up's baseline (gzip CSV,
one row `snapshot_time,channel_login,viewer_login` per observation), and reads each file
back with DuckDB (`read_parquet` / `read_csv`) the way `load` will. DuckDB cannot read
bzip2 or lzma CSV, so their read time includes decompressing to a temporary file first.
`synthetic_snapshot` builds test data shaped like a real snapshot.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import lzma
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from streamcensus.lake.schema import CHATTERS_SCHEMA, snapshot_id, snapshot_time
from streamcensus.lake.writer import conform, encode_parquet
from streamcensus.timeutil import UTC

BASELINE_COLUMNS = ("snapshot_time", "channel_login", "viewer_login")
ZSTD_LEVELS = (1, 3, 6, 9, 19)
KNOWN_BOTS = ("nightbot", "streamelements", "moobot", "fossabot", "wizebot")
SYNTHETIC_GRID = dt.datetime(2026, 11, 27, 20, 5, tzinfo=UTC)  # a Friday evening


@dataclass(frozen=True)
class Encoding:
    """One way to store a snapshot: data set, container, codec and level."""

    data: str  # "chatters" (pseudonymised lake rows) or "baseline" (the write-up's CSV)
    container: str  # "csv" or "parquet"
    codec: str  # "none", "gzip", "bzip2", "lzma", "zstd", "snappy"
    level: int | None = None
    viewer: str = "dict"  # Parquet only: "dict" (pyarrow's default), "plain" or "delta"

    @property
    def name(self) -> str:
        level = "" if self.level is None else f"-{self.level}"
        viewer = (
            f"/{self.viewer}" if self.container == "parquet" and self.data == "chatters" else ""
        )
        return f"{self.data}:{self.container}+{self.codec}{level}{viewer}"

    @property
    def suffix(self) -> str:
        if self.container == "parquet":
            return ".parquet"
        return ".csv" + {"none": "", "gzip": ".gz", "bzip2": ".bz2", "lzma": ".xz"}.get(
            self.codec, ".zst"
        )


def default_encodings() -> list[Encoding]:
    """The formats compared by the study."""
    encodings = [Encoding("baseline", "csv", "gzip", 6), Encoding("baseline", "parquet", "zstd", 3)]
    encodings += [
        Encoding("chatters", "csv", "none"),
        Encoding("chatters", "csv", "gzip", 6),
        Encoding("chatters", "csv", "bzip2", 9),
        Encoding("chatters", "csv", "lzma", 6),
        Encoding("chatters", "csv", "zstd", 3),
        Encoding("chatters", "csv", "zstd", 19),
        Encoding("chatters", "parquet", "none"),
        Encoding("chatters", "parquet", "snappy"),
        Encoding("chatters", "parquet", "gzip", 6),
        Encoding("chatters", "parquet", "zstd", 3),
        Encoding("chatters", "parquet", "zstd", 3, viewer="plain"),
        Encoding("chatters", "parquet", "none", viewer="delta"),
        Encoding("chatters", "parquet", "snappy", viewer="delta"),
        Encoding("chatters", "parquet", "gzip", 6, viewer="delta"),
    ]
    encodings += [
        Encoding("chatters", "parquet", "zstd", level, viewer="delta") for level in ZSTD_LEVELS
    ]
    return encodings


def _csv_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _compress(data: bytes, codec: str, level: int | None) -> bytes:
    if codec == "none":
        return data
    if codec == "gzip":
        return gzip.compress(data, compresslevel=6 if level is None else level, mtime=0)
    if codec == "bzip2":
        return bz2.compress(data, compresslevel=9 if level is None else level)
    if codec == "lzma":
        return lzma.compress(data, preset=6 if level is None else level)
    if codec == "zstd":
        codec_ = pa.Codec("zstd", compression_level=3 if level is None else level)
        return bytes(codec_.compress(data, asbytes=True))
    raise ValueError(f"unknown CSV codec {codec!r}")


def encode(table: pa.Table, encoding: Encoding) -> bytes:
    """The file bytes of `table` stored as `encoding` (chatters sorted as the lake does)."""
    if encoding.container == "csv":
        return _compress(_csv_bytes(table), encoding.codec, encoding.level)
    if encoding.container == "parquet":
        viewer = {"dict": None, "plain": "PLAIN", "delta": "DELTA_BINARY_PACKED"}[encoding.viewer]
        return encode_parquet(table, encoding.codec, encoding.level, viewer)
    raise ValueError(f"unknown container {encoding.container!r}")


def _read_back(con: duckdb.DuckDBPyConnection, path: Path, encoding: Encoding) -> int:
    """Scan every column of the file with DuckDB; return the row count."""
    if encoding.container == "parquet":
        source = f"read_parquet('{path}')"
    elif encoding.codec in ("bzip2", "lzma"):
        opener: Callable[[Path], bytes] = (
            (lambda p: bz2.decompress(p.read_bytes()))
            if encoding.codec == "bzip2"
            else (lambda p: lzma.decompress(p.read_bytes()))
        )
        plain = path.with_name(path.name + ".plain.csv")
        plain.write_bytes(opener(path))
        try:
            return _scan(con, f"read_csv('{plain}')")
        finally:
            plain.unlink()
    else:
        source = f"read_csv('{path}')"
    return _scan(con, source)


def _scan(con: duckdb.DuckDBPyConnection, source: str) -> int:
    columns = [row[0] for row in con.execute(f"describe select * from {source}").fetchall()]
    aggregates = ", ".join(f'sum(hash("{c}"))' for c in columns)
    row = con.execute(f"select count(*), {aggregates} from {source}").fetchall()[0]
    return int(row[0])


def baseline_table(rows: pa.Table | Sequence[tuple[str, str, str]]) -> pa.Table:
    """The write-up's rows as a table with columns snapshot_time, channel_login, viewer_login."""
    if isinstance(rows, pa.Table):
        return rows.select(list(BASELINE_COLUMNS))
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    return pa.table(
        {
            name: pa.array(list(col), pa.string())
            for name, col in zip(BASELINE_COLUMNS, columns, strict=True)
        }
    )


def compression_study(
    table: pa.Table,
    baseline_rows: pa.Table | Sequence[tuple[str, str, str]],
    *,
    encodings: Sequence[Encoding] | None = None,
    repeats: int = 3,
    workdir: Path | None = None,
) -> list[dict[str, Any]]:
    """Measure every encoding: bytes, bytes per observation, write CPU and DuckDB read time.

    Times are medians of `repeats` runs. `bytes_vs_baseline` is the size relative to the
    write-up's gzip CSV of the same observations.
    """
    chatters = conform(table, CHATTERS_SCHEMA, "chatters").sort_by(
        [("channel_id", "ascending"), ("viewer", "ascending")]
    )
    baseline = baseline_table(baseline_rows)
    inputs = {"chatters": chatters, "baseline": baseline}
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        con = duckdb.connect()
        try:
            for encoding in encodings or default_encodings():
                source = inputs[encoding.data]
                cpu: list[float] = []
                data = b""
                for _ in range(max(1, repeats)):
                    start = time.process_time()
                    data = encode(source, encoding)
                    cpu.append(time.process_time() - start)
                safe = encoding.name.replace(":", "_").replace("/", "_")
                path = Path(tmp) / f"{safe}{encoding.suffix}"
                path.write_bytes(data)
                reads: list[float] = []
                rows = 0
                for _ in range(max(1, repeats)):
                    start = time.perf_counter()
                    rows = _read_back(con, path, encoding)
                    reads.append(time.perf_counter() - start)
                if rows != source.num_rows:
                    raise RuntimeError(f"{encoding.name} read back {rows} of {source.num_rows}")
                results.append(
                    {
                        "format": encoding.name,
                        "data": encoding.data,
                        "container": encoding.container,
                        "codec": encoding.codec,
                        "level": encoding.level,
                        "rows": source.num_rows,
                        "bytes": len(data),
                        "bytes_per_observation": len(data) / max(1, source.num_rows),
                        "write_cpu_s": statistics.median(cpu),
                        "read_s": statistics.median(reads),
                    }
                )
        finally:
            con.close()
    reference = next((r["bytes"] for r in results if r["format"] == "baseline:csv+gzip-6"), None)
    for result in results:
        result["bytes_vs_baseline"] = result["bytes"] / reference if reference else None
    return results


def synthetic_snapshot(
    channels: int = 300,
    observations: int = 50_000,
    seed: int = 0,
    zipf_exponent: float = 1.1,
    population: int | None = None,
) -> tuple[pa.Table, pa.Table]:
    """A snapshot-shaped chatters table and its baseline rows, from random made-up accounts.

    Channel sizes follow a Zipf law; viewers come from a population about 1.2× the number
    of observations, so some appear in several chats; a few known bots sit in most chats.
    Returns (chatters table in the lake schema, baseline table with made-up logins).
    """
    rng = np.random.default_rng(seed)
    sid = snapshot_id(SYNTHETIC_GRID)
    grid = snapshot_time(sid)
    weights = 1.0 / np.arange(1, channels + 1) ** zipf_exponent
    bots_per_channel = np.minimum(len(KNOWN_BOTS), rng.integers(0, 3, channels))
    human_total = max(channels, observations - int(bots_per_channel.sum()))
    sizes = np.maximum(1, np.floor(weights / weights.sum() * human_total).astype(np.int64))
    sizes[0] += human_total - int(sizes.sum())
    pool_size = population or int(human_total * 1.2) + int(sizes.max())
    pool = rng.integers(-(2**63), 2**63 - 1, pool_size, dtype=np.int64)
    logins = _made_up_logins(rng, pool_size)
    channel_ids = [str(10_000_000 + v) for v in rng.choice(990_000_000, channels, replace=False)]
    channel_logins = [f"streamer{i:04d}" for i in range(channels)]
    bot_viewers = rng.integers(-(2**63), 2**63 - 1, len(KNOWN_BOTS), dtype=np.int64)
    col_channel: list[str] = []
    col_viewer: list[np.ndarray[Any, Any]] = []
    col_bot: list[str | None] = []
    base_channel: list[str] = []
    base_login: list[str] = []
    for i in range(channels):
        picks = rng.choice(pool_size, int(sizes[i]), replace=False)
        nbots = int(bots_per_channel[i])
        col_viewer += [pool[picks], bot_viewers[:nbots]]
        col_channel += [channel_ids[i]] * (len(picks) + nbots)
        col_bot += [None] * len(picks) + list(KNOWN_BOTS[:nbots])
        base_channel += [channel_logins[i]] * (len(picks) + nbots)
        base_login += [logins[p] for p in picks.tolist()] + list(KNOWN_BOTS[:nbots])
    n = len(col_channel)
    bot_names = pa.array(col_bot, pa.string())
    chatters = pa.table(
        {
            "snapshot_id": pa.array([sid] * n, pa.string()),
            "snapshot_ts": pa.array([grid] * n, pa.timestamp("s", tz="UTC")),
            "channel_id": pa.array(col_channel, pa.string()),
            "viewer": pa.array(np.concatenate(col_viewer), pa.int64()),
            "key_id": pa.array(["20261101T000000Z-5eed0000"] * n, pa.string()),
            "is_bot": bot_names.is_valid(),
            "bot_name": bot_names,
        },
        schema=CHATTERS_SCHEMA,
    )
    stamp = grid.strftime("%Y-%m-%d %H:%M:%S")
    baseline = pa.table(
        {
            "snapshot_time": pa.array([stamp] * n, pa.string()),
            "channel_login": pa.array(base_channel, pa.string()),
            "viewer_login": pa.array(base_login, pa.string()),
        }
    )
    return chatters, baseline


def _made_up_logins(rng: np.random.Generator, count: int) -> list[str]:
    """Random login-like strings (a letter, then 3-14 letters, digits or underscores)."""
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789_", dtype=np.uint8)
    chars = alphabet[rng.integers(0, len(alphabet), (count, 15))]
    chars[:, 0] = alphabet[rng.integers(0, 26, count)]
    lengths = rng.integers(4, 16, count).tolist()
    raw = chars.tobytes()
    return [raw[i * 15 : i * 15 + n].decode() for i, n in enumerate(lengths)]
