"""The collector over real HTTP against the simulator: ground truth, consent, opt-outs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from streamcensus.collect.privacy import Pseudonymiser
from streamcensus.collect.runner import collect_once
from streamcensus.collect.session import open_collector
from streamcensus.config import Settings, load_settings
from streamcensus.errors import UserError
from streamcensus.keys import KeyStore
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import FOLLOWERS, raw_path
from streamcensus.simulator.permissions import Permissions
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import UTC

EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def _fr_channels_live(world: PopulationWorld) -> list[str]:
    return [s.user_login for s in world.live_streams(EVENING.timestamp()) if s.language == "fr"]


@pytest.fixture(scope="module")
def permitted_world() -> PopulationWorld:
    """Realistic permissions: the operator moderates ten live channels, 5 % consent."""
    probe = PopulationWorld(scale="small", seed=7)
    moderated = tuple(_fr_channels_live(probe)[5:15])
    return PopulationWorld(
        scale="small",
        seed=7,
        permissions=Permissions(operator_moderates=moderated, consent_share=0.05),
    )


def _settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(overrides={"data_dir": tmp_path, **values}, environ={})


def _truth(base_url: str, path: str) -> dict:  # type: ignore[type-arg]
    response = httpx.get(f"{base_url}/_sim/truth/{path}", params={"at": EVENING.isoformat()})
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


async def test_snapshot_equals_ground_truth(
    tmp_path: Path, running_simulator, permitted_world: PopulationWorld
) -> None:
    """Chat lists are read where the broadcaster consents or the operator moderates, each
    on its ground; every other channel is "not permitted" without a request."""
    handle = running_simulator(permitted_world, start=EVENING.timestamp())
    settings = _settings(tmp_path)
    requested: list[httpx.URL] = []
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:
        session.http.event_hooks["request"].append(_record_url(requested))
        record = await session.collector.collect(EVENING)
        roles = {t.user_id: t.role for t in session.tokens}

    operator = permitted_world.operator().id
    truth_permissions = httpx.get(f"{handle.base_url}/_sim/truth/permissions").json()
    consenting = {c["id"] for c in truth_permissions["consenting"]}
    assert roles == {operator: "operator", **{c: "broadcaster" for c in consenting}}

    truth = _truth(handle.base_url, "streams")
    live_fr = {s["user_id"]: s for s in truth["data"] if s["language"] == "fr"}
    streams = pq.read_table(raw_path(settings.lake_dir, "streams", record.snapshot_id))
    assert sorted(streams.column("channel_id").to_pylist()) == sorted(live_fr)
    assert streams.column("viewer_count").to_pylist() == [
        live_fr[c]["viewer_count"] for c in streams.column("channel_id").to_pylist()
    ]
    assert streams.column("rank").to_pylist() == list(range(1, len(live_fr) + 1))

    key = KeyStore(settings.key_store_dir, settings.key_rotation_days, handle.clock).current(
        EVENING
    )
    pseudonymiser = Pseudonymiser(key, [], [])
    chatters = pq.read_table(raw_path(settings.lake_dir, "chatters", record.snapshot_id))
    by_channel: dict[str, set[int]] = {}
    for channel, viewer in zip(
        chatters.column("channel_id").to_pylist(),
        chatters.column("viewer").to_pylist(),
        strict=True,
    ):
        by_channel.setdefault(channel, set()).add(viewer)
    status = dict(
        zip(
            streams.column("channel_id").to_pylist(),
            streams.column("chatters_status").to_pylist(),
            strict=True,
        )
    )
    expected: dict[str, str] = {}
    for channel_id in live_fr:
        if channel_id in consenting:
            expected[channel_id] = "consent"
        elif permitted_world.can_read_chatters(operator, channel_id):
            expected[channel_id] = "moderation"
    assert 10 <= len(expected) < len(live_fr) // 2
    assert "consent" in expected.values() and "moderation" in expected.values()
    assert record.chat_list_grounds == expected
    asked = [u.params["broadcaster_id"] for u in requested if u.path.endswith("/chat/chatters")]
    assert sorted(asked) == sorted(expected)  # not one request for a channel nobody may read
    for channel_id in live_fr:
        if channel_id in expected:
            assert status[channel_id] == "ok"
            ids = [c["user_id"] for c in _truth(handle.base_url, f"chatters/{channel_id}")["data"]]
            assert by_channel.get(channel_id, set()) == {pseudonymiser.pseudonym(i) for i in ids}
        else:
            assert status[channel_id] == "forbidden"
            assert channel_id not in by_channel
    assert record.status == "complete"
    assert record.channels_listed == len(live_fr)
    assert record.channels_forbidden == len(live_fr) - len(expected)
    assert record.channels_with_chatters == len(expected)
    assert record.presence_observations == chatters.num_rows
    assert record.http_429 == 0 and record.retries == 0
    readers = {r["user_id"]: r for r in record.chat_list_readers}
    assert readers[operator]["ground"] == "moderation"
    assert readers[operator]["channels_read"] == list(expected.values()).count("moderation")
    # 20:00 is on the hour: the follower totals of every listed channel, from the model
    followers = pq.read_table(raw_path(settings.lake_dir, FOLLOWERS.name, record.snapshot_id))
    assert record.followers_status == "complete"
    assert record.followers_channels == followers.num_rows == len(live_fr)
    for channel_id, total in zip(
        followers.column("channel_id").to_pylist(),
        followers.column("followers_total").to_pylist(),
        strict=True,
    ):
        assert total == permitted_world.followers_total(channel_id, handle.clock.time())
    on_disk = ManifestRecord.from_bytes(
        raw_path(settings.lake_dir, "manifest", record.snapshot_id).read_bytes()
    )
    assert on_disk == record


async def test_optouts_tracked_and_top_n(
    tmp_path: Path, running_simulator, small_world: PopulationWorld
) -> None:
    handle = running_simulator(small_world, start=EVENING.timestamp())
    live = [s for s in _truth(handle.base_url, "streams")["data"] if s["language"] == "fr"]
    outside = [s for s in _truth(handle.base_url, "streams")["data"] if s["language"] != "fr"]
    optout = live[0]
    tracked = outside[0]
    requested: list[httpx.URL] = []
    settings = _settings(
        tmp_path,
        top_n=10,
        optout_channels=[optout["user_login"].upper()],
        tracked=[tracked["user_login"]],
    )
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:
        session.http.event_hooks["request"].append(_record_url(requested))
        record = await session.collector.collect(EVENING)
    streams = pq.read_table(raw_path(settings.lake_dir, "streams", record.snapshot_id))
    ids = streams.column("channel_id").to_pylist()
    assert optout["user_id"] not in ids
    # the file is ordered by rank; 0 marks a tracked channel outside the top-N listing
    assert ids[1:] == [s["user_id"] for s in live[1:10]]
    assert ids[0] == tracked["user_id"]
    assert streams.column("rank").to_pylist() == [0, *range(2, 11)]
    assert streams.column("tracked").to_pylist() == [True] + [False] * 9
    assert record.channels_tracked == 1
    chatter_requests = [u for u in requested if u.path.endswith("/chat/chatters")]
    assert len(chatter_requests) == 10
    assert all(u.params["broadcaster_id"] != optout["user_id"] for u in chatter_requests)


def _record_url(store: list[httpx.URL]):  # type: ignore[no-untyped-def]
    async def hook(request: httpx.Request) -> None:
        store.append(request.url)

    return hook


async def test_second_snapshot_at_same_grid_time_is_refused(
    tmp_path: Path, running_simulator, small_world: PopulationWorld
) -> None:
    handle = running_simulator(small_world, start=EVENING.timestamp() + 30)
    settings = _settings(tmp_path, top_n=5)
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url
    ) as session:
        assert session.simulator is not None
        record = await collect_once(session)
        assert record.grid_time == EVENING
        with pytest.raises(UserError, match="already in the lake"):
            await collect_once(session)


async def test_without_moderator_token_chatters_are_not_permitted(tmp_path: Path) -> None:
    transport = httpx.MockTransport(_streams_only_server)
    settings = _settings(
        tmp_path,
        client_id="id",
        client_secret="secret",
        helix_url="https://helix.example/helix",
        auth_url="https://id.example/oauth2",
    )
    async with open_collector(settings, transport=transport) as session:
        record = await session.collector.collect(EVENING)
    assert session.tokens == []
    assert record.status == "complete"
    assert record.channels_listed == 1
    assert record.channels_forbidden == 1
    assert record.presence_observations == 0


def _streams_only_server(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/token"):
        return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
    if request.url.path.endswith("/users"):  # the known bots' ids: none exist here
        return httpx.Response(200, json={"data": []})
    stream = {
        "id": "1",
        "user_id": "10",
        "user_login": "chan",
        "user_name": "Chan",
        "game_id": "1",
        "game_name": "Chess",
        "type": "live",
        "title": "hi",
        "tags": [],
        "viewer_count": 12,
        "started_at": "2026-11-27T19:00:00Z",
        "language": "fr",
        "thumbnail_url": "",
        "tag_ids": [],
        "is_mature": False,
    }
    return httpx.Response(200, json={"data": [stream], "pagination": {}})


async def test_optout_viewer_is_dropped_and_resolved_to_its_id(
    tmp_path: Path, running_simulator, small_world: PopulationWorld
) -> None:
    handle = running_simulator(small_world, start=EVENING.timestamp())
    channel = next(s for s in _truth(handle.base_url, "streams")["data"] if s["language"] == "fr")
    someone = _truth(handle.base_url, f"chatters/{channel['user_id']}")["data"][0]
    settings = _settings(tmp_path, top_n=20, optout_viewers=[someone["user_login"].upper()])
    async with open_collector(
        settings, helix_url=handle.helix_url, auth_url=handle.auth_url, clock=handle.clock
    ) as session:
        # matched by id too, so a later rename of the account changes nothing (P4)
        assert someone["user_id"] in session.collector.options.optout_viewers
        record = await session.collector.collect(EVENING)
    key = KeyStore(settings.key_store_dir, settings.key_rotation_days, handle.clock).current(
        EVENING
    )
    hidden = Pseudonymiser(key, [], []).pseudonym(someone["user_id"])
    chatters = pq.read_table(raw_path(settings.lake_dir, "chatters", record.snapshot_id))
    assert hidden not in set(chatters.column("viewer").to_pylist())
    # no count of her anywhere: not in the manifest, not in Twitch's total (P4)
    assert "optout" not in record.to_bytes().decode()
    streams = pq.read_table(raw_path(settings.lake_dir, "streams", record.snapshot_id))
    totals = dict(
        zip(streams["channel_id"].to_pylist(), streams["chatters_total"].to_pylist(), strict=True)
    )
    rows = chatters.group_by("channel_id").aggregate([("viewer", "count")]).to_pylist()
    assert totals[channel["user_id"]] == next(
        r["viewer_count"] for r in rows if r["channel_id"] == channel["user_id"]
    )
