"""The collector under API faults, over real HTTP against the simulator with fault injection.

Every test takes a fault-free snapshot of the same tick first (the baseline) and then the
snapshot under faults, on a standing clock that is set back between the two (a standing
`SimClock` advances when the client sleeps, so backoffs and rate-limit waits cost no real
time). A fault the client can outlast must leave presence data identical to the baseline
and be counted in the manifest; one it cannot must leave a `partial` snapshot naming
exactly what is missing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from simulator.test_faults import fault_counters, serve_with_faults, set_plan
from streamcensus.clock import SimClock
from streamcensus.collect.readers import ChatListReaders
from streamcensus.collect.session import user_tokens
from streamcensus.collect.snapshot import CollectOptions, Collector
from streamcensus.keys import KeyStore
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import raw_path
from streamcensus.lake.writer import LakeWriter
from streamcensus.simulator.faults import DEFAULT_RESET_IN
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import UTC
from streamcensus.tokens.simulated import probe_simulator
from streamcensus.tokens.store import TokenStore
from streamcensus.twitch import HelixClient, HelixConfig
from streamcensus.twitch.config import PLACEHOLDER_CLIENT_ID, PLACEHOLDER_CLIENT_SECRET
from streamcensus.twitch.http import http_client

EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
CHATTERS = "/helix/chat/chatters"
STREAMS = "/helix/streams"
Presence = set[tuple[str, int]]


@contextlib.asynccontextmanager
async def collector_for(
    handle: SimulatorHandle,
    data_dir: Path,
    state_dir: Path,
    *,
    tracked: tuple[str, ...] = (),
    **config: Any,
) -> AsyncIterator[Collector]:
    """A collector on the simulator's clock, its own client (fast backoff), a shared key."""
    values: dict[str, Any] = {"backoff_base": 0.01, **config}
    helix = HelixConfig(
        helix_url=handle.helix_url,
        auth_url=handle.auth_url,
        client_id=PLACEHOLDER_CLIENT_ID,
        client_secret=PLACEHOLDER_CLIENT_SECRET,
        **values,
    )
    async with http_client(helix.concurrency, helix.timeout) as http:  # the collector's own
        client = HelixClient(helix, clock=handle.clock, http=http, rng=random.Random(0))
        simulator = await probe_simulator(http, handle.auth_url)
        store = TokenStore(state_dir / "by-device-flow")
        tokens = await user_tokens(client, http, handle.clock, store, simulator)
        yield Collector(
            client=client,
            writer=LakeWriter(data_dir / "lake"),
            keys=KeyStore(state_dir, 30, handle.clock),
            options=CollectOptions(
                language="fr", top_n=2000, tracked=tracked, concurrency=helix.concurrency
            ),
            clock=handle.clock,
            readers=ChatListReaders(client, tokens, handle.clock),
        )


def presence(lake_dir: Path, record: ManifestRecord) -> Presence:
    table = pq.read_table(raw_path(lake_dir, "chatters", record.snapshot_id))
    pairs = zip(
        table.column("channel_id").to_pylist(), table.column("viewer").to_pylist(), strict=True
    )
    return set(pairs)


def streams_rows(lake_dir: Path, record: ManifestRecord) -> list[dict[str, Any]]:
    return pq.read_table(raw_path(lake_dir, "streams", record.snapshot_id)).to_pylist()


def assert_on_disk(lake_dir: Path, record: ManifestRecord) -> None:
    """The manifest on disk equals the record, and every file it lists is there in full."""
    path = raw_path(lake_dir, "manifest", record.snapshot_id)
    assert ManifestRecord.from_bytes(path.read_bytes()) == record
    for kind in ("streams", "chatters"):
        entry = record.files[kind]
        assert (lake_dir / entry["path"]).stat().st_size == entry["bytes"]
        assert pq.read_table(lake_dir / entry["path"]).num_rows == entry["rows"]


@pytest.fixture
def simulator(small_world: PopulationWorld) -> Iterator[SimulatorHandle]:
    """The small world on a standing clock at 20:00, with fault injection."""
    with serve_with_faults(small_world, SimClock(EVENING, speed=0)) as (handle, _):
        yield handle


class Run:
    """Baseline and faulty snapshots of the 20:00 tick into separate lakes, one key."""

    def __init__(self, handle: SimulatorHandle, tmp_path: Path) -> None:
        self.handle = handle
        self.tmp = tmp_path
        self.state = tmp_path / "state"
        self.baseline_lake = tmp_path / "clean" / "lake"
        self.lake = tmp_path / "faulty" / "lake"

    async def baseline(self, **options: Any) -> ManifestRecord:
        assert isinstance(self.handle.clock, SimClock)
        self.handle.clock.set(EVENING)
        async with collector_for(self.handle, self.tmp / "clean", self.state, **options) as c:
            record = await c.collect(EVENING)
        assert record.status == "complete" and record.retries == 0
        return record

    async def faulty(self, plan: dict[str, Any], **options: Any) -> tuple[ManifestRecord, Any]:
        """The snapshot under `plan`; with the fault counters and the client's stats."""
        assert isinstance(self.handle.clock, SimClock)
        self.handle.clock.set(EVENING)
        async with collector_for(self.handle, self.tmp / "faulty", self.state, **options) as c:
            set_plan(self.handle.base_url, plan)
            record = await c.collect(EVENING)
            stats = c.client.stats.snapshot()
        counters = fault_counters(self.handle.base_url)
        httpx.delete(f"{self.handle.base_url}/_sim/faults")
        assert_on_disk(self.lake, record)
        return record, (counters, stats)


async def test_5xx_at_20_percent_loses_nothing(simulator: SimulatorHandle, tmp_path: Path) -> None:
    run = Run(simulator, tmp_path)
    clean = await run.baseline()
    plan = {
        "seed": 1,
        "rules": [
            {"path": CHATTERS, "fault": "500", "rate": 0.2},
            {"path": STREAMS, "fault": "503", "count": 2},  # the listing's first two tries
        ],
    }
    record, (counters, _) = await run.faulty(plan, max_attempts=8)

    injected = counters["by_fault"]
    assert injected["500"] >= 10  # about a fifth of ~75 chatters requests
    assert injected["503"] == 2
    assert record.status == "complete" and record.missing == []
    assert record.retries == counters["injected"]
    assert record.errors == {f"http_{k}": v for k, v in injected.items()}
    assert record.requests == clean.requests + counters["injected"]
    assert record.channels_failed == 0
    assert record.channels_listed == clean.channels_listed == 75
    assert record.presence_observations == clean.presence_observations
    assert presence(run.lake, record) == presence(run.baseline_lake, clean)
    assert len(presence(run.lake, record)) == clean.presence_observations > 3000
    assert streams_rows(run.lake, record) == streams_rows(run.baseline_lake, clean)


@pytest.mark.parametrize(
    ("fault", "error_key", "config"),
    [
        ("timeout", "timeout", {"timeout": 1.0}),
        ("reset", "network", {}),
        ("truncated", "network", {}),
        ("malformed", "malformed", {}),
    ],
)
async def test_transport_faults_are_retried_to_a_complete_snapshot(
    simulator: SimulatorHandle,
    tmp_path: Path,
    fault: str,
    error_key: str,
    config: dict[str, Any],
) -> None:
    run = Run(simulator, tmp_path)
    clean = await run.baseline()
    rules: list[dict[str, Any]] = [
        {"path": CHATTERS, "fault": fault, "rate": 0.2},
        {"path": STREAMS, "fault": fault, "count": 1},
    ]
    if fault == "timeout":
        for rule in rules:
            rule["delay"] = 5.0
    record, (counters, _) = await run.faulty({"seed": 2, "rules": rules}, max_attempts=8, **config)

    assert counters["rules"][0]["injected"] >= 10
    assert counters["rules"][1]["injected"] == 1
    assert record.status == "complete" and record.missing == []
    assert set(record.errors) == {error_key}
    if fault == "timeout":
        # a clean answer slower than the client's timeout (a busy machine) is one more
        # timeout, retried like the injected ones: at least those, each retried
        assert record.errors[error_key] >= counters["injected"]
    else:
        assert record.errors[error_key] == counters["injected"]
    assert record.retries == record.errors[error_key]
    assert presence(run.lake, record) == presence(run.baseline_lake, clean)
    assert streams_rows(run.lake, record) == streams_rows(run.baseline_lake, clean)


async def test_429_storm_waits_for_the_reset(simulator: SimulatorHandle, tmp_path: Path) -> None:
    run = Run(simulator, tmp_path)
    clean = await run.baseline()
    plan = {"rules": [{"path": CHATTERS, "fault": "429", "count": 10}]}
    record, (counters, _) = await run.faulty(plan)

    assert counters["injected"] == 10
    assert record.status == "complete"
    assert record.http_429 == 10
    assert record.errors == {"http_429": 10}
    assert record.retries == 10
    assert record.rate_limit_waits >= 1
    assert record.rate_limit_wait_seconds >= DEFAULT_RESET_IN - 1
    assert record.duration_seconds >= DEFAULT_RESET_IN - 1  # simulated seconds waited
    assert presence(run.lake, record) == presence(run.baseline_lake, clean)


@pytest.mark.parametrize(("storm", "status"), [(10, "complete"), (11, "partial")])
async def test_429_storm_on_one_channel_until_the_client_gives_up(
    simulator: SimulatorHandle, tmp_path: Path, storm: int, status: str
) -> None:
    run = Run(simulator, tmp_path)
    clean = await run.baseline()
    channel = streams_rows(run.baseline_lake, clean)[4]["channel_id"]
    rule = {"path": CHATTERS, "fault": "429", "count": storm, "query": {"broadcaster_id": channel}}
    record, (counters, _) = await run.faulty({"rules": [rule]}, max_rate_limit_retries=10)

    assert counters["injected"] == storm
    assert record.http_429 == storm
    assert record.rate_limit_wait_seconds >= storm * (DEFAULT_RESET_IN - 1)
    assert record.status == status
    expected = presence(run.baseline_lake, clean)
    if status == "partial":
        assert [(m["what"], m["channel_id"]) for m in record.missing] == [("chatters", channel)]
        assert "gave up after 11 attempts" in record.missing[0]["reason"]
        expected = {pair for pair in expected if pair[0] != channel}
    assert presence(run.lake, record) == expected


async def test_one_channel_failing_for_good_is_recorded_missing(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    run = Run(simulator, tmp_path)
    clean = await run.baseline()
    channel = streams_rows(run.baseline_lake, clean)[4]["channel_id"]
    rule = {"path": CHATTERS, "fault": "500", "query": {"broadcaster_id": channel}}
    record, (counters, _) = await run.faulty({"rules": [rule]}, max_attempts=5)

    assert counters["injected"] == 5
    assert record.status == "partial"
    assert len(record.missing) == 1
    assert record.missing[0]["what"] == "chatters"
    assert record.missing[0]["channel_id"] == channel
    assert "gave up after 5 attempts" in record.missing[0]["reason"]
    assert "HTTP 500" in record.missing[0]["reason"]
    assert record.channels_failed == 1
    assert record.channels_with_chatters == clean.channels_with_chatters - 1
    assert record.channels_listed == clean.channels_listed
    assert record.errors == {"http_500": 5}
    assert record.retries == 4
    rows = {r["channel_id"]: r for r in streams_rows(run.lake, record)}
    assert rows[channel]["chatters_status"] == "error"
    assert rows[channel]["chatters_total"] is None
    assert sum(r["chatters_status"] == "ok" for r in rows.values()) == len(rows) - 1
    expected = {pair for pair in presence(run.baseline_lake, clean) if pair[0] != channel}
    assert expected and presence(run.lake, record) == expected


@pytest.mark.parametrize("with_tracked", [False, True])
async def test_streams_listing_failing_for_good_is_recorded_missing(
    simulator: SimulatorHandle, tmp_path: Path, with_tracked: bool
) -> None:
    run = Run(simulator, tmp_path)
    clean = await run.baseline()
    top = streams_rows(run.baseline_lake, clean)[2]
    tracked = (top["channel_login"],) if with_tracked else ()
    rule = {"path": STREAMS, "fault": "503", "query": {"language": "fr"}}
    record, (counters, _) = await run.faulty({"rules": [rule]}, max_attempts=3, tracked=tracked)

    assert counters["injected"] == 3
    assert record.status == "partial"
    assert [(m["what"], m["channel_id"]) for m in record.missing] == [("streams", None)]
    assert "HTTP 503" in record.missing[0]["reason"]
    assert record.errors == {"http_503": 3}
    rows = streams_rows(run.lake, record)
    if with_tracked:
        assert [(r["channel_id"], r["rank"], r["tracked"]) for r in rows] == [
            (top["channel_id"], 0, True)
        ]
        expected = {p for p in presence(run.baseline_lake, clean) if p[0] == top["channel_id"]}
        assert expected and presence(run.lake, record) == expected
        assert record.channels_listed == record.channels_with_chatters == 1
    else:
        assert rows == []
        assert presence(run.lake, record) == set()
        assert record.channels_listed == 0
        assert record.files["streams"]["rows"] == record.files["chatters"]["rows"] == 0


async def test_token_expiring_mid_snapshot_is_renewed(
    small_world: PopulationWorld, tmp_path: Path
) -> None:
    clock = SimClock(EVENING, speed=200.0)
    with serve_with_faults(small_world, clock, token_ttl=120.0) as (handle, _):
        async with collector_for(handle, tmp_path, tmp_path / "state", concurrency=4) as c:
            set_plan(
                handle.base_url,
                {"rules": [{"path": CHATTERS, "fault": "delay", "delay": 0.08}]},
            )
            record = await c.collect(EVENING)
            stats = c.client.stats
    # 75 chatters requests, 4 at a time, each held 0.08 s: at least 1.5 s, 304 s simulated
    assert record.duration_seconds >= 2 * 120.0  # the moderator token expired twice or more
    assert record.status == "complete" and record.missing == []
    assert record.channels_failed == 0
    assert record.channels_with_chatters == record.channels_listed == 75
    # renewed ahead of expiry; a request in flight at the expiry may still see a 401
    # (how many depends on the machine's speed) and is retried with the new token
    assert stats.token_refreshes >= 2
    assert set(record.errors) <= {"http_401"}
    assert_on_disk(tmp_path / "lake", record)


async def test_a_401_on_chat_lists_renews_the_token_and_retries(
    small_world: PopulationWorld, tmp_path: Path
) -> None:
    clock = SimClock(EVENING, speed=0.0)
    with serve_with_faults(small_world, clock) as (handle, _):
        async with collector_for(handle, tmp_path, tmp_path / "state", concurrency=1) as c:
            set_plan(
                handle.base_url,
                {"rules": [{"path": CHATTERS, "fault": "401", "count": 1, "skip": 3}]},
            )
            refreshes = c.client.stats.token_refreshes
            record = await c.collect(EVENING)
            stats = c.client.stats
    assert record.status == "complete" and record.missing == []
    assert record.channels_failed == 0
    assert record.channels_with_chatters == record.channels_listed == 75
    assert record.errors == {"http_401": 1}
    assert stats.token_refreshes - refreshes == 1
    assert_on_disk(tmp_path / "lake", record)
