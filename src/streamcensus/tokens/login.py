"""Obtaining a user token with the device code flow, and the scopes each role asks for.

The operator's token (`auth login`) asks for `moderator:read:chatters` (read the chat
lists of channels its user moderates) and `user:read:moderated_channels` (learn which
ones). A broadcaster's consent (`auth login --broadcaster`) asks for
`moderator:read:chatters` only: their own channel's chat list, read with their own token.
Follower totals need no scope. Nothing else is asked for: in particular not
`moderator:read:followers`, which would list who follows a channel.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from streamcensus.clock import Clock
from streamcensus.errors import UserError
from streamcensus.tokens.live import record_from_grant
from streamcensus.tokens.store import Role, TokenRecord
from streamcensus.twitch import (
    CHATTERS_SCOPE,
    MODERATED_CHANNELS_SCOPE,
    DeviceCode,
    HelixClient,
    OAuthClient,
    TokenUnusable,
)
from streamcensus.twitch.oauth import PollHook

SCOPES: dict[Role, tuple[str, ...]] = {
    "operator": (CHATTERS_SCOPE, MODERATED_CHANNELS_SCOPE),
    "broadcaster": (CHATTERS_SCOPE,),
}
# Without these a token is of no use for chat lists: its breaker trips at validation.
REQUIRED_SCOPES: dict[Role, tuple[str, ...]] = {
    "operator": (CHATTERS_SCOPE,),
    "broadcaster": (CHATTERS_SCOPE,),
}
MAX_CLOCK_SKEW = 300.0  # seconds between this machine's clock and the auth host's

CodeHook = Callable[[DeviceCode], Awaitable[None] | None]


class ClockSkew(UserError):
    """This machine's clock is far from the auth host's: expiry times would be wrong."""


def check_clock_skew(oauth: OAuthClient, clock: Clock, limit: float = MAX_CLOCK_SKEW) -> None:
    """Compare the auth host's last `Date` header with the clock; `ClockSkew` when far off."""
    if oauth.server_date is None:
        return
    skew = clock.time() - oauth.server_date
    if abs(skew) > limit:
        where = "ahead of" if skew > 0 else "behind"
        minutes = math.floor(abs(skew) / 60)
        raise ClockSkew(
            f"this machine's clock is {minutes} min {where} the auth server's: "
            "set it right (e.g. enable NTP), token expiry times depend on it"
        )


async def device_login(
    client: HelixClient,
    role: Role,
    clock: Clock,
    *,
    on_code: CodeHook,
    on_poll: PollHook | None = None,
) -> TokenRecord:
    """Run the device code flow for `role` and return the record to store.

    `on_code` shows the verification URI and user code (or, against the simulator, has
    the simulated person answer); polling then follows the server's interval.
    """
    scopes = SCOPES[role]
    device = await client.oauth.start_device_flow(scopes)
    shown = on_code(device)
    if shown is not None:
        await shown
    grant = await client.oauth.wait_for_device_grant(device, scopes, on_poll=on_poll)
    info = await client.oauth.validate(grant.access_token)
    if info.client_id != client.config.client_id:
        raise TokenUnusable(
            f"the auth server issued the token to client id {info.client_id}, "
            f"not {client.config.client_id}"
        )
    return record_from_grant(
        grant, info, role=role, auth_url=client.config.auth_url, now=clock.now()
    )
