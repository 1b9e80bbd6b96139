"""The simulator's OAuth routes, and the control routes that play the user's part.

Two families share the token handlers: Twitch's own (`/oauth2/token`, `/oauth2/device`,
`/oauth2/validate`, `/oauth2/revoke`) and the Twitch CLI mock API's (`/auth/token`,
`/auth/authorize` with `grant_type=user_token`), so tools written for either work
unchanged. Errors have id.twitch.tv's body, `{"status": 400, "message": "..."}`; the
device-code poll answers carry RFC 8628's codes as Twitch's `message` (Twitch documents
`authorization_pending`; the others follow the RFC, and `invalid device code` is what
Twitch answers for a code it does not know).

Control routes (no token, 127.0.0.1 only, and JSON bodies only like the rest of `/_sim`, so
a web page of another site cannot approve a code):
- `POST /_sim/auth/device` `{"user_code", "login" | "user_id", "action": "approve" | "deny"}`:
  a person enters the user code on the activation page and answers. A broadcaster who
  does not consent (ground truth, `/_sim/truth/permissions`) cannot approve: 409.
- `POST /_sim/auth/disconnect` `{"login" | "user_id", "client_id"?}`: the person
  disconnects the application in their Twitch settings: every token of theirs stops
  working, and a broadcaster's consent is withdrawn.
- `POST /_sim/auth/consent` `{"login" | "user_id", "consents": true | false}`.
- `GET /_sim/auth/device`: the device codes waiting for an answer.
- `GET /_sim/truth/permissions`: who may read which chat list (mode, the channels the
  operator moderates, the consenting broadcasters, consent withdrawn since start).
- `GET /activate?device-code=CODE`: the page a `verification_uri` points at (it says how
  to answer with the control route).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from streamcensus.simulator.auth import (
    ClientRejected,
    ConsentBook,
    DeviceCodes,
    DeviceGrant,
    Token,
    TokenStore,
)
from streamcensus.simulator.control import BadRequest, ControlError, json_object
from streamcensus.simulator.control import error_response as control_error
from streamcensus.simulator.protocol import UserRow, World

DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
UserLookup = Callable[[str], "tuple[str, str] | None"]
"""Finds an account by user id: `(user_id, login)`, or None when there is none."""


def _oauth_error(status: int, message: str) -> Response:
    """The id.twitch.tv error body: `{"status": 400, "message": "..."}`."""
    return JSONResponse({"status": status, "message": message}, status_code=status)


async def request_params(request: Request) -> dict[str, str]:
    """Parameters from the query string and a form or JSON body (body wins)."""
    params = dict(request.query_params)
    body = await request.body()
    if body:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                params.update({str(k): _text(v) for k, v in decoded.items()})
        else:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _scopes(text: str | None) -> tuple[str, ...]:
    """A space-separated scope list (`+` arrives as a space once decoded)."""
    return tuple(dict.fromkeys(s for s in (text or "").split() if s))


def oauth_router(
    store: TokenStore, devices: DeviceCodes, find_user: UserLookup, *, prefix: str
) -> APIRouter:
    """Token, device, authorize, validate and revoke routes under `prefix` (`/oauth2`, `/auth`)."""
    router = APIRouter(prefix=prefix)
    mock_shape = prefix == "/auth"

    def grant(token: Token) -> JSONResponse:
        body = token.grant_json(store.clock.time())
        if mock_shape:
            body = {
                "access_token": token.access_token,
                "refresh_token": token.refresh_token or "",
                "expires_in": body["expires_in"],
                "scope": list(token.scopes),
                "token_type": "bearer",
            }
        return JSONResponse(body)

    def user_token(params: dict[str, str]) -> Response:
        try:
            store.check_client(params.get("client_id", ""), params.get("client_secret"))
        except ClientRejected as exc:
            return _oauth_error(exc.status, exc.message)
        user = find_user(params.get("user_id", ""))
        if user is None:
            return _oauth_error(400, "User ID invalid")
        scopes = _scopes(params.get("scope"))
        return grant(store.issue_user(params["client_id"], user[0], user[1], scopes))

    def device_token(params: dict[str, str]) -> Response:
        client_id = params.get("client_id", "")
        try:
            store.check_client(client_id, params.get("client_secret"))
        except ClientRejected as exc:
            return _oauth_error(exc.status, exc.message)
        if not params.get("device_code"):
            return _oauth_error(400, "missing device_code")
        answer = devices.poll(params["device_code"], client_id)
        if not isinstance(answer, DeviceGrant):
            return _oauth_error(400, answer)
        assert answer.user_id is not None and answer.login is not None
        return grant(store.issue_user(client_id, answer.user_id, answer.login, answer.scopes))

    @router.post("/token")
    async def token(request: Request) -> Response:
        params = await request_params(request)
        grant_type = params.get("grant_type", "")
        client_id = params.get("client_id", "")
        if grant_type == "client_credentials":
            try:
                store.check_client(client_id, params.get("client_secret", ""))
            except ClientRejected as exc:
                return _oauth_error(exc.status, exc.message)
            return grant(store.issue_app(client_id, _scopes(params.get("scope"))))
        if grant_type == "refresh_token":
            try:
                store.check_client(client_id, params.get("client_secret"))
            except ClientRejected as exc:
                return _oauth_error(exc.status, exc.message)
            refreshed = store.refresh(params.get("refresh_token", ""), client_id)
            if refreshed is None:
                return _oauth_error(400, "Invalid refresh token")
            return JSONResponse(
                {
                    "access_token": refreshed.access_token,
                    "refresh_token": refreshed.refresh_token,
                    "expires_in": refreshed.expires_in(store.clock.time()),
                    "scope": list(refreshed.scopes),
                    "token_type": "bearer",
                }
            )
        if grant_type == DEVICE_GRANT_TYPE:
            return device_token(params)
        if grant_type == "user_token":
            return user_token(params)
        if not grant_type:
            return _oauth_error(400, "missing grant_type")
        return _oauth_error(400, "unsupported grant type")

    @router.post("/device")
    async def device(request: Request) -> Response:
        params = await request_params(request)
        client_id = params.get("client_id", "")
        if not client_id:
            return _oauth_error(400, "missing client_id")
        try:
            store.check_client(client_id, None)
        except ClientRejected as exc:
            return _oauth_error(exc.status, exc.message)
        scopes = _scopes(params.get("scopes") or params.get("scope"))
        started = devices.start(client_id, scopes)
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "device_code": started.device_code,
                "expires_in": int(devices.ttl),
                "interval": started.interval,
                "user_code": started.user_code,
                "verification_uri": (
                    f"{base}/activate?public=true&device-code={started.user_code}"
                ),
            }
        )

    @router.post("/authorize")
    async def authorize(request: Request) -> Response:
        params = await request_params(request)
        if params.get("grant_type") != "user_token" or not params.get("user_id"):
            return _oauth_error(400, "missing required parameter")
        return user_token(params)

    @router.get("/validate")
    async def validate(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if not header:
            return _oauth_error(401, "missing authorization token")
        if scheme.lower() not in ("oauth", "bearer") or not value.strip():
            return _oauth_error(401, "invalid access token")
        found = store.lookup(value.strip())
        if found is None:
            return _oauth_error(401, "invalid access token")
        return JSONResponse(found.validate_json(store.clock.time()))

    @router.post("/revoke")
    async def revoke(request: Request) -> Response:
        params = await request_params(request)
        if not params.get("client_id"):
            return _oauth_error(400, "missing client id")
        if not store.revoke(params.get("token", ""), params["client_id"]):
            return _oauth_error(400, "Invalid token")
        return Response(status_code=200)

    return router


# --- control routes: the people on the other side of the device flow ---------------------------


CONTROL_FIELDS = ("user_code", "login", "user_id", "action", "client_id", "consents")


async def _control_body(request: Request) -> dict[str, str]:
    """A control route's JSON object (415 for anything else), its values as text."""
    body = await json_object(request, CONTROL_FIELDS)
    values: dict[str, str] = {}
    for name, value in body.items():
        if name == "consents":
            if not isinstance(value, bool):
                raise BadRequest("consents must be true or false")
            values[name] = "true" if value else "false"
        elif not isinstance(value, str):
            raise BadRequest(f"{name} must be a string")
        else:
            values[name] = value
    return values


def _find_account(world: World, params: dict[str, str]) -> UserRow | None:
    if params.get("user_id"):
        rows = world.users_by_id([params["user_id"]])
    elif params.get("login"):
        rows = world.users_by_login([params["login"]])
    else:
        return None
    return rows[0] if rows else None


def auth_control_router(
    store: TokenStore, devices: DeviceCodes, world: World, consent: ConsentBook
) -> APIRouter:
    """`/_sim/auth/...`, `/_sim/truth/permissions` and the `/activate` page."""
    router = APIRouter()

    def account(params: dict[str, str]) -> UserRow | Response:
        if not params.get("user_id") and not params.get("login"):
            return _oauth_error(400, "give login or user_id")
        found = _find_account(world, params)
        if found is None:
            return _oauth_error(404, "no such account")
        return found

    async def body_of(request: Request) -> dict[str, str] | Response:
        try:
            return await _control_body(request)
        except ControlError as exc:
            return control_error(exc)

    @router.post("/_sim/auth/device", include_in_schema=False)
    async def decide(request: Request) -> Response:
        params = await body_of(request)
        if isinstance(params, Response):
            return params
        action = params.get("action", "approve")
        if action not in ("approve", "deny"):
            return _oauth_error(400, "action must be approve or deny")
        if not params.get("user_code"):
            return _oauth_error(400, "missing user_code")
        user: UserRow | None = None
        if action == "approve":
            found = account(params)
            if isinstance(found, Response):
                return found
            user = found
            if consent.get(user.id, world.consents(user.id)) is False:
                return _oauth_error(
                    409,
                    f"{user.login} does not consent to chat-list reading "
                    "(simulated ground truth: /_sim/truth/permissions)",
                )
        error = devices.decide(
            params["user_code"],
            action == "approve",
            (user.id, user.login) if user is not None else None,
        )
        if error is not None:
            return _oauth_error(404 if error == "unknown user code" else 409, error)
        body: dict[str, Any] = {"user_code": params["user_code"].strip().upper(), "state": action}
        if user is not None:
            body.update(user_id=user.id, login=user.login)
        return JSONResponse(body)

    @router.get("/_sim/auth/device", include_in_schema=False)
    async def pending() -> Response:
        now = devices.clock.time()
        return JSONResponse(
            {
                "data": [
                    {
                        "user_code": g.user_code,
                        "client_id": g.client_id,
                        "scopes": list(g.scopes),
                        "expires_in": max(0, int(g.expires_at - now)),
                    }
                    for g in devices.pending()
                ]
            }
        )

    @router.post("/_sim/auth/disconnect", include_in_schema=False)
    async def disconnect(request: Request) -> Response:
        params = await body_of(request)
        if isinstance(params, Response):
            return params
        found = account(params)
        if isinstance(found, Response):
            return found
        revoked = store.disconnect(found.id, params.get("client_id") or None)
        if world.consents(found.id) is not None:
            consent.set(found.id, False)
        return JSONResponse({"user_id": found.id, "login": found.login, "revoked": revoked})

    @router.post("/_sim/auth/consent", include_in_schema=False)
    async def set_consent(request: Request) -> Response:
        params = await body_of(request)
        if isinstance(params, Response):
            return params
        found = account(params)
        if isinstance(found, Response):
            return found
        if params.get("consents") not in ("true", "false"):
            return _oauth_error(400, "consents must be true or false")
        if world.consents(found.id) is None:
            return _oauth_error(400, f"{found.login} is not a channel")
        consent.set(found.id, params["consents"] == "true")
        return JSONResponse({"user_id": found.id, "consents": params["consents"] == "true"})

    @router.get("/_sim/truth/permissions", include_in_schema=False)
    async def truth_permissions() -> Response:
        truth = world.permissions_truth()
        changed = consent.overrides()
        consenting = [c for c in truth["consenting"] if changed.get(c["id"], True)]
        listed = {c["id"] for c in consenting}
        added = [i for i, yes in changed.items() if yes and i not in listed]
        consenting += [{"id": r.id, "login": r.login} for r in world.users_by_id(added)]
        withdrawn = [i for i, yes in changed.items() if not yes]
        truth["consenting"] = sorted(consenting, key=lambda c: int(c["id"]))
        truth["withdrawn"] = [
            {"id": r.id, "login": r.login} for r in world.users_by_id(sorted(withdrawn, key=int))
        ]
        return JSONResponse(truth)

    @router.get("/activate", include_in_schema=False)
    async def activate(request: Request) -> Response:
        code = html.escape(request.query_params.get("device-code", "CODE"))
        base = html.escape(str(request.base_url).rstrip("/"))
        page = (
            "<!doctype html><meta charset=utf-8><title>Simulated Twitch: activate</title>"
            "<h1>Simulated Twitch: activate a device</h1>"
            f"<p>Code <b>{code}</b>. On the simulated Twitch, a person answers with the "
            "control route (JSON only, so no other site can answer for them):"
            "<pre>curl -s -X POST -H 'Content-Type: application/json' "
            f'-d \'{{"user_code": "{code}", "login": "LOGIN"}}\' '
            f"{base}/_sim/auth/device</pre>"
            '<p>Add <code>"action": "deny"</code> to decline.</p>'
        )
        return HTMLResponse(page)

    return router
