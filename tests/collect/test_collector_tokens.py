"""The collector's user tokens over real HTTP against the simulator: the breaker (a revoked
token stops its reads within one snapshot, everything else is collected), consent
withdrawal with `auth logout --channel`, and days of collection across every expiry."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from streamcensus.cli import main
from streamcensus.collect.session import open_collector
from streamcensus.config import Settings, load_settings
from streamcensus.demo import grid_times, run_demo_collection
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import raw_path
from streamcensus.simulator.permissions import Permissions
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import UTC
from streamcensus.tokens.store import TokenRecord, TokenStore
from streamcensus.twitch.config import PLACEHOLDER_CLIENT_ID

EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
STEP = dt.timedelta(minutes=5)
CHATTERS = "/helix/chat/chatters"


@pytest.fixture(scope="module")
def consenting_world() -> PopulationWorld:
    """Realistic permissions, with one broadcaster in ten consenting (several live)."""
    return PopulationWorld("small", seed=42, permissions=Permissions(consent_share=0.1))


def _settings(tmp_path: Path) -> Settings:
    # chat lists and tokens only: chat activity (tested in test_chat_collection) is off
    return load_settings(overrides={"data_dir": tmp_path, "chat_enabled": False}, environ={})


def _live_consenting(handle: SimulatorHandle, at: dt.datetime = EVENING) -> list[dict[str, str]]:
    """Consenting broadcasters live in French at `at` (EVENING), by viewers."""
    truth = httpx.get(f"{handle.base_url}/_sim/truth/permissions").json()
    consenting = {c["id"] for c in truth["consenting"]}
    streams = httpx.get(
        f"{handle.base_url}/_sim/truth/streams", params={"at": at.isoformat()}
    ).json()["data"]
    return [
        {"id": s["user_id"], "login": s["user_login"]}
        for s in streams
        if s["language"] == "fr" and s["user_id"] in consenting
    ]


async def _collect(
    settings: Settings, handle: SimulatorHandle, times: list[dt.datetime], between: Any = None
) -> tuple[list[ManifestRecord], list[list[str]]]:
    """Snapshots at `times` in one session; per snapshot, the chatters requests' channels."""
    records: list[ManifestRecord] = []
    asked: list[list[str]] = []
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:
        seen: list[str] = []

        async def hook(request: httpx.Request) -> None:
            if request.url.path.endswith(CHATTERS):
                seen.append(request.url.params["broadcaster_id"])

        session.http.event_hooks["request"].append(hook)
        for i, moment in enumerate(times):
            handle.clock.set(moment)
            seen.clear()
            records.append(await session.collector.collect(moment))
            asked.append(list(seen))
            if between is not None:
                between(i)
    return records, asked


def _status(settings: Settings, record: ManifestRecord) -> dict[str, str]:
    table = pq.read_table(raw_path(settings.lake_dir, "streams", record.snapshot_id))
    return dict(
        zip(
            table.column("channel_id").to_pylist(),
            table.column("chatters_status").to_pylist(),
            strict=True,
        )
    )


async def test_a_withdrawn_consent_stops_its_reads_within_one_snapshot(
    tmp_path: Path,
    running_simulator: Callable[..., SimulatorHandle],
    consenting_world: PopulationWorld,
) -> None:
    handle = running_simulator(consenting_world, start=EVENING.timestamp())
    # both live through the three snapshots
    later = {c["id"] for c in _live_consenting(handle, EVENING + 2 * STEP)}
    live = [c for c in _live_consenting(handle) if c["id"] in later]
    assert len(live) >= 2
    gone, kept = live[0], live[1]

    def withdraw(i: int) -> None:
        if i == 0:  # the broadcaster disconnects streamcensus in their Twitch settings
            body = {"login": gone["login"]}
            httpx.post(f"{handle.base_url}/_sim/auth/disconnect", json=body).raise_for_status()

    settings = _settings(tmp_path)
    records, asked = await _collect(
        settings, handle, [EVENING, EVENING + STEP, EVENING + 2 * STEP], withdraw
    )
    first, tripped, after = records
    assert first.chat_list_grounds[gone["id"]] == "consent"
    assert first.chat_list_grounds[kept["id"]] == "consent"
    # the snapshot after the withdrawal: one refused request, then the breaker is open
    assert asked[1].count(gone["id"]) == 1
    assert gone["id"] not in tripped.chat_list_grounds
    assert tripped.chat_list_grounds[kept["id"]] == "consent"
    assert _status(settings, tripped)[gone["id"]] == "forbidden"
    entry = next(r for r in tripped.chat_list_readers if r["user_id"] == gone["id"])
    assert entry["state"] == "unusable" and "authorization is gone" in entry["reason"]
    assert entry["ground"] == "consent" and entry["channels_read"] == 0
    # and from then on not one request for that channel; everything else goes on
    assert gone["id"] not in asked[2]
    assert after.chat_list_grounds.get(kept["id"]) == "consent"
    for record in records:
        assert record.status == "complete" and record.channels_failed == 0
        assert record.channels_listed > 50  # stream facts never lost
        assert record.channels_forbidden == record.channels_listed - len(record.chat_list_grounds)


async def test_a_revoked_moderator_token_stops_every_read_it_served(
    tmp_path: Path,
    running_simulator: Callable[..., SimulatorHandle],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # LOAD-TEST permissions: the operator moderates every channel, nobody consents
    world = PopulationWorld(
        "small", seed=42, permissions=Permissions(mode="all-moderated", consent_share=0.0)
    )
    handle = running_simulator(world, start=EVENING.timestamp())

    def revoke(i: int) -> None:
        if i == 0:
            body = {"login": "streamcensus_operator"}
            httpx.post(f"{handle.base_url}/_sim/auth/disconnect", json=body).raise_for_status()

    settings = _settings(tmp_path)
    times = [EVENING + STEP, EVENING + 2 * STEP, EVENING + 3 * STEP]
    records, asked = await _collect(settings, handle, times, revoke)
    first, tripped, after = records
    assert first.channels_with_chatters == first.channels_listed > 50
    assert set(first.chat_list_grounds.values()) == {"moderation"}
    # in flight when the token died: at most one batch of `concurrency` (16) requests
    assert 1 <= len(asked[1]) <= 16
    assert tripped.channels_with_chatters == 0
    assert tripped.channels_forbidden == tripped.channels_listed > 50
    assert tripped.channels_failed == 0 and tripped.status == "complete"
    (entry,) = tripped.chat_list_readers
    assert entry["state"] == "unusable" and entry["channels_listed"] == tripped.channels_listed
    assert asked[2] == [] and after.channels_forbidden == after.channels_listed
    assert after.presence_observations == 0
    streams = pq.read_table(raw_path(settings.lake_dir, "streams", after.snapshot_id))
    assert streams.num_rows == after.channels_listed  # stream facts never lost
    # `status` says which token stopped and why
    main(["--data-dir", str(tmp_path), "status", "--json"])
    tokens = json.loads(capsys.readouterr().out)["chat_list_tokens"]
    assert tokens["snapshot_id"] == after.snapshot_id
    (reader,) = tokens["readers"]
    assert reader["login"] == "streamcensus_operator" and reader["ground"] == "moderation"
    assert reader["state"] == "unusable" and "authorization is gone" in reader["reason"]
    main(["--data-dir", str(tmp_path), "status"])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("chat-list token of streamcensus_operator (moderation)")
    assert "UNUSABLE: " in line and line.endswith(f"0 of {after.channels_listed} chat lists read")


def test_consent_withdrawn_with_auth_logout(
    tmp_path: Path,
    running_simulator: Callable[..., SimulatorHandle],
    consenting_world: PopulationWorld,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handle = running_simulator(consenting_world, start=EVENING.timestamp())
    gone, kept = _live_consenting(handle)[:2]
    settings = _settings(tmp_path)
    (first,), _ = asyncio.run(_collect(settings, handle, [EVENING]))
    assert first.chat_list_grounds[gone["id"]] == "consent"
    token_file = settings.state_dir / "tokens" / f"{gone['id']}.json"
    assert token_file.exists()
    monkeypatch.setenv("STREAMCENSUS_AUTH_URL", handle.auth_url)
    monkeypatch.setenv("STREAMCENSUS_HELIX_URL", handle.helix_url)
    for name in ("TWITCH_CLIENT_ID", "TWITCH_CLIENT_SECRET", "TWITCH_MODERATOR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    main(["--data-dir", str(tmp_path), "auth", "logout", "--channel", gone["login"].upper()])
    out = capsys.readouterr().out.strip()
    assert out == f"{gone['login']}: consent withdrawn (revoked on Twitch; token file deleted)"
    assert not token_file.exists()
    (later,), asked = asyncio.run(_collect(settings, handle, [EVENING + STEP]))
    assert gone["id"] not in asked[0]
    assert _status(settings, later)[gone["id"]] == "forbidden"
    assert later.chat_list_grounds[kept["id"]] == "consent"


@pytest.mark.slow
def test_two_days_keep_complete_snapshots_across_every_expiry(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    day = dt.date(2026, 11, 26)
    report = run_demo_collection(settings, first_day=day, hours=48, scale="small", seed=42)
    times = grid_times(day, 48)
    assert report.snapshots_complete == len(times) == 576 and report.snapshots_partial == 0
    tokens = len(list((settings.state_dir / "tokens").glob("*.json")))
    assert tokens >= 5  # the operator and the consenting broadcasters
    for one_day in (day, day + dt.timedelta(days=1)):
        records = [
            ManifestRecord.from_bytes(
                raw_path(settings.lake_dir, "manifest", t.strftime("%Y%m%dT%H%MZ")).read_bytes()
            )
            for t in times
            if t.date() == one_day
        ]
        # a user token lives 4 h: each is refreshed at least five times a day
        assert sum(r.token_refreshes for r in records) >= 5 * tokens
        # validated every hour (and at start)
        assert 24 * tokens <= sum(r.token_validations for r in records) <= 26 * tokens
        assert all(r.channels_failed == 0 for r in records)
        assert all(r["state"] == "ok" for record in records for r in record.chat_list_readers)
        grounds = [g for r in records for g in r.chat_list_grounds.values()]
        assert grounds and set(grounds) == {"consent"}
        assert sum(r.followers_status == "complete" for r in records) >= 20


async def test_a_restarted_simulator_is_logged_in_again(
    tmp_path: Path, running_simulator: Callable[..., SimulatorHandle], consenting_world: Any
) -> None:
    handle = running_simulator(consenting_world, start=EVENING.timestamp())
    settings = _settings(tmp_path)
    operator = consenting_world.operator()
    stale = TokenRecord(
        user_id=operator.id,
        login=operator.login,
        role="operator",
        client_id=PLACEHOLDER_CLIENT_ID,
        auth_url=handle.auth_url,
        scopes=("moderator:read:chatters",),
        access_token=SecretStr("from-a-simulator-that-stopped"),
        refresh_token=SecretStr("also-unknown-here"),
        obtained_at=EVENING,
    )
    TokenStore(settings.state_dir).put(stale)
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:
        assert all(t.broken is None for t in session.tokens)
        assert operator.id in {t.user_id for t in session.tokens}
        assert len(session.tokens) > 1  # the consenting broadcasters too
    stored = TokenStore(settings.state_dir).get(operator.id)
    assert stored is not None
    assert stored.access_token.get_secret_value() != "from-a-simulator-that-stopped"


async def test_a_hand_made_token_without_the_moderation_scope_probes_once(
    tmp_path: Path, running_simulator: Callable[..., SimulatorHandle]
) -> None:
    """`TWITCH_MODERATOR_TOKEN` without `user:read:moderated_channels`: each listed channel
    is tried once; a 403 keeps it away from that channel (no request the next time)."""
    handle = running_simulator()  # the fake world: helper_mod moderates alpha_fr (id 1) only
    form = {"client_id": PLACEHOLDER_CLIENT_ID, "scopes": "moderator:read:chatters"}
    device = httpx.post(f"{handle.auth_url}/device", data=form).json()
    answer = {"user_code": device["user_code"], "login": "helper_mod"}
    httpx.post(f"{handle.base_url}/_sim/auth/device", json=answer).raise_for_status()
    poll = {**form, "device_code": device["device_code"]}
    poll["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code"
    token = httpx.post(f"{handle.auth_url}/token", data=poll).json()["access_token"]
    settings = load_settings(
        overrides={"data_dir": tmp_path, "moderator_token": token, "chat_enabled": False},
        environ={},
    )
    start = dt.datetime.fromtimestamp(handle.clock.time(), UTC)
    times = [start, start + dt.timedelta(minutes=1)]  # the fake world's tick is a minute
    records, asked = await _collect(settings, handle, times)
    fr = {"1", "2", "4", "6", "7"}  # the fake world's French channels
    assert set(asked[0]) == fr  # tried once each
    assert set(asked[1]) == {"1"}  # the refusals are remembered (alpha_fr: 3 pages)
    for record in records:
        assert record.chat_list_grounds == {"1": "moderation"}
        assert record.channels_forbidden == 4 and record.status == "complete"
    assert not (settings.state_dir / "tokens").exists()  # nothing logged in on its behalf
