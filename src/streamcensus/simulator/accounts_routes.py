"""Simulator-only routes about accounts: which are bots (ground truth), and name changes.

- `GET /_sim/truth/bots`: every bot account of the population, `lurker_bots` (accounts
  that sit in many chats and never post) and `service_bots` (Nightbot & co), each as
  `{"user_id", "user_login"}` sorted by id. Real Twitch has no such route: it is the truth
  that bot detection is measured against (`streamcensus bench --suite bots`).
- `POST /_sim/accounts/rename` with the JSON body `{"user_id": "...", "login": "..."}`:
  the account keeps its id and answers to the new login from the next tick not yet
  served, as a Twitch name change does; its old login is free again.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from streamcensus.simulator.control import BadRequest, ControlError, error_response, json_object

RENAME_FIELDS = ("user_id", "login")


@runtime_checkable
class AccountsTruth(Protocol):
    """A world that knows its bots and can rename an account."""

    def bot_truth(self) -> dict[str, list[dict[str, str]]]: ...

    def rename(self, user_id: str, login: str) -> None: ...


def add_accounts_routes(app: FastAPI, world: AccountsTruth) -> None:
    """`/_sim/truth/bots` and `/_sim/accounts/rename` on `app`."""

    @app.get("/_sim/truth/bots", include_in_schema=False)
    async def truth_bots() -> Response:
        return JSONResponse(world.bot_truth())

    @app.post("/_sim/accounts/rename", include_in_schema=False)
    async def rename(request: Request) -> Response:
        try:
            body = await json_object(request, RENAME_FIELDS)
            user_id, login = body.get("user_id"), body.get("login")
            if not isinstance(user_id, str) or not isinstance(login, str):
                raise BadRequest("user_id and login: expected two strings")
            try:
                world.rename(user_id[:40], login[:40])
            except ValueError as exc:
                raise BadRequest(str(exc)[:300]) from None
        except ControlError as exc:
            return error_response(exc)
        return JSONResponse({"user_id": user_id, "login": login.lower()})
