"""Set up a collector against any Helix-compatible server: client, clock and moderator identity.

The same code talks to real Twitch and to the simulator. When the server turns out to be
a streamcensus simulator (it answers `/_sim/info`), three conveniences apply: any
credentials are accepted, so placeholders stand in for missing ones; the collector's
clock mirrors the simulator's (so rate-limit waits are measured on the same time); and,
with no moderator token configured, one is obtained for the simulator's operator account
through its Twitch-CLI-mock route.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from streamcensus.clock import Clock, ClockState, SimClock, WallClock
from streamcensus.collect.snapshot import CollectOptions, Collector
from streamcensus.config import Settings
from streamcensus.errors import UserError
from streamcensus.keys import KeyStore
from streamcensus.lake.stores import open_lake
from streamcensus.lake.writer import LakeWriter
from streamcensus.twitch import (
    CHATTERS_SCOPE,
    HelixClient,
    HelixConfig,
    HelixError,
    mock_auth_base,
)
from streamcensus.urls import mask_credentials

log = logging.getLogger("streamcensus.collect")

PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class SimulatorInfo:
    """What a streamcensus simulator says about itself at `/_sim/info`."""

    base_url: str
    operator_id: str
    operator_login: str
    scale: str

    async def clock_state(self, http: httpx.AsyncClient) -> ClockState:
        response = await http.get(f"{self.base_url}/_sim/clock", timeout=PROBE_TIMEOUT)
        response.raise_for_status()
        body = response.json()
        return ClockState(epoch=float(body["epoch"]), speed=float(body["speed"]))


async def probe_simulator(http: httpx.AsyncClient, auth_url: str) -> SimulatorInfo | None:
    """The simulator behind `auth_url`, or None for any other server (e.g. real Twitch)."""
    base = mock_auth_base(auth_url)
    try:
        response = await http.get(f"{base}/_sim/info", timeout=PROBE_TIMEOUT)
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        operator = body["operator"]
        return SimulatorInfo(
            base_url=base,
            operator_id=str(operator["id"]),
            operator_login=str(operator["login"]),
            scale=str(body.get("scale", "")),
        )
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def _is_local(url: str) -> bool:
    host = httpx.URL(url).host
    return host in {"127.0.0.1", "localhost", "::1"} or host.startswith("127.")


async def _moderator_id(client: HelixClient, simulator: SimulatorInfo | None) -> str | None:
    """Whose token reads chatters; None (with a warning) when chatters cannot be read."""
    if client.has_user_token:
        try:
            info = await client.validate_token()
        except HelixError as exc:
            raise UserError(
                f"the moderator token was refused ({exc}): set a valid TWITCH_MODERATOR_TOKEN"
            ) from None
        if CHATTERS_SCOPE not in info.scopes:
            raise UserError(
                f"the moderator token lacks the {CHATTERS_SCOPE} scope: "
                "grant it and set TWITCH_MODERATOR_TOKEN again"
            )
        return info.user_id
    if simulator is not None:
        await client.obtain_mock_user_token(simulator.operator_id)
        return simulator.operator_id
    log.warning(
        "no moderator token: chatters are not collected "
        "(set TWITCH_MODERATOR_TOKEN to a token with %s)",
        CHATTERS_SCOPE,
    )
    return None


async def _resolve_optouts(client: HelixClient, options: CollectOptions) -> CollectOptions:
    """Add the user ids of opted-out viewer logins, so a renamed account stays out (P4)."""
    logins = [entry for entry in options.optout_viewers if not entry.isdigit()]
    if not logins:
        return options
    try:
        users = await client.get_users(logins=logins)
    except HelixError as exc:
        raise UserError(f"cannot resolve the opted-out viewers' ids: {exc}") from None
    ids = tuple(user.id for user in users)
    return dataclasses.replace(options, optout_viewers=(*options.optout_viewers, *ids))


@dataclass
class CollectSession:
    """A ready collector, and the simulator behind it when there is one."""

    collector: Collector
    http: httpx.AsyncClient
    simulator: SimulatorInfo | None
    mirror: SimClock | None  # the collector's copy of a remote simulator's clock

    async def sync_clock(self) -> None:
        """Re-read a remote simulator's clock (its speed may have changed)."""
        if self.simulator is not None and self.mirror is not None:
            self.mirror.sync(await self.simulator.clock_state(self.http))


@contextlib.asynccontextmanager
async def open_collector(
    settings: Settings,
    *,
    helix_url: str | None = None,
    auth_url: str | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[CollectSession]:
    """A ready collector for `settings` (URLs may be overridden); closes its client after.

    Pass `clock` when the caller drives a simulator in process and already shares its
    clock; otherwise the clock is the wall clock, or a mirror of a simulator's clock.
    `transport` replaces the network (tests).
    """
    helix = helix_url or settings.helix_url
    auth = auth_url or settings.auth_url
    pool = max(10, 2 * settings.concurrency)
    async with httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
    ) as http:
        simulator = await probe_simulator(http, auth) if _is_local(auth) else None
        mirror: SimClock | None = None
        if clock is None:
            if simulator is not None:
                mirror = SimClock()
                mirror.sync(await simulator.clock_state(http))
                clock = mirror
            else:
                clock = WallClock()
        config = HelixConfig.from_settings(
            settings,
            helix_url=helix,
            auth_url=auth,
            placeholder_credentials=simulator is not None,
        )
        client = HelixClient(config, clock=clock, http=http)
        try:
            await client.app_token()  # wrong credentials or no route: fail now, in one line
            moderator_id = await _moderator_id(client, simulator)
        except HelixError as exc:
            raise UserError(f"cannot reach Twitch at {mask_credentials(auth)}: {exc}") from None
        options = await _resolve_optouts(client, CollectOptions.from_settings(settings))
        collector = Collector(
            client=client,
            writer=LakeWriter(open_lake(settings, check=True), spool=settings.spool_dir),
            keys=KeyStore(settings.key_store_dir, settings.key_rotation_days, clock),
            options=options,
            clock=clock,
            moderator_id=moderator_id,
        )
        yield CollectSession(collector, http, simulator, mirror)
