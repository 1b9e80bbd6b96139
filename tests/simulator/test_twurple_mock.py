"""A second third-party client, @twurple/api from npm, works against the simulator in its mock mode.

twurple's mock mode is `TWURPLE_MOCK_API_PORT`: Helix calls go to `/mock/...` and auth
calls to `/auth/...` on localhost, the URL shapes of Twitch's CLI mock server. The Node
script `tests/js/twurple_mock.mjs` (installed by `make test`: `npm ci` in `tests/js`) reads
the mock client from `/units/clients`, gets a user token from `/auth/authorize`, pages
through streams and chatters, looks users up, reads moderated channels and a follower
total, and lets the client refresh its expired user token by itself. Without node or the
installed packages the test skips on a laptop and fails in CI (`CI=true`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamcensus.simulator.mock_routes import MOCK_CLIENT_ID_LENGTH
from streamcensus.simulator.server import SimulatorHandle

from .fake_world import CHANNELS, chatter_ids

StartSimulator = Callable[..., SimulatorHandle]
JS_DIR = Path(__file__).resolve().parent.parent / "js"
SCRIPT = JS_DIR / "twurple_mock.mjs"
SCRIPT_TIMEOUT = 120.0  # a bound on a hung client, not a performance check


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(message)
    pytest.skip(message)


def run_twurple(sim: SimulatorHandle, **env: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed: install Node 20 and npm, then run `make test`")
    if not (JS_DIR / "node_modules" / "@twurple" / "api").is_dir():
        _unavailable("@twurple/api is not installed: run `make test` (npm ci in tests/js)")
    assert node is not None
    environment = {
        **os.environ,
        "TWURPLE_MOCK_API_PORT": str(sim.port),
        # twurple calls http://localhost:PORT; the simulator listens on 127.0.0.1 only
        "NODE_OPTIONS": "--dns-result-order=ipv4first",
        **env,
    }
    done = subprocess.run(
        [node, str(SCRIPT)],
        cwd=JS_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_twurple_in_mock_mode_lists_streams_users_and_chatters(
    running_simulator: StartSimulator,
) -> None:
    sim = running_simulator()
    report = run_twurple(sim)

    # the mock client of /units/clients, with a mock-server-sized id
    assert report["clientIdLength"] == MOCK_CLIENT_ID_LENGTH
    assert report["tokenUser"] == "500"  # learned from /auth/validate
    assert report["grantScope"] == ["moderator:read:chatters", "user:read:moderated_channels"]

    french = [c for c in CHANNELS if c.language == "fr" and c.login != "night_owl"]
    logins = [c.login for c in french]
    assert report["streamPages"] == [logins[0:2], logins[2:4], logins[4:]]
    assert [s["userName"] for s in report["streams"]] == logins
    top = report["streams"][0]
    assert top == {
        "id": "40000000001",
        "userId": "1",
        "userName": "alpha_fr",
        "viewers": 9000,
        "gameName": "League of Legends",
        "startDate": "2026-01-01T11:00:00.000Z",
        "tags": ["FR", "Chill"],
        "isMature": False,
    }
    assert [s["isMature"] for s in report["streams"]] == [c.user_id == "4" for c in french]

    assert report["users"] == [
        {"id": "3", "name": "charlie_en", "displayName": "Charlie_EN"},
        {"id": "1002", "name": "viewer_1002", "displayName": "Viewer_1002"},
    ]
    assert report["userById"] == {"id": "1", "name": "alpha_fr"}

    chatters = report["chatters"]
    assert chatters["total"] == 2500
    assert chatters["firstPage"] == 1000  # Get Chatters' page size
    assert chatters["ids"] == [str(i) for i in chatter_ids(CHANNELS[0]).tolist()]
    assert report["forbidden"] == 403  # the operator does not moderate closed_chan
    assert report["moderated"] == ["1", "2", "3", "4", "5", "6", "8", "9"]
    assert report["followers"] == 1000  # channel 1 at the start of the simulated clock

    # five simulated hours later the 4-hour user token has expired; twurple refreshed it
    assert report["clockAdvancedTo"] == "2026-01-01T17:00:00+00:00"
    assert report["afterExpiry"] == {"total": 2500, "refreshed": 1}


def test_mock_prefix_serves_the_helix_routes_with_the_mock_gateway(
    running_simulator: StartSimulator,
) -> None:
    sim = running_simulator()
    client = httpx.get(f"{sim.base_url}/units/clients").json()["data"][0]
    token = httpx.post(
        f"{sim.base_url}/auth/token",
        params={
            "client_id": client["ID"],
            "client_secret": client["Secret"],
            "grant_type": "client_credentials",
        },
    ).json()
    assert set(token) == {"access_token", "refresh_token", "expires_in", "scope", "token_type"}
    headers = {"Authorization": f"Bearer {token['access_token']}", "Client-Id": client["ID"]}
    helix = httpx.get(f"{sim.base_url}/helix/streams", params={"first": 3}, headers=headers)
    mock = httpx.get(f"{sim.base_url}/mock/streams", params={"first": 3}, headers=headers)
    assert mock.status_code == helix.status_code == 200
    assert mock.json()["data"] == helix.json()["data"]
    # one bucket for both prefixes: the second request spent a point more
    assert int(mock.headers["Ratelimit-Remaining"]) == int(helix.headers["Ratelimit-Remaining"]) - 1

    short = httpx.get(
        f"{sim.base_url}/mock/streams",
        headers={"Authorization": headers["Authorization"], "Client-Id": "short"},
    )
    assert short.status_code == 401
    assert short.json() == {
        "error": "Unauthorized",
        "status": 401,
        "message": "Missing Client ID or OAuth token",
    }
    # /helix keeps Twitch's own answer to a mismatched client id
    assert (
        httpx.get(
            f"{sim.base_url}/helix/streams",
            headers={"Authorization": headers["Authorization"], "Client-Id": "short"},
        ).json()["message"]
        == "Client ID and OAuth token do not match"
    )
    # every Helix route has its /mock twin
    for path in ("users?id=1", "chat/chatters?broadcaster_id=1&moderator_id=500"):
        assert httpx.get(f"{sim.base_url}/mock/{path}").status_code == 401
    assert httpx.get(f"{sim.base_url}/mock/nothing_here").status_code == 404


def test_units_list_streams_users_and_never_echo_a_required_secret(
    running_simulator: StartSimulator,
) -> None:
    sim = running_simulator()
    streams = httpx.get(f"{sim.base_url}/units/streams").json()
    live = [c for c in CHANNELS if c.login != "night_owl"]
    assert streams["cursor"] == ""
    assert streams["total"] == len(live)
    assert [s["user_login"] for s in streams["data"]] == [c.login for c in live]
    users = httpx.get(f"{sim.base_url}/units/users").json()
    assert [u["login"] for u in users["data"]] == [c.login for c in live]
    first = httpx.get(f"{sim.base_url}/units/clients").json()["data"][0]
    assert len(first["ID"]) == len(first["Secret"]) == MOCK_CLIENT_ID_LENGTH
    assert first["Name"] == "Mock API Client"

    required = running_simulator(
        require_client_id="c" * MOCK_CLIENT_ID_LENGTH, require_client_secret="s3cr3t-value"
    )
    text = httpx.get(f"{required.base_url}/units/clients").text
    assert "s3cr3t-value" not in text
    assert json.loads(text)["data"][0] == {
        "ID": "c" * MOCK_CLIENT_ID_LENGTH,
        "Secret": "",
        "Name": "Mock API Client",
        "IsExtension": False,
    }
