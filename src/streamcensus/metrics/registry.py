"""A registry per process, with what every process exposes: build info, process and disk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from streamcensus import __version__


class DiskCollector(Collector):
    """Free and total bytes of the file system holding the data directory, read at scrape
    time (for the "disk filling" alert); nothing when the folder does not exist yet."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir

    def collect(self) -> Iterator[GaugeMetricFamily]:
        folder = self._data_dir
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # the data directory is created by the first write
        try:
            usage = shutil.disk_usage(folder)
        except OSError:
            return
        yield GaugeMetricFamily(
            "streamcensus_data_dir_free_bytes",
            "Bytes free on the file system of the data directory (for unprivileged users)",
            value=usage.free,
        )
        yield GaugeMetricFamily(
            "streamcensus_data_dir_size_bytes",
            "Size in bytes of the file system of the data directory",
            value=usage.total,
        )


def new_registry(process: str, data_dir: Path | None = None) -> CollectorRegistry:
    """A fresh registry for `process` (collector, loader, dashboard): build info, the
    process's CPU and memory (`process_*`), and the data directory's disk when given."""
    registry = CollectorRegistry(auto_describe=True)
    info = Gauge(
        "streamcensus_build_info",
        "Always 1: the version and the kind of this process",
        ["version", "process"],
        registry=registry,
    )
    info.labels(__version__, process).set(1)
    ProcessCollector(registry=registry)
    if data_dir is not None:
        registry.register(DiskCollector(data_dir))
    return registry
