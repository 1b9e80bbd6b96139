"""`streamcensus auth`: user tokens by the device code flow; status; logout; consent.

    streamcensus auth login                  the operator's token (moderated channels)
    streamcensus auth login --broadcaster    a broadcaster's consent for their own channel
    streamcensus auth status [--json]        each stored token: user, scopes, expiry, channels
    streamcensus auth logout                 revoke and delete the operator's token(s)
    streamcensus auth logout --channel LOGIN withdraw a broadcaster's consent

Token values are never printed. Every failure is one line naming the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import httpx

from streamcensus.clock import Clock, SimClock, WallClock
from streamcensus.config import Settings
from streamcensus.context import AppContext, pass_app
from streamcensus.errors import UserError
from streamcensus.logs import setup_logging
from streamcensus.tokens.live import LiveToken, foreign_client
from streamcensus.tokens.login import REQUIRED_SCOPES, check_clock_skew, device_login
from streamcensus.tokens.simulated import SimulatorInfo, probe_simulator
from streamcensus.tokens.store import Role, TokenRecord, TokenStore
from streamcensus.twitch import (
    MODERATED_CHANNELS_SCOPE,
    DeviceCode,
    HelixClient,
    HelixConfig,
    HelixError,
    MalformedResponse,
    RefreshTokenRejected,
    RetriesExhausted,
    ServerError,
    TokenUnusable,
    Unauthorized,
)

T = TypeVar("T")
AUTH_ATTEMPTS = 3  # sends per auth request before a one-line error (the CLI waits for it)


@dataclass
class AuthSession:
    """What an auth command works with."""

    settings: Settings
    client: HelixClient
    clock: Clock
    store: TokenStore
    simulator: SimulatorInfo | None

    @property
    def auth_url(self) -> str:
        return self.client.config.auth_url

    def check_skew(self) -> None:
        if self.simulator is None:
            check_clock_skew(self.client.oauth, self.clock)


def _one_line(exc: HelixError, auth_url: str) -> UserError:
    """A failure talking to the auth host, as one line naming the fix."""
    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, RefreshTokenRejected):
        return UserError(
            "the stored refresh token was refused (already used, or the authorization was "
            "revoked): run `streamcensus auth login` again"
        )
    if isinstance(exc, TokenUnusable):
        return UserError(exc.reason)
    if isinstance(exc, RetriesExhausted):
        reason = exc.reason
        if isinstance(reason, MalformedResponse):
            return UserError(
                f"the auth server at {auth_url} answers garbage ({reason}): "
                "check STREAMCENSUS_AUTH_URL"
            )
        if isinstance(reason, ServerError):
            return UserError(f"the auth server at {auth_url} is failing ({reason}): try later")
        return UserError(
            f"cannot reach the auth server at {auth_url} ({reason}): "
            "check the network and STREAMCENSUS_AUTH_URL"
        )
    return UserError(f"the auth server at {auth_url} refused: {exc}")


@contextlib.asynccontextmanager
async def auth_session(settings: Settings) -> AsyncIterator[AuthSession]:
    """A client for the configured auth server (a simulator's clock is mirrored)."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as http:
        simulator = await probe_simulator(http, settings.auth_url)
        clock: Clock = WallClock()
        if simulator is not None:
            mirror = SimClock()
            mirror.sync(await simulator.clock_state(http))
            clock = mirror
        config = HelixConfig.from_settings(settings, placeholder_credentials=simulator is not None)
        config = dataclasses.replace(config, max_attempts=AUTH_ATTEMPTS)
        client = HelixClient(config, clock=clock, http=http)
        yield AuthSession(settings, client, clock, TokenStore(settings.state_dir), simulator)


def _run(settings: Settings, work: Callable[[AuthSession], Awaitable[T]]) -> T:
    """Run `work` in a session; failures of the auth host become one line (details such as
    retries go to the log file, not the terminal)."""
    setup_logging(settings.log_dir, to_stderr=False)

    async def main() -> T:
        async with auth_session(settings) as session:
            try:
                return await work(session)
            except HelixError as exc:
                raise _one_line(exc, session.auth_url) from None

    return asyncio.run(main())


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds <= 0:
        return "expired"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min"


@click.group("auth")
def auth_group() -> None:
    """User tokens (device code flow): log in, give consent, show, log out."""


_URL_OPTIONS = (
    click.option("--auth-url", help="OAuth base URL (default: $STREAMCENSUS_AUTH_URL)."),
    click.option("--helix-url", help="Helix base URL (default: $STREAMCENSUS_HELIX_URL)."),
)


def _url_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_URL_OPTIONS):
        function = option(function)
    return function


@auth_group.command("login")
@click.option(
    "--broadcaster",
    is_flag=True,
    help="A broadcaster's consent: they approve with their own account, and their own "
    "channel's chat list is then read with their token.",
)
@_url_options
@pass_app
def login_command(
    app: AppContext, broadcaster: bool, auth_url: str | None, helix_url: str | None
) -> None:
    """Obtain a user token with the device code flow and store it (state/tokens, 0600)."""
    settings = app.settings(auth_url=auth_url, helix_url=helix_url)
    role: Role = "broadcaster" if broadcaster else "operator"

    def show(device: DeviceCode) -> None:
        if broadcaster:
            click.echo("Send this to the broadcaster. Open this page, logged in to Twitch")
            click.echo("with your own account (the broadcaster's):")
        else:
            click.echo("Open this page, logged in to Twitch as the operator (the account")
            click.echo("that moderates the channels to read):")
        click.echo(f"    {device.verification_uri}")
        click.echo(f"and enter the code  {device.user_code}")
        click.echo(
            f"(valid {device.expires_in // 60} min; asking Twitch every {device.interval} s)"
        )

    def polled(answer: str, interval: int) -> None:
        if answer == "slow_down":
            click.echo(f"(Twitch asks to poll more slowly: every {interval} s)")

    async def work(session: AuthSession) -> TokenRecord:
        await session.client.app_token()  # a wrong client id or secret: one line, now
        record = await device_login(
            session.client, role, session.clock, on_code=show, on_poll=polled
        )
        session.check_skew()
        session.store.put(record)
        return record

    record = _run(settings, work)
    expires = record.expires_in(record.obtained_at)
    ground = (
        f"consent: the chat list of {record.login}'s own channel will be read with their token"
        if broadcaster
        else "moderation: the chat lists of the channels this account moderates will be read"
    )
    click.echo(
        f"stored the token of {record.login} (user {record.user_id}), scopes "
        f"{' '.join(record.scopes)}, expires in {_duration(expires)} (refreshed automatically)"
    )
    click.echo(ground)


async def _status(session: AuthSession) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for record in session.store.records():
        row = record.public()
        if record.auth_url != session.auth_url:
            row.update(state="for another auth server: not checked", channels=[], expires_in=None)
            rows.append(row)
            continue
        token = LiveToken(
            record,
            session.client.oauth,
            session.clock,
            store=session.store,
            client_id=session.client.config.client_id,
            required_scopes=REQUIRED_SCOPES[record.role],
        )
        if record.client_id != session.client.config.client_id:
            token.trip(foreign_client(record.client_id, session.client.config.client_id))
        else:
            await _probe(session, token)
            await token.validate(force=True)
        row.update(token.record.public())
        row["expires_in"] = token.record.expires_in(session.clock.now())
        row["state"] = "ok" if token.broken is None else f"unusable: {token.broken}"
        row["channels"] = await _channels(session, token)
        rows.append(row)
    session.check_skew()
    return rows


async def _probe(session: AuthSession, token: LiveToken) -> None:
    """One validation first, so that an unreachable auth server is an error, not a state."""
    with contextlib.suppress(Unauthorized):
        await session.client.oauth.validate(token.record.access_token.get_secret_value())


async def _channels(session: AuthSession, token: LiveToken) -> list[str]:
    """The channels whose chat lists this token reads (its own for a broadcaster)."""
    if token.broken is not None:
        return []
    if token.role == "broadcaster":
        return [token.login]
    if MODERATED_CHANNELS_SCOPE not in token.scopes:
        return ["(unknown: the token lacks user:read:moderated_channels)"]
    lane = session.client.lane(token)
    return [c.broadcaster_login for c in await session.client.get_moderated_channels(lane)]


@auth_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_url_options
@pass_app
def status_command(
    app: AppContext, as_json: bool, auth_url: str | None, helix_url: str | None
) -> None:
    """Each stored token: user, role, scopes, expiry, validity, channels it serves."""
    settings = app.settings(auth_url=auth_url, helix_url=helix_url)
    rows = _run(settings, _status)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no stored token: run `streamcensus auth login`")
        return
    for row in rows:
        channels = row["channels"]
        shown = ", ".join(channels[:8])
        if len(channels) > 8:
            shown += f" and {len(channels) - 8} more"
        click.echo(
            f"{row['login']} (user {row['user_id']}): {row['role']}, {row['state']}; "
            f"scopes {' '.join(row['scopes'])}; expires in {_duration(row['expires_in'])}; "
            f"reads {len(channels)} chat list(s){': ' + shown if channels else ''}"
        )


@auth_group.command("logout")
@click.option(
    "--channel", metavar="LOGIN", help="Withdraw this broadcaster's consent (their token)."
)
@click.option("--all", "everything", is_flag=True, help="Every stored token of this server.")
@_url_options
@pass_app
def logout_command(
    app: AppContext,
    channel: str | None,
    everything: bool,
    auth_url: str | None,
    helix_url: str | None,
) -> None:
    """Revoke tokens on Twitch and delete them (default: the operator's)."""
    if channel and everything:
        raise click.UsageError("give --channel or --all, not both")
    settings = app.settings(auth_url=auth_url, helix_url=helix_url)

    async def work(session: AuthSession) -> list[str]:
        here = [r for r in session.store.records() if r.auth_url == session.auth_url]
        if channel:
            chosen = [r for r in here if r.login.lower() == channel.lower()]
            if not chosen:
                raise UserError(
                    f"no stored token for channel {channel} (see `streamcensus auth status`)"
                )
        elif everything:
            chosen = here
        else:
            chosen = [r for r in here if r.role == "operator"]
            if not chosen:
                raise UserError("no stored operator token (see `streamcensus auth status`)")
        lines = []
        for record in chosen:
            revoked = await session.client.oauth.revoke(record.access_token.get_secret_value())
            session.store.delete(record.user_id)
            what = "consent withdrawn" if record.role == "broadcaster" else "logged out"
            how = "revoked on Twitch" if revoked else "it was no longer valid on Twitch"
            lines.append(f"{record.login}: {what} ({how}; token file deleted)")
        return lines

    for line in _run(settings, work):
        click.echo(line)
