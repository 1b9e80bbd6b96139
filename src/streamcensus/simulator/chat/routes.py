"""The chat's routes under `/_sim`: its counters, a RECONNECT for every client, the truth.

`GET /_sim/truth/chat_activity?channel=a,b&start=..&end=..` answers, per channel, how many
distinct accounts posted (PRIVMSG) with tmi-sent-ts in [start, end) and how many messages
they posted, humans and bots apart: what a collector that was joined the whole window
should have seen. Like every `/_sim` route it is for tests and benchmarks on this machine.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from streamcensus.simulator.chat.model import ActivityTruth
from streamcensus.simulator.chat.server import ChatServer
from streamcensus.simulator.control import BadRequest, error_response, parse_moment
from streamcensus.timeutil import from_epoch, isoformat_z

MAX_TRUTH_SECONDS = 86_400.0
MAX_TRUTH_CHANNELS = 5_000


def _channels(chat: ChatServer, raw: list[str]) -> dict[int, str] | None:
    """Channel id -> login of the `channel` parameters (logins or ids); None: every room."""
    names = [n.strip().lower().lstrip("#") for part in raw for n in part.split(",") if n.strip()]
    if not names:
        return None
    if len(names) > MAX_TRUTH_CHANNELS:
        raise BadRequest(f"channel: at most {MAX_TRUTH_CHANNELS} channels, got {len(names)}")
    found: dict[int, str] = {}
    for name in names:
        if name.isdigit():
            users = chat.world.users_by_id([name])
            room = (users[0].login, int(users[0].id)) if users else None
        else:
            room = chat.room_for(name)
        if room is None:
            raise BadRequest(f"channel: no such channel {name!r}")
        found[room[1]] = room[0]
    return found


def _rows(truth: ActivityTruth, wanted: dict[int, str] | None, chat: ChatServer) -> list[Any]:
    ids = (
        set(wanted)
        if wanted is not None
        else set(truth.human_messages)
        | set(truth.bot_messages)
        | set(truth.usernotices)
        | set(truth.clearchats)
    )
    ordered = sorted(ids)
    if wanted is not None:
        logins = wanted
    else:
        found = chat.world.logins(np.asarray(ordered, dtype=np.int64))
        logins = dict(zip(ordered, found, strict=True))
    rows = []
    for c in ordered:
        humans = truth.human_posters.get(c, set())
        bots = truth.bot_posters.get(c, set())
        rows.append(
            {
                "channel_id": str(c),
                "channel_login": logins.get(c, ""),
                "posters": len(humans) + len(bots),
                "messages": truth.human_messages.get(c, 0) + truth.bot_messages.get(c, 0),
                "human_posters": len(humans),
                "human_messages": truth.human_messages.get(c, 0),
                "bot_posters": len(bots),
                "bot_messages": truth.bot_messages.get(c, 0),
                "usernotices": truth.usernotices.get(c, 0),
                "clearchats": truth.clearchats.get(c, 0),
            }
        )
    return rows


def add_chat_routes(app: FastAPI, chat: ChatServer) -> None:
    """`/_sim/chat`, `/_sim/chat/reconnect` and `/_sim/truth/chat_activity` on `app`."""

    @app.get("/_sim/chat", include_in_schema=False)
    async def chat_state() -> Response:
        return JSONResponse(chat.snapshot())

    @app.post("/_sim/chat/reconnect", include_in_schema=False)
    async def chat_reconnect() -> Response:
        """Every connection gets RECONNECT and is then closed, as before a Twitch restart."""
        return JSONResponse({"sent": chat.reconnect_all()})

    @app.get("/_sim/truth/chat_activity", include_in_schema=False)
    async def chat_activity(request: Request) -> Response:
        query = request.query_params
        try:
            if "start" not in query or "end" not in query:
                raise BadRequest("start and end are required (ISO-8601 or epoch seconds)")
            start = parse_moment(query["start"], "start")
            end = parse_moment(query["end"], "end")
            if not end > start:
                raise BadRequest("end must be after start")
            if end - start > MAX_TRUTH_SECONDS:
                raise BadRequest(f"the window may span at most {MAX_TRUTH_SECONDS:g} seconds")
            wanted = _channels(chat, query.getlist("channel"))
        except BadRequest as exc:
            return error_response(exc)
        ids = set(wanted) if wanted is not None else None
        truth = await asyncio.to_thread(chat.model.activity, start, end, ids)
        return JSONResponse(
            {
                "start": isoformat_z(from_epoch(start)),
                "end": isoformat_z(from_epoch(end)),
                "signal": "chat_activity",
                "channels": _rows(truth, wanted, chat),
            }
        )
