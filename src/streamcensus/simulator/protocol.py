"""The contract between the population model (`world.py`) and the HTTP layer (`api.py`).

The model answers "what is true at simulated time t"; the HTTP layer turns that into
Helix responses (pagination, auth, rate limit). Times are epoch seconds on the
simulator's clock. State is evaluated on a tick grid (`World.tick_seconds`), so all
answers within one tick are identical and pagination is stable while the clock stands
still or stays inside one tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class StreamRow:
    """One live stream, as `GET /helix/streams` describes it (times in epoch seconds)."""

    id: str
    user_id: str
    user_login: str
    user_name: str
    game_id: str
    game_name: str
    title: str
    viewer_count: int
    started_at: float
    language: str
    tags: tuple[str, ...]
    is_mature: bool


@dataclass(frozen=True, slots=True)
class UserRow:
    """One account, as `GET /helix/users` describes it."""

    id: str
    login: str
    display_name: str
    broadcaster_type: str  # "partner", "affiliate" or ""
    description: str
    created_at: float


@dataclass(frozen=True, slots=True)
class ChatterList:
    """Who is in one channel's chat at one tick.

    `account_ids` are the numeric user ids, sorted ascending (this order is the page
    order); bots included. Logins and display names come from `World.logins` /
    `World.display_names` for a slice of ids, so a page of 1000 is cheap to render.
    """

    broadcaster_id: str
    account_ids: npt.NDArray[np.int64]


class World(Protocol):
    """A simulated Twitch population, deterministic for a seed and a time."""

    tick_seconds: int
    seed: int
    scale: str

    def live_streams(self, t: float) -> list[StreamRow]:
        """Every live stream at t, all languages, sorted by viewer_count desc, then user_id."""
        ...

    def chatters(self, broadcaster_id: str, t: float) -> ChatterList | None:
        """The chat list of a channel at t; None when the channel is not live."""
        ...

    def logins(self, account_ids: npt.NDArray[np.int64]) -> list[str]:
        """Logins for account ids (same order)."""
        ...

    def display_names(self, account_ids: npt.NDArray[np.int64]) -> list[str]:
        """Display names for account ids (same order)."""
        ...

    def users_by_id(self, ids: list[str]) -> list[UserRow]:
        """Accounts with these ids (unknown ids skipped), in the order given."""
        ...

    def users_by_login(self, logins: list[str]) -> list[UserRow]:
        """Accounts with these logins, case-insensitive (unknown skipped), in the order given."""
        ...

    def operator(self) -> UserRow:
        """The operator account (the collector's moderator identity)."""
        ...

    def can_read_chatters(self, user_id: str, broadcaster_id: str) -> bool:
        """True when `user_id` is the broadcaster or one of its moderators."""
        ...

    # -- consent, moderation and followers (the auth and user-token routes) ----------

    def consents(self, user_id: str) -> bool | None:
        """Whether this channel's broadcaster approves streamcensus reading their chat list;
        None for an account that is not a channel."""
        ...

    def moderated_channels(self, user_id: str) -> list[UserRow]:
        """The channels this user moderates, ordered by channel id."""
        ...

    def followers_total(self, user_id: str, t: float) -> int | None:
        """Followers of an account at t; None when there is no such account."""
        ...

    def permissions_truth(self) -> dict[str, Any]:
        """Ground truth: permission mode, channels the operator moderates, consenting ones."""
        ...

    def communities_truth(self) -> dict[str, Any]:
        """Ground truth: the true audience communities and each channel's (`scale`, `seed`,
        `communities`: id, label, scene, genre, language, games, channels,
        secondary_channels; `channels`: id, login, language, community, label, secondary,
        squad)."""
        ...


class ChatRole:
    """What an account in a chat list is, for the chat model (who may post, and how)."""

    VIEWER = 0
    LURKER = 1  # a viewer who leaves chats open for hours and rarely posts
    BROADCASTER = 2
    LURKER_BOT = 3  # sits in hundreds of chats, never posts
    SERVICE_BOT = 4  # Nightbot & co: timers and command answers
    OPERATOR = 5  # the collector's own account: never posts


@dataclass(frozen=True, slots=True)
class ChatRooms:
    """Every live channel's chat list at one tick, as the chat model reads it.

    Room r is the live channel `channel_ids[r]` (language `languages[r]`); its chatters are
    `account_ids[offsets[r]:offsets[r + 1]]` with their `roles` (`ChatRole` values).
    """

    channel_ids: npt.NDArray[np.int64]
    languages: tuple[str, ...]
    offsets: npt.NDArray[np.int64]
    account_ids: npt.NDArray[np.int64]
    roles: npt.NDArray[np.uint8]


@runtime_checkable
class ChatRoomSource(Protocol):
    """A world that gives every chat list of a tick at once (faster than one by one)."""

    def chat_rooms(self, t: float) -> ChatRooms:
        """Every live channel's chat list at t, rooms by channel, chatters by user id."""
        ...
