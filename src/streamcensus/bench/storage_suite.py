"""Suite `storage`: bytes per presence observation in the raw lake, against the write-up.

For real collected snapshots (the collector against the simulator child), it compares:
- the lake's chatters file, and all of a snapshot's raw files (streams, chatters, manifest);
- the write-up's baseline: one gzip CSV per snapshot with a row
  `snapshot_time,channel_login,viewer_login` per observation (unquoted, gzip level 6).

The baseline holds viewer logins, so it is built and compressed in memory from the
simulator's ground truth of the same tick and never written anywhere (P1). Then the
compression study of `lake/formats.py` runs on the largest collected chatters table
(pseudonyms only) for bytes, write CPU and DuckDB load time of each format.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import statistics
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from streamcensus.bench.simproc import SimulatorProcess
from streamcensus.bench.snapshots import collect_series
from streamcensus.lake.formats import compression_study, default_encodings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import CHATTERS_OK
from streamcensus.lake.writer import VIEWER_ENCODING, ZSTD_LEVEL

BASELINE_GZIP_LEVEL = 6
BASELINE_HEADER = "snapshot_time,channel_login,viewer_login\n"


def lake_format_name() -> str:
    """The study's name for the encoding the lake writer uses for chatters files."""
    viewer = {"PLAIN": "plain", "DELTA_BINARY_PACKED": "delta"}.get(VIEWER_ENCODING or "", "dict")
    return f"chatters:parquet+zstd-{ZSTD_LEVEL}/{viewer}"


def manifests(lake_dir: Path) -> list[tuple[ManifestRecord, int]]:
    """Every snapshot's manifest record in the lake, with the manifest file's size."""
    found = []
    for path in sorted((lake_dir / "raw" / "manifest").rglob("*.json")):
        found.append((ManifestRecord.from_bytes(path.read_bytes()), path.stat().st_size))
    return found


def baseline_bytes(sim: SimulatorProcess, lake_dir: Path, record: ManifestRecord) -> dict[str, Any]:
    """The write-up's gzip CSV of the snapshot's observations, measured in memory."""
    streams = pq.read_table(
        lake_dir / record.files["streams"]["path"],
        columns=["channel_id", "channel_login", "chatters_status"],
    ).to_pylist()
    stamp = record.grid_time.strftime("%Y-%m-%d %H:%M:%S")
    parts = [BASELINE_HEADER]
    rows = 0
    for row in streams:
        if row["chatters_status"] != CHATTERS_OK:
            continue
        logins = sim.truth_chatter_logins(row["channel_id"], record.grid_time)
        prefix = f"{stamp},{row['channel_login']},"
        parts.append("".join(f"{prefix}{login}\n" for login in logins))
        rows += len(logins)
        del logins
    text = "".join(parts).encode()
    del parts
    began = time.process_time()
    packed = gzip.compress(text, compresslevel=BASELINE_GZIP_LEVEL, mtime=0)
    cpu = time.process_time() - began
    return {"rows": rows, "csv_bytes": len(text), "gzip_bytes": len(packed), "write_cpu_s": cpu}


def snapshot_storage(
    sim: SimulatorProcess, lake_dir: Path, record: ManifestRecord, manifest_bytes: int
) -> dict[str, Any]:
    """Bytes per presence observation of one snapshot: lake files and the baseline."""
    chatters = int(record.files["chatters"]["bytes"])
    streams = int(record.files["streams"]["bytes"])
    observations = record.presence_observations
    baseline = baseline_bytes(sim, lake_dir, record)
    per = max(1, observations)
    return {
        "snapshot_id": record.snapshot_id,
        "presence_observations": observations,
        "baseline_rows": baseline["rows"],
        "chatters_bytes": chatters,
        "raw_bytes": chatters + streams + manifest_bytes,
        "baseline_gzip_bytes": baseline["gzip_bytes"],
        "baseline_csv_bytes": baseline["csv_bytes"],
        "baseline_write_cpu_s": baseline["write_cpu_s"],
        "chatters_bytes_per_obs": chatters / per,
        "raw_bytes_per_obs": (chatters + streams + manifest_bytes) / per,
        "baseline_bytes_per_obs": baseline["gzip_bytes"] / per,
        "baseline_over_chatters": baseline["gzip_bytes"] / max(1, chatters),
        "baseline_over_raw": baseline["gzip_bytes"] / max(1, chatters + streams + manifest_bytes),
    }


def _study(lake_dir: Path, record: ManifestRecord, repeats: int) -> list[dict[str, Any]]:
    """`compression_study` on one collected chatters table (pseudonyms; no baseline rows)."""
    table: pa.Table = pq.read_table(lake_dir / record.files["chatters"]["path"])
    encodings = [e for e in default_encodings() if e.data == "chatters"]
    results = compression_study(table, [], encodings=encodings, repeats=repeats)
    for result in results:
        read = result["read_s"]
        result["load_rows_per_s"] = result["rows"] / read if read > 0 else None
    return results


def run_storage_suite(
    sim: SimulatorProcess,
    data_dir: Path,
    grid: dt.datetime,
    repeat: int,
    *,
    speed: float,
    study_repeats: int = 3,
) -> dict[str, Any]:
    """Bytes per observation of the first `repeat` snapshots under `data_dir`.

    When `data_dir` holds no snapshot yet, `repeat` are collected first.
    """
    lake = data_dir / "lake"
    found = manifests(lake)
    if not found:
        asyncio.run(collect_series(sim, data_dir, grid, repeat, speed))
        found = manifests(lake)
    found = found[: max(1, repeat)]
    runs = [snapshot_storage(sim, lake, record, size) for record, size in found]
    totals = {
        key: sum(r[key] for r in runs)
        for key in ("presence_observations", "chatters_bytes", "raw_bytes", "baseline_gzip_bytes")
    }
    obs = max(1, totals["presence_observations"])
    largest = max(found, key=lambda pair: pair[0].presence_observations)[0]
    study = _study(lake, largest, study_repeats)
    baseline = next(r for r in runs if r["snapshot_id"] == largest.snapshot_id)
    for result in study:
        result["bytes_vs_baseline"] = result["bytes"] / max(1, baseline["baseline_gzip_bytes"])
    lake_format = next((r for r in study if r["format"] == lake_format_name()), None)
    return {
        "snapshots": len(runs),
        "presence_observations": totals["presence_observations"],
        "chatters_bytes_per_obs": totals["chatters_bytes"] / obs,
        "raw_bytes_per_obs": totals["raw_bytes"] / obs,
        "baseline_bytes_per_obs": totals["baseline_gzip_bytes"] / obs,
        "baseline_over_chatters": totals["baseline_gzip_bytes"] / max(1, totals["chatters_bytes"]),
        "baseline_over_raw": totals["baseline_gzip_bytes"] / max(1, totals["raw_bytes"]),
        "per_snapshot_median": {
            key: statistics.median(r[key] for r in runs)
            for key in ("chatters_bytes_per_obs", "raw_bytes_per_obs", "baseline_bytes_per_obs")
        },
        "baseline_rows_match": all(r["baseline_rows"] == r["presence_observations"] for r in runs),
        "baseline_write_cpu_s": baseline["baseline_write_cpu_s"],
        "study_snapshot": largest.snapshot_id,
        "study_rows": largest.presence_observations,
        "study_baseline_bytes": baseline["baseline_gzip_bytes"],
        "study": study,
        "lake_format": lake_format["format"] if lake_format else None,
        "lake_format_study_bytes": lake_format["bytes"] if lake_format else None,
        "study_snapshot_chatters_bytes": int(largest.files["chatters"]["bytes"]),
        "runs": runs,
    }
