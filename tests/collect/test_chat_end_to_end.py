"""Chat activity end to end: simulator (real HTTP, real IRC) → collector → lake → load → API.

Three simulated hours at `small` are collected as the demo collects them (the simulator in
this process over HTTP and IRC on 127.0.0.1, its clock driven grid time by grid time, each
window closed with its PING barrier), loaded into the warehouse, and read back through the
dashboard's JSON API. The activity-signal curve the API publishes ("people who posted",
per hour: the hour's people per window read, averaged) must equal the simulator's ground
truth (`/_sim/truth/chat_activity`) for every hour whose windows the collector read whole,
and be suppressed where that average is under k.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from collect.chatlake import coverage, truth
from privacy.expect import EXACT_EPSILON, fix_noise_key
from streamcensus.clock import SimClock
from streamcensus.collect.simulated import CollectionReport, collect_simulated
from streamcensus.config import Settings, load_settings
from streamcensus.demo import headlines
from streamcensus.lake.schema import snapshot_id
from streamcensus.load.loader import load_days
from streamcensus.serve.app import create_app
from streamcensus.simulator.names import SERVICE_BOTS
from streamcensus.simulator.protocol import World
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.timeutil import GRID_SECONDS, day_start
from streamcensus.transform.protect import series_bucket

DAY = dt.date(2026, 11, 26)
HOURS = 3.0
SIGNAL = "chat_activity"
READ = ("complete", "partial")  # the coverage statuses whose counts are read


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, CollectionReport]:
    """Three hours collected with the default settings (realistic permissions), every
    service bot of the simulator known by name, then loaded."""
    data_dir = tmp_path_factory.mktemp("e2e")
    bots = [login for login, _, _ in SERVICE_BOTS]
    # figures compared with the truth exactly: the noise made zero (tests/privacy/expect.py)
    overrides = {"data_dir": data_dir, "known_bots": bots, "privacy_epsilon": EXACT_EPSILON}
    settings = load_settings(overrides=overrides, environ={})
    fix_noise_key(settings)
    report = collect_simulated(settings, first_day=DAY, hours=HOURS, scale="small", seed=42)
    load_days(settings, [DAY], clock=SimClock(day_start(DAY) + dt.timedelta(days=1), speed=0))
    return settings, report


def _api(settings: Settings, *urls: str) -> list[Any]:
    """GET each URL of the dashboard's API (in process, over ASGI); 200 and JSON each."""

    async def fetch() -> list[Any]:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        bodies = []
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                for url in urls:
                    response = await c.get(url)
                    assert response.status_code == 200, (url, response.text)
                    bodies.append(response.json())
        finally:
            app.state.serve.pool.close()
        return bodies

    return asyncio.run(fetch())


def _activity_curve(body: dict[str, Any]) -> list[int | None]:
    (curve,) = [c for c in body["curve"]["chatters"] if c["signal"] == SIGNAL]
    assert curve["label"] == "people who posted"
    values: list[int | None] = curve["values"]
    return values


def test_activity_figures_of_the_api_equal_the_truth(
    loaded: tuple[Settings, CollectionReport],
    running_simulator: Callable[..., SimulatorHandle],
    realistic_world: World,
) -> None:
    settings, report = loaded
    k = settings.k
    assert report.collected == 36 and report.activity_observations > 1000
    # realistic permissions: the operator moderates nothing, chat lists only on consent
    assert set(report.chat_lists_by_ground) <= {"consent"}
    sim = running_simulator(realistic_world, start=day_start(DAY).timestamp())
    (overview,) = _api(settings, f"/api/overview?day={DAY}")
    peaks = {p["signal"]: p["value"] for p in overview["totals"]["peak_chatters"]}
    assert peaks[SIGNAL] > k  # the community's chatters come from chat activity alone
    logins = [c["channel_login"] for c in overview["top_channels"]][:6]
    assert len(logins) == 6
    channels = _api(settings, *(f"/api/channels/{login}?day={DAY}" for login in logins))
    compared = {"shown": 0, "suppressed": 0}
    for body in channels:
        channel_id = body["channel"]["channel_id"]
        # the curve is published per hour: the hour's people per snapshot read, averaged
        hours: dict[str, list[tuple[int | None, str | None, int]]] = {}
        for ts, value in zip(body["curve"]["ts"], _activity_curve(body), strict=True):
            end = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
            row = coverage(settings.lake_dir, snapshot_id(end)).get(channel_id)
            status = None if row is None else row["status"]
            start = end - dt.timedelta(seconds=GRID_SECONDS)
            posters, _, bot_posters, _ = truth(sim.base_url, [channel_id], start, end)[channel_id]
            # people: bots are not counted (every one is known here)
            hours.setdefault(series_bucket(end), []).append((value, status, posters - bot_posters))
        for bucket, snapshots in hours.items():
            read = [(v, people) for v, status, people in snapshots if status in READ]
            if not read or any(s == "partial" for _, s, _ in snapshots):
                continue  # a window not read whole: the coverage says so (tested elsewhere)
            mean = round(sum(people for _, people in read) / len(read))
            expected = mean if mean >= k else None
            assert all(v == expected for v, _ in read), (body["channel"]["channel_login"], bucket)
            compared["shown" if expected is not None else "suppressed"] += len(read)
        (day,) = [d for d in body["days"] if d["day"] == DAY.isoformat()]
        assert day["signal"] == SIGNAL and day["has_chat_activity"]
        assert not day["has_chat_list"]
    assert compared["shown"] > 50  # not an empty comparison


def test_overlap_habits_exposure_and_bot_share_rest_on_chat_activity(
    loaded: tuple[Settings, CollectionReport],
) -> None:
    settings, _ = loaded
    habits, exposure, channels = _api(
        settings,
        f"/api/habits?day={DAY}&signal={SIGNAL}",
        f"/api/exposure?day={DAY}&window=1&signal={SIGNAL}",
        f"/api/overview?day={DAY}",
    )
    assert habits["signal"] == SIGNAL and habits["signal_label"] == "people who posted"
    cells = [v for row in habits["heatmap"]["people"] for v in row if v is not None]
    assert cells and min(cells) >= settings.k
    assert exposure["signal"] == SIGNAL and exposure["population"] > 100
    assert exposure["census"]  # census measures of the people who posted
    logins = [c["channel_login"] for c in channels["top_channels"]][:6]
    shares = []
    for body in _api(settings, *(f"/api/channels/{login}?day={DAY}" for login in logins)):
        (day,) = [d for d in body["days"] if d["day"] == DAY.isoformat()]
        assert day["signal"] == SIGNAL and day["unique_chatters"] > settings.k
        assert day["bot_share"] is not None and 0 <= day["bot_share"] < 1
        shares.append(day["bot_share"])
    assert max(shares) > 0  # service bots post in some of these chats
    # the demo's summary says the same, per signal
    (line,) = [x for x in headlines(settings) if x.startswith(SIGNAL)]
    match = re.match(r"chat_activity +people who posted: (\d+) channel-days", line)
    assert match is not None and int(match.group(1)) >= len(shares), line
    # the sampled unicity at two points is in the summary exactly when it is published
    two = [u for u in exposure["unicity"] if u["points"] == 2]
    said = f"of {exposure['population']:,} people singled out by 2 points" in line
    assert said == bool(two), line
