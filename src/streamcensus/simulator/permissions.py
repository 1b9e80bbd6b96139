"""Who may read which chat list in the simulator: the permission modes and their defaults.

Twitch answers a channel's chat list (Get Chatters) only to its broadcaster or one of its
moderators. The simulator plays that rule; these settings say who the operator moderates
and how many broadcasters consent (authorise streamcensus with their own token). Kept
free of the population model so settings can name them without building anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PermissionsMode = Literal["realistic", "all-moderated"]
PERMISSION_MODES: tuple[PermissionsMode, ...] = ("realistic", "all-moderated")
# Share of broadcasters who authorise streamcensus with their own token (consent to their
# chat list being read). A census asks for an authorisation and gives the broadcaster
# nothing they do not already have, so we assume few say yes: third-party chat tools that
# need a broadcaster's own authorisation are used by a minority of channels, and a
# research tool with no feature in return will do worse. 2 % is a working assumption, not
# a measured figure; `consent_share` changes it. Anything much higher flatters the project.
DEFAULT_CONSENT_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class Permissions:
    """Who may read which chat list, besides each broadcaster and its moderators.

    `realistic` (the default): the operator moderates only the channels listed in
    `operator_moderates` (none by default), and a `consent_share` of broadcasters consent
    (each authorises streamcensus with their own token). `all-moderated` is a load-test
    mode that real Twitch never grants: the operator moderates every channel.
    """

    mode: PermissionsMode = "realistic"
    operator_moderates: tuple[str, ...] = ()  # channel logins
    consent_share: float = DEFAULT_CONSENT_SHARE

    def __post_init__(self) -> None:
        if self.mode not in PERMISSION_MODES:
            raise ValueError(
                f"permissions must be one of {list(PERMISSION_MODES)}, got {self.mode!r}"
            )
        if not 0.0 <= self.consent_share <= 1.0:
            raise ValueError(f"consent_share must be within [0, 1], got {self.consent_share!r}")
