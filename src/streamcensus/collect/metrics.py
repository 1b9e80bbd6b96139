"""The collector's series, derived from each snapshot's manifest record (one source).

`observe_snapshot(record)` is called after each snapshot is written; the manifest already
holds what a snapshot saw and cost (statuses, channels, 429s, rate-limit waits, errors),
so the metrics and the warehouse's `pipeline_health` never disagree. Two things are not
in the manifest and are read live: HTTP answers by endpoint and status (an httpx response
hook on the collector's one client, `watch`) and the state and expiry of each user token
(read at scrape time). Chat activity is counted from `ChatCounters` (`observe_chat`), the
listener's own declaration of its counters.
"""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import httpx
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from streamcensus.clock import Clock
from streamcensus.collect.chat.schema import ChatCounters
from streamcensus.collect.runner import collect_every
from streamcensus.collect.session import CollectSession
from streamcensus.lake.manifest import STATUSES, ManifestRecord
from streamcensus.lake.storage import LakeStorage
from streamcensus.metrics.probes import Check, Probes, probe_server
from streamcensus.metrics.registry import new_registry
from streamcensus.tokens.live import LiveToken
from streamcensus.twitch import HelixClient, HelixError

# the API families whose paths name an endpoint (Helix, Twitch CLI mock, OAuth, simulator)
_FAMILIES = ("helix", "mock", "oauth2", "auth", "_sim")
_ENDPOINT = re.compile(r"^[a-z_]{1,40}(/[a-z_]{1,40}){0,3}$")
CHANNEL_OUTCOMES = ("listed", "tracked", "with_chatters", "forbidden", "failed")
SNAPSHOT_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0, 600.0)


def endpoint_of(url: httpx.URL) -> str:
    """A bounded label for a request's path: `helix/streams`, `oauth2/token`, ... The query
    string is never part of it, and a path with anything but lowercase words (an id, a
    login) is `other`, so no value of a request can become a label."""
    parts = url.path.strip("/").split("/")
    for i, part in enumerate(parts):
        if part in _FAMILIES:
            rest = "/".join(parts[i + 1 :])
            if part == "_sim":
                return "_sim"
            return f"{part}/{rest}" if _ENDPOINT.match(rest) else f"{part}/other"
    return "other"


class _TokenCollector(Collector):
    """Each user token's state and expiry, read when scraped. Labels: the token's user id
    and role, the operator or a consenting broadcaster (channel accounts, never viewers)."""

    def __init__(self, tokens: Callable[[], Sequence[LiveToken]]) -> None:
        self._tokens = tokens

    def collect(self) -> Iterator[GaugeMetricFamily]:
        usable = GaugeMetricFamily(
            "streamcensus_token_usable",
            "1 while a user token is usable, 0 once revoked, expired beyond refresh or tripped",
            labels=["user_id", "role"],
        )
        expiry = GaugeMetricFamily(
            "streamcensus_token_expiry_timestamp_seconds",
            "When a user token expires (Unix time; it is refreshed ahead of that)",
            labels=["user_id", "role"],
        )
        for token in self._tokens():
            labels = [token.user_id, token.role]
            usable.add_metric(labels, 0.0 if token.broken is not None else 1.0)
            expires = token.record.expires_at
            if expires is not None:
                expiry.add_metric(labels, expires.timestamp())
        yield usable
        yield expiry


class CollectorMetrics:
    """The collector's registry and series; `clock` is the collector's (simulated in tests)."""

    def __init__(
        self,
        clock: Clock,
        tokens: Sequence[LiveToken] = (),
        data_dir: Path | None = None,
    ) -> None:
        self.registry = r = new_registry("collector", data_dir)
        self._clock = clock
        self._started = clock.time()
        self._last_complete: float | None = None
        self.tokens: list[LiveToken] = list(tokens)
        self.snapshots = Counter(
            "streamcensus_snapshots", "Snapshots written, by status", ["status"], registry=r
        )
        self.last_snapshot = Gauge(
            "streamcensus_last_snapshot_timestamp_seconds",
            "Grid time of the latest snapshot written, by status (Unix time)",
            ["status"],
            registry=r,
        )
        for status in STATUSES:
            self.snapshots.labels(status)
        lag = Gauge(
            "streamcensus_snapshot_lag_seconds",
            "Seconds since the grid time of the latest complete snapshot (since the collector "
            "started while there is none)",
            registry=r,
        )
        lag.set_function(self._lag)
        self.duration = Histogram(
            "streamcensus_snapshot_duration_seconds",
            "Seconds a snapshot took, from its start to its manifest",
            buckets=SNAPSHOT_BUCKETS,
            registry=r,
        )
        self.channels = Gauge(
            "streamcensus_snapshot_channels",
            "Channels of the latest snapshot, by outcome (listed, tracked, with_chatters, "
            "forbidden: no token may read the chat list, failed)",
            ["outcome"],
            registry=r,
        )
        self.presence = Counter(
            "streamcensus_presence_observations",
            "Presence observations written (chatters rows; a count, never a viewer)",
            registry=r,
        )
        self.missing = Counter(
            "streamcensus_snapshot_missing",
            "Things partial snapshots lacked, by what (streams, chatters, followers, ...)",
            ["what"],
            registry=r,
        )
        self.http_429 = Counter(
            "streamcensus_helix_429", "429 answers (rate limit reached) from Helix", registry=r
        )
        self.waits = Counter(
            "streamcensus_rate_limit_waits",
            "Times the pacer made a request wait for the rate limit",
            registry=r,
        )
        self.wait_seconds = Counter(
            "streamcensus_rate_limit_wait_seconds",
            "Seconds requests waited for the rate limit",
            registry=r,
        )
        self.retries = Counter(
            "streamcensus_helix_retries", "Requests sent again after a failed attempt", registry=r
        )
        self.errors = Counter(
            "streamcensus_helix_errors",
            "Failed attempts by kind (http_<status>, timeout, network, malformed, ...)",
            ["kind"],
            registry=r,
        )
        self.refreshes = Counter(
            "streamcensus_token_refreshes", "Tokens replaced after a 401 or expiry", registry=r
        )
        self.requests = Counter(
            "streamcensus_helix_requests",
            "HTTP answers from Helix and the auth host, by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.chat = Counter(
            "streamcensus_chat_events",
            "Chat activity counters by event (connections, joins, messages, ...; per "
            "window: rate over 5m)",
            ["event"],
            registry=r,
        )
        r.register(_TokenCollector(lambda: self.tokens))

    def _lag(self) -> float:
        since = self._last_complete if self._last_complete is not None else self._started
        return max(0.0, self._clock.time() - since)

    def observe_snapshot(self, record: ManifestRecord) -> None:
        """Count one written snapshot from its manifest record."""
        grid = record.grid_time.timestamp()
        self.snapshots.labels(record.status).inc()
        self.last_snapshot.labels(record.status).set(grid)
        if record.status == "complete":
            self._last_complete = max(grid, self._last_complete or grid)
        self.duration.observe(record.duration_seconds)
        outcomes = (
            record.channels_listed,
            record.channels_tracked,
            record.channels_with_chatters,
            record.channels_forbidden,
            record.channels_failed,
        )
        for outcome, value in zip(CHANNEL_OUTCOMES, outcomes, strict=True):
            self.channels.labels(outcome).set(value)
        self.presence.inc(record.presence_observations)
        for entry in record.missing:
            self.missing.labels(entry["what"]).inc()
        self.http_429.inc(record.http_429)
        self.waits.inc(record.rate_limit_waits)
        self.wait_seconds.inc(record.rate_limit_wait_seconds)
        self.retries.inc(record.retries)
        for kind, count in record.errors.items():
            self.errors.labels(kind).inc(count)
        self.refreshes.inc(record.token_refreshes)
        # the chat listener's counters, in the manifests that carry them (`chat_counters`,
        # written once the collector runs a chat listener): read by name, so a record
        # without them counts no chat event
        chat = getattr(record, "chat_counters", None)
        if isinstance(chat, Mapping):
            self.observe_chat(chat)

    def observe_chat(self, delta: ChatCounters | Mapping[str, int]) -> None:
        """Count a chat window's events: the listener's counters since the window before
        (`ChatWindow.counters`, or their `as_dict()` as a manifest carries them). The events
        are `ChatCounters`' field names; a series appears with its first event, so a
        collector without a chat listener shows none."""
        counts = delta.as_dict() if isinstance(delta, ChatCounters) else delta
        for event, value in counts.items():
            if value > 0:
                self.chat.labels(event).inc(value)

    def watch(self, http: httpx.AsyncClient) -> None:
        """Count every HTTP answer `http` receives, by endpoint and status."""

        async def on_response(response: httpx.Response) -> None:
            self.requests.labels(endpoint_of(response.url), str(response.status_code)).inc()

        http.event_hooks["response"].append(on_response)


def app_token_check(client: HelixClient) -> Check:
    """Ready while an app token is held or can be obtained (the listing needs it)."""

    async def check() -> str | None:
        try:
            await client.app_token()
        except HelixError as exc:
            return f"no app token: {exc}"
        return None

    return check


def lake_writable_check(storage: LakeStorage) -> Check:
    """Ready while a small file can be written to the lake and removed (outside the raw,
    curated and quarantine zones, so no reader ever lists it)."""

    async def check() -> str | None:
        key = f"_probe/readyz-{uuid.uuid4().hex}"

        def probe() -> None:
            storage.put(key, b"")
            storage.delete(key)

        try:
            await asyncio.to_thread(probe)
        except Exception as exc:
            return f"lake {storage.url} is not writable: {exc}"
        return None

    return check


def collector_probes(session: CollectSession, data_dir: Path | None) -> CollectorMetrics:
    """The collector's metrics, counting `session`'s HTTP answers from now on."""
    metrics = CollectorMetrics(session.collector.clock, session.tokens, data_dir)
    metrics.watch(session.http)
    return metrics


async def collect_observed(
    session: CollectSession,
    interval: int,
    sock: socket.socket | None,
    *,
    data_dir: Path | None = None,
    stop: asyncio.Event | None = None,
    max_snapshots: int | None = None,
) -> int:
    """`collect_every`, with `/metrics`, `/healthz` and `/readyz` on `sock` (when given)."""
    if sock is None:
        return await collect_every(session, interval, stop=stop, max_snapshots=max_snapshots)
    metrics = collector_probes(session, data_dir)
    probes = Probes(
        metrics.registry,
        {
            "app_token": app_token_check(session.collector.client),
            "lake": lake_writable_check(session.collector.writer.storage),
        },
    )
    async with probe_server(probes, sock):
        return await collect_every(
            session,
            interval,
            stop=stop,
            max_snapshots=max_snapshots,
            on_record=metrics.observe_snapshot,
        )
