"""`streamcensus simulator`: serve the simulated Twitch on a port until interrupted."""

from __future__ import annotations

import datetime as dt
import math

import click

from streamcensus.clock import SimClock
from streamcensus.simulator.permissions import (
    DEFAULT_CONSENT_SHARE,
    Permissions,
    PermissionsMode,
)
from streamcensus.timeutil import isoformat_z, parse_utc, utcnow


class _Moment(click.ParamType):
    """An ISO-8601 time (`2026-03-02T18:00:00Z`), or `now`."""

    name = "ISO-TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        if text.lower() == "now":
            return utcnow()
        try:
            return parse_utc(text)
        except ValueError:
            self.fail(f"{text!r} is not an ISO-8601 time such as 2026-03-02T18:00:00Z", param, ctx)


def _non_negative_finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise click.BadParameter("must be a finite number >= 0")
    return value


def usage_text(base_url: str, client_id: str, operator_id: str, irc: str, ws_url: str) -> str:
    """How to query a running simulator with curl (shown on start; never shows a secret)."""
    auth = f"{base_url}/oauth2"
    secret = "$TWITCH_CLIENT_SECRET"
    return "\n".join(
        [
            f"Helix:  {base_url}/helix   OAuth: {auth}   clock & truth: {base_url}/_sim",
            f"Chat:   irc://{irc} (IRC over TCP)   {ws_url} (WebSocket), "
            "anonymous login NICK justinfan<digits>",
            "",
            "  # an app token (client credentials)",
            f'  curl -s -X POST "{auth}/token?client_id={client_id}'
            f'&client_secret={secret}&grant_type=client_credentials"',
            "  # live streams in French, 100 per page",
            f"  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Client-Id: {client_id}' \\",
            f"       '{base_url}/helix/streams?language=fr&first=100'",
            "  # a user token: the device code flow, then approve the user code as someone",
            f"  curl -s -X POST '{auth}/device?client_id={client_id}"
            "&scopes=moderator:read:chatters'",
            f"  curl -s -X POST -H 'Content-Type: application/json' "
            f'-d \'{{"user_code": "CODE", "login": "LOGIN"}}\' {base_url}/_sim/auth/device',
            f"  curl -s -X POST '{auth}/token?client_id={client_id}&device_code=DEVICE_CODE"
            "&grant_type=urn:ietf:params:oauth:grant-type:device_code'",
            "  # who may read which chat list (operator moderation, consenting broadcasters)",
            f"  curl -s {base_url}/_sim/truth/permissions",
            "  # chatters of a channel the token's user moderates (or owns)",
            f"  curl -s -H \"Authorization: Bearer $USER_TOKEN\" -H 'Client-Id: {client_id}' \\",
            f"       '{base_url}/helix/chat/chatters?broadcaster_id=ID"
            f"&moderator_id={operator_id}&first=1000'",
            "  # the simulated clock: read it, or move it",
            f"  curl -s {base_url}/_sim/clock",
            f"  curl -s -X POST -H 'Content-Type: application/json' -d '{{\"advance\": 3600}}' "
            f"{base_url}/_sim/clock",
            "  # who posted in a chat, and how much (ground truth of the chat)",
            f"  curl -s '{base_url}/_sim/truth/chat_activity?channel=LOGIN"
            "&start=2026-03-02T18:00:00Z&end=2026-03-02T18:05:00Z'",
        ]
    )


@click.command("simulator")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--scale",
    type=click.Choice(["small", "fr"]),
    default="small",
    show_default=True,
    help="Population: a few hundred channels (small) or the French community (fr).",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Population seed.")
@click.option(
    "--start",
    type=_Moment(),
    default="now",
    show_default=True,
    help="Simulated time at start-up (ISO-8601, UTC unless an offset is given).",
)
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    callback=_non_negative_finite,
    help="Simulated seconds per real second (0 stands still).",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    default=800,
    show_default=True,
    help="Helix points per minute in each token bucket.",
)
@click.option(
    "--permissions",
    type=click.Choice(["realistic", "all-moderated"]),
    default="realistic",
    show_default=True,
    help="Who may read chat lists. all-moderated is a LOAD-TEST mode Twitch never grants: "
    "the operator moderates every channel.",
)
@click.option(
    "--operator-moderates",
    metavar="LOGIN,...",
    default="",
    help="Channels the operator moderates (realistic mode; default: none).",
)
@click.option(
    "--consent-share",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_CONSENT_SHARE,
    show_default=True,
    help="Share of broadcasters who consent to chat-list reading (with their own token).",
)
@click.option(
    "--operator-login",
    default="streamcensus_operator",
    show_default=True,
    help="Login of the operator (the collector's moderator identity).",
)
@click.option(
    "--irc-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the chat over IRC/TCP (0: a free one, shown at start and in /_sim/info).",
)
@click.option(
    "--ws-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the chat over WebSocket (0: a free one, shown at start and in /_sim/info).",
)
@click.option("--client-id", default=None, help="Accept only this client id (default: any).")
@click.option(
    "--client-secret",
    default=None,
    envvar="TWITCH_CLIENT_SECRET",
    show_envvar=True,
    help="Accept only this client secret (default: any). Never printed.",
)
def simulator_command(
    port: int,
    host: str,
    scale: str,
    seed: int,
    start: dt.datetime,
    speed: float,
    rate_limit: int,
    permissions: PermissionsMode,
    operator_moderates: str,
    consent_share: float,
    operator_login: str,
    irc_port: int,
    ws_port: int,
    client_id: str | None,
    client_secret: str | None,
) -> None:
    """Serve the simulated Twitch (Helix, OAuth, chat over IRC and WebSocket) until interrupted."""
    from streamcensus.simulator.server import bind_socket, serve_forever
    from streamcensus.simulator.world import PopulationWorld

    sock = bind_socket(host, port)  # fail fast, before building the population
    port = int(sock.getsockname()[1])
    irc_sock = bind_socket(host, irc_port)
    ws_sock = bind_socket(host, ws_port)
    click.echo(f"building the {scale} population (seed {seed})...", err=True)
    moderated = tuple(x.strip().lower() for x in operator_moderates.split(",") if x.strip())
    try:
        world = PopulationWorld(
            scale=scale,
            seed=seed,
            operator_login=operator_login,
            permissions=Permissions(permissions, moderated, consent_share),
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--operator-moderates") from None
    clock = SimClock(start, speed=speed)
    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{port}"
    operator = world.operator()
    click.echo(
        f"simulated Twitch on {base_url}: scale {scale}, seed {seed}, "
        f"clock {isoformat_z(clock.now())} x{speed:g}, rate limit {rate_limit}/min, "
        f"operator {operator.login} (id {operator.id}), permissions {permissions}"
        + (" (LOAD TEST: not what Twitch grants)" if permissions == "all-moderated" else "")
    )
    irc = f"{shown_host}:{irc_sock.getsockname()[1]}"
    ws_url = f"ws://{shown_host}:{ws_sock.getsockname()[1]}/"
    click.echo(usage_text(base_url, client_id or "any", operator.id, irc, ws_url))
    click.echo("Ctrl-C stops it.")
    serve_forever(
        world,
        clock,
        host,
        port,
        sock=sock,
        irc_sock=irc_sock,
        ws_sock=ws_sock,
        rate_limit_points=rate_limit,
        require_client_id=client_id,
        require_client_secret=client_secret,
    )
