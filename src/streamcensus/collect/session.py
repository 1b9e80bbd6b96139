"""Set up a collector against any Helix-compatible server: client, clock and user tokens.

The same code talks to real Twitch and to the simulator. User tokens come from the token
store (`streamcensus auth login`, for the operator and for each consenting broadcaster)
and from `TWITCH_MODERATOR_TOKEN` for people who manage a token themselves; each is
validated at start (client id, user, scopes) and then hourly. When the server turns out
to be a streamcensus simulator (it answers `/_sim/info`), any credentials are accepted
(placeholders stand in for missing ones), the collector's clock mirrors the simulator's
(so rate-limit waits and token lifetimes are measured on the same time), and, when the
store holds no token for it yet, tokens are obtained the honest way: the device code
flow, approved by the simulated operator and consenting broadcasters.

With `chat_enabled`, the session also runs a chat listener (`collect/chat`) for the whole
time it is open: `chat_url` (Twitch's chat), or the chat a simulator announces in
`/_sim/info`, whose PING barrier then closes each window exactly. The listener's clock is
the collector's, with one rule: it is never a stopped copy of another process's clock (its
pacing waits would move the copy only, and the server's join limit would be broken). In
process (the demo, tests) the simulator's own clock is shared; against a simulator in
another process, the mirror is used only while that clock runs, else chat activity is
recorded as not collected, with the reason. On a `VirtualClock` the listener's join
scheduler counts itself as one more actor.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from streamcensus.clock import Clock, SimClock, WallClock
from streamcensus.collect.chat import ChatLimits, ChatListener
from streamcensus.collect.privacy import resolve_known_bots, resolve_optout_channels
from streamcensus.collect.readers import ChatListReaders
from streamcensus.collect.snapshot import CollectOptions, Collector
from streamcensus.config import Settings
from streamcensus.errors import UserError
from streamcensus.keys import KeyStore
from streamcensus.lake.stores import open_lake
from streamcensus.lake.writer import LakeWriter
from streamcensus.tokens.live import LiveToken, foreign_client
from streamcensus.tokens.login import REQUIRED_SCOPES, check_clock_skew
from streamcensus.tokens.simulated import (
    SimulatorInfo,
    forget_other_simulators,
    probe_simulator,
    provision,
)
from streamcensus.tokens.store import TokenRecord, TokenStore
from streamcensus.twitch import HelixClient, HelixConfig, HelixError
from streamcensus.twitch.http import http_client
from streamcensus.urls import mask_credentials

log = logging.getLogger("streamcensus.collect")

ENV_TOKEN = "TWITCH_MODERATOR_TOKEN"


async def _env_token(client: HelixClient, clock: Clock, value: str) -> LiveToken:
    """`TWITCH_MODERATOR_TOKEN`: validated now; refused or unfit, it stops the start."""
    try:
        info = await client.oauth.validate(value)
    except HelixError as exc:
        raise UserError(
            f"the moderator token was refused ({exc}): set a valid {ENV_TOKEN}"
        ) from None
    if info.user_id is None or info.login is None:
        raise UserError(f"{ENV_TOKEN} is an app token: set a user token")
    if info.client_id != client.config.client_id:
        raise UserError(
            f"{ENV_TOKEN} was issued to client id {info.client_id}, not TWITCH_CLIENT_ID "
            f"{client.config.client_id}: set a token of this application"
        )
    missing = [s for s in REQUIRED_SCOPES["operator"] if s not in info.scopes]
    if missing:
        raise UserError(
            f"the moderator token lacks the {', '.join(missing)} scope: "
            f"grant it and set {ENV_TOKEN} again"
        )
    now = clock.now()
    record = TokenRecord(
        user_id=info.user_id,
        login=info.login,
        role="operator",
        client_id=info.client_id,
        auth_url=client.config.auth_url,
        scopes=tuple(info.scopes),
        access_token=SecretStr(value),
        expires_at=now + dt.timedelta(seconds=info.expires_in) if info.expires_in else None,
        obtained_at=now,
    )
    return LiveToken(
        record,
        client.oauth,
        clock,
        store=None,
        client_id=client.config.client_id,
        required_scopes=REQUIRED_SCOPES["operator"],
        label=f"{ENV_TOKEN} ({info.login})",
    )


async def user_tokens(
    client: HelixClient,
    http: httpx.AsyncClient,
    clock: Clock,
    store: TokenStore,
    simulator: SimulatorInfo | None,
    env_token: str = "",
) -> list[LiveToken]:
    """Every user token the collector may use, validated: the stored tokens of this auth
    server (obtained first from a simulator when there are none), then `env_token`."""
    # with a token of one's own, a simulator is not logged into on one's behalf
    provider = None if env_token else simulator
    tokens = await _stored_tokens(client, http, clock, store, provider)
    for token in tokens:
        await token.validate(force=True)
    if provider is not None and tokens and all(t.broken is not None for t in tokens):
        # a simulator that restarted knows none of its former tokens: log in again
        log.info("the simulator refuses every stored token: obtaining new ones")
        for token in tokens:
            store.delete(token.user_id)
        tokens = await _stored_tokens(client, http, clock, store, provider)
        for token in tokens:
            await token.validate(force=True)
    if env_token:
        env = await _env_token(client, clock, env_token)
        await env.validate(force=True)
        tokens.append(env)
    return tokens


async def _stored_tokens(
    client: HelixClient,
    http: httpx.AsyncClient,
    clock: Clock,
    store: TokenStore,
    simulator: SimulatorInfo | None,
) -> list[LiveToken]:
    """The stored tokens of this auth server (obtained first from a simulator if none)."""
    auth_url = client.config.auth_url
    if simulator is not None:
        forget_other_simulators(store, auth_url)
        if not any(r.auth_url == auth_url for r in store.records()):
            await provision(client, http, simulator, store, clock)
    tokens = []
    for record in store.records():
        if record.auth_url != auth_url:
            log.info("token of %s is for %s: not used here", record.login, record.auth_url)
            continue
        token = LiveToken(
            record,
            client.oauth,
            clock,
            store=store,
            client_id=client.config.client_id,
            required_scopes=REQUIRED_SCOPES[record.role],
        )
        if record.client_id != client.config.client_id:
            token.trip(foreign_client(record.client_id, client.config.client_id))
        tokens.append(token)
    return tokens


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


async def _simulator_chat(http: httpx.AsyncClient, simulator: SimulatorInfo) -> str:
    """The IRC address (`host:port`) a simulator announces in `/_sim/info`, or ""."""
    try:
        response = await http.get(f"{simulator.base_url}/_sim/info", timeout=10.0)
        response.raise_for_status()
        return str(response.json().get("chat", {}).get("irc", ""))
    except (httpx.HTTPError, ValueError, AttributeError):
        return ""


async def chat_listener(
    settings: Settings,
    options: CollectOptions,
    http: httpx.AsyncClient,
    simulator: SimulatorInfo | None,
    clock: Clock,
    mirror: SimClock | None,
    keys: KeyStore,
    chat_url: str | None = None,
    limits: ChatLimits | None = None,
) -> tuple[ChatListener | None, str]:
    """The chat listener of a session (not started), or None and why it cannot run ("" when
    chat activity is off)."""
    if not settings.chat_enabled:
        return None, ""
    url = chat_url or settings.chat_url
    if simulator is not None:
        url = chat_url or await _simulator_chat(http, simulator)
        if not url:
            return None, "the simulator serves no chat"
        if clock is mirror and mirror is not None and mirror.speed == 0:
            # a stopped copy: pacing waits would advance it alone (see the module docstring)
            return None, (
                "the simulator's clock stands still: chat is read only with a clock that "
                "runs (start the simulator with --speed > 0)"
            )
    listener = ChatListener(
        url,
        clock=clock,
        keys=keys,
        optout_viewers=options.optout_viewers,
        known_bots=options.known_bots,
        optout_channels=options.optout_channels,
        known_bot_ids=options.known_bot_ids,
        limits=limits,
        barrier=simulator is not None,  # the simulator's PING barrier makes windows exact
    )
    return listener, ""


@dataclass
class CollectSession:
    """A ready collector, and the simulator behind it when there is one."""

    collector: Collector
    http: httpx.AsyncClient
    simulator: SimulatorInfo | None
    mirror: SimClock | None  # the collector's copy of a remote simulator's clock
    tokens: list[LiveToken] = field(default_factory=list)
    chat: ChatListener | None = None  # the running chat listener (None: off or cannot run)

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
    chat_url: str | None = None,
    chat_limits: ChatLimits | None = None,
) -> AsyncIterator[CollectSession]:
    """A ready collector for `settings` (URLs may be overridden); closes its client after.

    Pass `clock` when the caller drives a simulator in process and already shares its
    clock; otherwise the clock is the wall clock, or a mirror of a simulator's clock.
    `transport` replaces the network (tests). `chat_url` replaces the chat (`chat_url`
    setting, or the simulator's own) and `chat_limits` the listener's limits.
    """
    helix = helix_url or settings.helix_url
    auth = auth_url or settings.auth_url
    async with http_client(settings.concurrency, 10.0, transport) as http:
        simulator = await probe_simulator(http, auth)
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
        store = TokenStore(settings.state_dir)
        try:
            await client.app_token()  # wrong credentials or no route: fail now, in one line
            env_value = settings.moderator_token.get_secret_value()
            tokens = await user_tokens(client, http, clock, store, simulator, env_value)
        except HelixError as exc:
            raise UserError(f"cannot reach Twitch at {mask_credentials(auth)}: {exc}") from None
        if simulator is None:
            check_clock_skew(client.oauth, clock)
        if not tokens:
            log.warning(
                "no user token: chat lists and follower totals are not collected "
                "(run `streamcensus auth login`, or set %s)",
                ENV_TOKEN,
            )
        options = await _resolve_optouts(client, CollectOptions.from_settings(settings))
        options = dataclasses.replace(
            options,
            optout_channels=await resolve_optout_channels(
                client, settings.optout_channels, settings.state_dir
            ),
            known_bot_ids=await resolve_known_bots(client, options.known_bots),
        )
        keys = KeyStore(settings.key_store_dir, settings.key_rotation_days, clock)
        chat, unavailable = await chat_listener(
            settings, options, http, simulator, clock, mirror, keys, chat_url, chat_limits
        )
        if unavailable:
            log.warning("chat activity is not collected: %s", unavailable)
        collector = Collector(
            client=client,
            writer=LakeWriter(open_lake(settings, check=True), spool=settings.spool_dir),
            keys=keys,
            options=options,
            clock=clock,
            readers=ChatListReaders(client, tokens, clock),
            chat=chat,
            chat_unavailable=unavailable,
        )
        if chat is None:
            yield CollectSession(collector, http, simulator, mirror, tokens)
            return
        async with chat:
            yield CollectSession(collector, http, simulator, mirror, tokens, chat)
