"""What the dashboard asks first after a load: the answers warmed in the background.

Each page's default view of each loaded day, newest day first (the JSON URLs the pages'
scripts request with their default controls; defaults are filled in by the cache's key,
so `/api/map?day=D` is the answer `/api/map?day=D&window=7&signal=chat_activity` gets).
The channel pages and searches are not warmed (there are too many): instead, the
per-channel tables they read (`channelstore.py`) are built first, so each channel's first
request reads a few sorted rows instead of scanning the month.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Gauge

from streamcensus.serve.cache import AnswerStore
from streamcensus.serve.channelstore import ChannelStore
from streamcensus.serve.reader import ReaderPool, Version

DAY_ENDPOINTS = (
    "overview",
    "schedules",
    "rankings",
    "games",
    "map",
    "habits",
    "exposure",
    "health",
    "chat-lists",
    "followers",
)


def warm_paths(
    pool: ReaderPool, store: ChannelStore | None = None
) -> Callable[[Version], Sequence[str]]:
    """The paths to warm at a warehouse version: `/api/days`, then each day's pages; with
    `store`, its per-channel tables are built (at the version the pool reads) first."""

    def paths(version: Version) -> Sequence[str]:
        del version  # the pool reads the version it opens; the cache checks it per answer
        if store is not None:
            store.try_build(pool)
        with pool.reader() as reader:
            days = reader.loaded_days()
        return ["/api/days"] + [
            f"/api/{endpoint}?day={day.isoformat()}"
            for day in reversed(days)
            for endpoint in DAY_ENDPOINTS
        ]

    return paths


def install_warm_metrics(
    registry: CollectorRegistry, store: AnswerStore, channels: ChannelStore | None = None
) -> None:
    """`/metrics` gauges of the kept answers (warm-ups running, answers warmed, kept) and of
    the per-channel tables (rows, bytes and seconds of the last build, requests served)."""
    running = Gauge(
        "streamcensus_api_warming",
        "Warm-ups of the API's kept answers running (after the warehouse changed)",
        registry=registry,
    )
    running.set_function(lambda: float(store.stats.warming))
    warmed = Gauge(
        "streamcensus_api_answers_warmed",
        "API answers computed in the background since the server started",
        registry=registry,
    )
    warmed.set_function(lambda: float(store.stats.warmed))
    kept = Gauge("streamcensus_api_answers_kept", "API answers kept now", registry=registry)
    kept.set_function(lambda: float(len(store)))
    if channels is None:
        return
    stats = channels.stats
    figures: tuple[tuple[str, str, Callable[[], float]], ...] = (
        ("rows", "Rows of the per-channel tables built last", lambda: float(stats.rows)),
        ("bytes", "Bytes of the per-channel tables built last", lambda: float(stats.bytes)),
        (
            "build_seconds",
            "Seconds the last build of the per-channel tables took",
            lambda: stats.build_seconds,
        ),
        ("served", "Requests answered from the per-channel tables", lambda: float(stats.served)),
    )
    for name, what, read in figures:
        gauge = Gauge(f"streamcensus_api_channel_tables_{name}", what, registry=registry)
        gauge.set_function(read)
