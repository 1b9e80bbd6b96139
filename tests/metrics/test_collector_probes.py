"""The collector's /metrics, /healthz and /readyz over real HTTP, driven on a virtual clock:
series change as snapshots happen, 429s and a revoked token show, no viewer ever appears."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from pydantic import Field

from metrics.scrape import promtool_check_metrics, samples, value, wait_until_up
from simulator.fake_world import CHANNELS, START, FakeWorld, chatter_ids
from simulator.test_faults import serve_with_faults, set_plan
from streamcensus.clock import VirtualClock
from streamcensus.collect.chat.schema import ChatCounters
from streamcensus.collect.metrics import CollectorMetrics, collect_observed, endpoint_of
from streamcensus.collect.session import open_collector
from streamcensus.config import load_settings
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.metrics.probes import bind_socket
from streamcensus.timeutil import GRID_SECONDS, UTC

T0 = START + 60  # 12:01, a minute after a grid time


def _grid(minutes: int) -> float:
    return START + 60 * minutes


async def test_collector_series_follow_the_snapshots(tmp_path: Path) -> None:
    clock = VirtualClock(T0, actors=2)  # the collector loop and this test
    world = FakeWorld()
    settings = load_settings(
        overrides={"data_dir": tmp_path, "language": "fr", "top_n": 100}, environ={}
    )
    sock = bind_socket("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop = asyncio.Event()
    with serve_with_faults(world, clock) as (handle, _faults):  # type: ignore[arg-type]
        async with (
            open_collector(
                settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=clock
            ) as session,
            httpx.AsyncClient(timeout=30) as http,
        ):
            operator = world.operator().id
            loop = asyncio.create_task(
                collect_observed(session, GRID_SECONDS, sock, data_dir=settings.data_dir, stop=stop)
            )
            await wait_until_up(http, base)

            # before any snapshot: nothing counted, lag since the collector started
            text = (await http.get(f"{base}/metrics")).text
            assert value(text, "streamcensus_snapshots_total", status="complete") == 0
            assert value(text, "streamcensus_snapshots_total", status="partial") == 0
            assert value(text, "streamcensus_snapshot_lag_seconds") == 0
            assert value(text, "streamcensus_token_usable", user_id=operator, role="operator") == 1
            ready = await http.get(f"{base}/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"app_token": "ok", "lake": "ok"}

            # 12:05 snapshot; scraped at 12:06 of the virtual clock
            await clock.sleep(_grid(6) - clock.time())
            text = (await http.get(f"{base}/metrics")).text
            assert value(text, "streamcensus_snapshots_total", status="complete") == 1
            assert value(text, "streamcensus_snapshot_lag_seconds") == 60
            assert value(
                text, "streamcensus_last_snapshot_timestamp_seconds", status="complete"
            ) == _grid(5)
            streams_ok = value(
                text, "streamcensus_helix_requests_total", endpoint="helix/streams", status="200"
            )
            assert streams_ok >= 1
            listed = value(text, "streamcensus_snapshot_channels", outcome="listed")
            assert listed == len([s for s in world.live_streams(_grid(5)) if s.language == "fr"])
            assert value(text, "streamcensus_helix_429_total") == 0
            first_presence = value(text, "streamcensus_presence_observations_total")
            assert first_presence > 0
            promtool_check_metrics(text)

            # a 429 on the next listing: counted from the manifest and by the response hook
            set_plan(
                handle.base_url,
                {"rules": [{"path": "/helix/streams", "fault": "429", "count": 1}]},
            )
            await clock.sleep(_grid(11) - clock.time())
            text = (await http.get(f"{base}/metrics")).text
            assert value(text, "streamcensus_snapshots_total", status="complete") == 2
            assert value(text, "streamcensus_helix_429_total") == 1
            assert (
                value(
                    text,
                    "streamcensus_helix_requests_total",
                    endpoint="helix/streams",
                    status="429",
                )
                == 1
            )
            assert value(text, "streamcensus_snapshot_lag_seconds") == 60
            assert value(text, "streamcensus_presence_observations_total") > first_presence
            forbidden = value(text, "streamcensus_snapshot_channels", outcome="forbidden")

            # the operator disconnects the app: its token is revoked, then tripped
            httpx.post(
                f"{handle.base_url}/_sim/auth/disconnect", json={"user_id": operator}
            ).raise_for_status()
            await clock.sleep(_grid(16) - clock.time())
            text = (await http.get(f"{base}/metrics")).text
            assert value(text, "streamcensus_token_usable", user_id=operator, role="operator") == 0
            assert value(text, "streamcensus_snapshots_total", status="partial") == 0
            # the channels the operator moderated are "not permitted" now (consents remain)
            assert value(text, "streamcensus_snapshot_channels", outcome="forbidden") > forbidden

            # no viewer: neither a login, an id, nor a pseudonym of any chatter
            viewers = [chatter_ids(c) for c in CHANNELS]
            logins = {login for ids in viewers for login in world.logins(ids)}
            ids = {str(i) for ids in viewers for i in ids.tolist()} - {c.user_id for c in CHANNELS}
            pseudonyms = set()
            for path in (settings.lake_dir / "raw" / "chatters").rglob("*.parquet"):
                if path.is_file():
                    pseudonyms |= {str(v) for v in pq.read_table(path)["viewer"].to_pylist()}
            assert logins and ids and pseudonyms
            labels = {v for key in samples(text) for _, v in key[1]}
            assert not labels & (logins | ids | pseudonyms)
            for secret in sorted(logins):
                assert secret not in text
            for number in sorted(pseudonyms):
                assert number not in text

            # the lake turns unwritable: not ready, with the reason
            shutil.rmtree(settings.lake_dir)
            settings.lake_dir.write_text("not a folder")
            ready = await http.get(f"{base}/readyz")
            assert ready.status_code == 503
            body = ready.json()
            assert body["status"] == "not ready"
            assert body["checks"]["app_token"] == "ok"
            assert "not writable" in body["checks"]["lake"]
            assert body["reason"].startswith("lake: ")

            stop.set()
            assert await asyncio.wait_for(loop, 60) == 3
    # the server is gone with the loop
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/healthz", timeout=5)


def test_endpoint_labels_are_bounded() -> None:
    assert endpoint_of(httpx.URL("http://h/helix/streams?user_login=alice")) == "helix/streams"
    assert endpoint_of(httpx.URL("http://h/mock/chat/chatters")) == "mock/chat/chatters"
    assert endpoint_of(httpx.URL("http://h/oauth2/token")) == "oauth2/token"
    assert endpoint_of(httpx.URL("http://h/helix/users/12345")) == "helix/other"
    assert endpoint_of(httpx.URL("http://h/helix/Alice")) == "helix/other"
    assert endpoint_of(httpx.URL("http://h/_sim/clock")) == "_sim"
    assert endpoint_of(httpx.URL("http://h/somewhere/else")) == "other"


def test_chat_counters_become_events() -> None:
    metrics = CollectorMetrics(VirtualClock(dt.datetime(2026, 1, 1, tzinfo=UTC)))
    metrics.observe_chat(ChatCounters(connections=2, joins=40, messages=1234))
    metrics.observe_chat(ChatCounters(messages=6))
    text = _exposition(metrics)
    assert value(text, "streamcensus_chat_events_total", event="connections") == 2
    assert value(text, "streamcensus_chat_events_total", event="joins") == 40
    assert value(text, "streamcensus_chat_events_total", event="messages") == 1240
    # a second registry starts from zero: nothing is shared between processes or tests
    other = CollectorMetrics(VirtualClock(dt.datetime(2026, 1, 1, tzinfo=UTC)))
    assert "streamcensus_chat_events_total{" not in _exposition(other)


def _exposition(metrics: CollectorMetrics) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


def test_chat_counters_of_a_manifest_are_counted() -> None:
    """A manifest that carries the chat listener's counters feeds the chat events."""

    class WithChat(ManifestRecord):
        chat_counters: dict[str, int] = Field(default_factory=dict)

    at = dt.datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    record = WithChat(
        snapshot_id="20260101T1205Z",
        grid_time=at,
        started_at=at,
        ended_at=at,
        source="http://127.0.0.1/helix",
        language="fr",
        top_n=10,
        status="complete",
        chat_counters={"connections": 1, "joins": 8, "messages": 321, "reconnects": 0},
    )
    metrics = CollectorMetrics(VirtualClock(at))
    metrics.observe_snapshot(record)
    metrics.observe_snapshot(record.model_copy(update={"snapshot_id": "20260101T1210Z"}))
    text = _exposition(metrics)
    assert value(text, "streamcensus_chat_events_total", event="messages") == 642
    assert value(text, "streamcensus_chat_events_total", event="joins") == 16
    assert 'event="reconnects"' not in text
    assert value(text, "streamcensus_snapshots_total", status="complete") == 2
