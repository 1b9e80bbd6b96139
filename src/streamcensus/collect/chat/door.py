"""Privacy at the door for chat lines: opt-outs, known bots and the pseudonym of each author.

This is the one module of `collect/chat` that imports the project's key store
(`streamcensus.keys`) and pseudonymiser (`collect/privacy.py`); the rest of the package
takes them from here. A chat author's login and user id exist only in the
local variables of the line being read: opted-out viewers are dropped by login or user id
before any hashing (P4), the user id becomes the same keyed 64-bit pseudonym the chat-list
collector makes (P1), and known public bots keep their login as `bot_name` (P6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping

from streamcensus.collect.privacy import Pseudonymiser, is_optout_channel, normalise_optout
from streamcensus.keys import KeyStore

__all__ = ["Door", "KeyStore", "Pseudonymiser"]


class Door:
    """Opt-out and bot rules, and one `Pseudonymiser` per pseudonym key."""

    def __init__(
        self,
        keys: KeyStore,
        optout_viewers: Iterable[str] = (),
        known_bots: Iterable[str] = (),
        optout_channels: Iterable[str] = (),
        *,
        known_bot_ids: Mapping[str, str] | None = None,
    ) -> None:
        """`known_bot_ids` (user id -> login, `privacy.resolve_known_bots`): known bots are
        then matched by pseudonym after hashing, not by the login a chatter uses."""
        self._keys = keys
        self._bot_ids = known_bot_ids
        self._optout_list = tuple(optout_viewers)
        self._bots_list = tuple(known_bots)
        self.optout = normalise_optout(self._optout_list)
        self.bots = normalise_optout(self._bots_list)
        self.optout_channels: Collection[str] = normalise_optout(optout_channels)
        self._by_key: dict[str, Pseudonymiser] = {}

    def pseudonymiser_for(self, window_start: dt.datetime) -> Pseudonymiser:
        """The pseudonymiser of the key in force at the start of a window.

        Keys start at UTC midnight, so a 5-minute window never straddles two. A window closed
        after the next key was made still gets the key of its own day: the newest key created
        at or before the window's start and not yet rotated out, else the store's current key.
        """
        rotation = self._keys.rotation
        chosen = None
        for key in self._keys.list_keys():
            if key.created_at <= window_start and window_start - key.created_at < rotation:
                chosen = key
        if chosen is None:
            chosen = self._keys.current(window_start)
        found = self._by_key.get(chosen.key_id)
        if found is None:
            found = Pseudonymiser(chosen, self._optout_list, self._bots_list, bot_ids=self._bot_ids)
            if len(self._by_key) >= 2:  # at most two windows are open at once
                self._by_key.clear()
            self._by_key[chosen.key_id] = found
        return found

    def is_optout_viewer(self, user_id: str, login: str) -> bool:
        """True for an opted-out viewer, matched by user id or login before any hashing."""
        optout = self.optout
        return bool(optout) and (user_id in optout or login in optout)

    def bot_name(self, login: str) -> str | None:
        """The login of a known public bot (kept by name), else None."""
        return login if login in self.bots else None

    def is_optout_channel(self, login: str, channel_id: str) -> bool:
        return is_optout_channel(login, channel_id, self.optout_channels)
