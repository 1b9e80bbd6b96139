"""The URL shapes of Twitch's CLI mock server (`twitch mock-api start`), served by the simulator.

Clients have a mock mode that points them at that server instead of Twitch (twurple's
`TWURPLE_MOCK_API_PORT`, for one). It serves three namespaces on one port, and so does
the simulator, next to Twitch's own shapes:

- `/mock/<path>` is Helix `/helix/<path>`: every Helix route is registered under both
  prefixes with the same handler (`add_helix_route`), so both answer alike, with the
  same rate limit. Under `/mock` the mock server's gateway rule applies first: a
  `Client-Id` shorter than 30 characters (Twitch's client ids have 30) is a 401
  `Missing Client ID or OAuth token`, as the mock server answers.
- `/auth/...` is id.twitch.tv's `/oauth2/...` (`oauth.py` serves both: `token`,
  `authorize` with `grant_type=user_token`, `validate`, `revoke`, `device`).
- `/units/...` lists what the mock server's database holds, in its shape
  `{"cursor": "", "total": N, "data": [...]}`: `clients` (the mock client's `ID` and
  `Secret`, as `twitch mock-api generate` prints them), `users` and `streams` (the
  live channels, top 100 by viewers, in Helix's shapes).

The simulator grants no more than Twitch: tokens keep Twitch's lifetimes (not the mock
server's 24 hours) and Helix keeps its rate limit. A client secret the simulator was
started with is never echoed: `/units/clients` then shows the required client id with
an empty `Secret`, and the operator passes the secret they already hold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response

from streamcensus.simulator.helix_params import JSON_TYPE, error_response
from streamcensus.simulator.protocol import UserRow

HELIX_PREFIX = "/helix"
MOCK_PREFIX = "/mock"
UNITS_PREFIX = "/units"
MOCK_CLIENT_ID_LENGTH = 30  # the mock server refuses a shorter Client-Id (Twitch's are 30)
UNITS_LIMIT = 100  # the mock server's units list at most 100 rows
MOCK_CLIENT_NAME = "Mock API Client"

Endpoint = Callable[[Request], Awaitable[Response]]


def mock_client_credentials(seed: int) -> tuple[str, str]:
    """The simulator's mock client: a 30-character id and secret, the same for a seed.

    Any client id and secret are accepted unless the simulator requires some; these are
    what `/units/clients` shows, for clients that read their credentials from there.
    """
    digest = hashlib.sha256(f"streamcensus mock client {seed}".encode()).hexdigest()
    return digest[:MOCK_CLIENT_ID_LENGTH], digest[-MOCK_CLIENT_ID_LENGTH:]


def _mock_gateway(endpoint: Endpoint) -> Endpoint:
    """The mock server's first check: a Client-Id of at least 30 characters and a token."""

    async def gated(request: Request) -> Response:
        client_id = request.headers.get("client-id", "")
        authorization = request.headers.get("authorization", "")
        if len(client_id) < MOCK_CLIENT_ID_LENGTH or len(authorization) < 7:
            return error_response(401, "Missing Client ID or OAuth token")
        return await endpoint(request)

    return gated


def add_helix_route(app: FastAPI, path: str, endpoint: Endpoint) -> None:
    """Register a Helix GET route at `/helix/...` and at the mock server's `/mock/...`."""
    if not path.startswith(HELIX_PREFIX + "/"):
        raise ValueError(f"a Helix route starts with {HELIX_PREFIX}/: {path}")
    mock_path = MOCK_PREFIX + path.removeprefix(HELIX_PREFIX)
    # plain Starlette routes: no dependency solving on the hot path
    app.router.add_route(path, endpoint, methods=["GET"], include_in_schema=False)
    app.router.add_route(
        mock_path, _mock_gateway(endpoint), methods=["GET"], include_in_schema=False
    )


def _units_body(rows: list[object]) -> Response:
    shown = rows[:UNITS_LIMIT]
    body = {"cursor": "", "total": len(shown), "data": shown}
    return Response(json.dumps(body, ensure_ascii=False), media_type=JSON_TYPE)


def add_units_routes(
    app: FastAPI,
    *,
    client_id: str,
    client_secret: str,
    live_streams: Callable[[], list[str]],
    users_by_id: Callable[[list[str]], list[UserRow]],
    user_json: Callable[[UserRow], dict[str, object]],
) -> None:
    """`/units/clients`, `/units/users` and `/units/streams`, as the mock server lists them.

    `live_streams()` gives the rendered Helix stream objects of now, ranked by viewers;
    `client_secret` is "" when the simulator requires a secret (never echoed).
    """

    async def clients(request: Request) -> Response:
        client = {
            "ID": client_id,
            "Secret": client_secret,
            "Name": MOCK_CLIENT_NAME,
            "IsExtension": False,
        }
        return _units_body([client])

    async def streams(request: Request) -> Response:
        rendered = live_streams()[:UNITS_LIMIT]
        return _units_body([json.loads(item) for item in rendered])

    async def users(request: Request) -> Response:
        rendered = live_streams()[:UNITS_LIMIT]
        ids = [str(json.loads(item)["user_id"]) for item in rendered]
        return _units_body([user_json(row) for row in users_by_id(ids)])

    for name, endpoint in (("clients", clients), ("users", users), ("streams", streams)):
        app.router.add_route(
            f"{UNITS_PREFIX}/{name}", endpoint, methods=["GET"], include_in_schema=False
        )
