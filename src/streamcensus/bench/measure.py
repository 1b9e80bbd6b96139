"""Measuring helpers shared by the suites: medians, percentiles, memory and the machine.

Every repeated figure is stored as `{"median": m, "runs": [...]}` so the JSON keeps the
spread next to the median that BENCHMARKS.md quotes.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MB = 1024 * 1024
_HWM = re.compile(r"^VmHWM:\s+(\d+)\s+kB", re.MULTILINE)
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def summary(values: Sequence[float | int | None], digits: int = 4) -> dict[str, Any]:
    """`{"median", "runs"}` of repeated measurements (None values are left out)."""
    kept = [float(v) for v in values if v is not None]
    median = round(statistics.median(kept), digits) if kept else None
    return {"median": median, "runs": [round(v, digits) for v in kept]}


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50 / p90 / p99 / max of latencies given in seconds, in milliseconds."""
    if not seconds:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {
        "p50": round(float(p50), 3),
        "p90": round(float(p90), 3),
        "p99": round(float(p99), 3),
        "max": round(float(ms.max()), 3),
    }


def median_of(runs: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    """`summary` of one key across per-run dicts."""
    return summary([run.get(key) for run in runs])


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux `clear_refs` 5); False where unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def peak_rss_bytes() -> int:
    """Peak RSS of this process since start or the last `reset_peak_rss` (Linux VmHWM)."""
    try:
        found = _HWM.search(_STATUS.read_text())
    except OSError:
        found = None
    if found is not None:
        return int(found.group(1)) * 1024
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, kB on Linux
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * scale


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default)."""
    import psutil

    return int(psutil.Process(pid or os.getpid()).memory_info().rss)


def to_mb(value: float) -> float:
    return round(value / MB, 1)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    try:
        import psutil

        memory_gb: float | None = round(psutil.virtual_memory().total / 1024**3, 1)
    except ImportError:  # pragma: no cover - psutil is a dependency
        memory_gb = None
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
