"""A tiny hand-made `World` with known answers, for fast tests of the HTTP layer.

Channels (user ids 1-8) stream in three languages; `offline_chan` (id 9) is never live and
`night_owl` (id 8) is live only on odd ticks. Viewers have ids from 1000 up; the operator
(id 500) moderates every channel except `closed_chan` (id 7); `helper_mod` (id 501)
moderates `alpha_fr` (id 1) only. `bravo_fr` (2) and `delta_fr` (4) consent to chat-list
reading; channel n has 1000·n followers at START and gains one a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.protocol import ChatterList, StreamRow, UserRow

START = 1_767_268_800.0  # 2026-01-01T12:00:00Z, the start of a tick
TICK = 60


@dataclass(frozen=True)
class Channel:
    user_id: str
    login: str
    name: str
    language: str
    game_id: str
    game_name: str
    viewers: int
    chatters: int


CHANNELS: tuple[Channel, ...] = (
    Channel("1", "alpha_fr", "Alpha_FR", "fr", "21779", "League of Legends", 9000, 2500),
    Channel("2", "bravo_fr", "Bravo_FR", "fr", "509658", "Just Chatting", 7000, 40),
    Channel("3", "charlie_en", "Charlie_EN", "en", "509658", "Just Chatting", 6000, 30),
    Channel("4", "delta_fr", "Delta_FR", "fr", "32982", "Grand Theft Auto V", 5000, 20),
    Channel("5", "echo_de", "Echo_DE", "de", "21779", "League of Legends", 4000, 10),
    Channel("6", "foxtrot_fr", "Foxtrot_FR", "fr", "509658", "Just Chatting", 3000, 0),
    Channel("7", "closed_chan", "Closed_Chan", "fr", "32982", "Grand Theft Auto V", 2000, 15),
    Channel("8", "night_owl", "Night_Owl", "en", "21779", "League of Legends", 1000, 5),
)
OFFLINE = UserRow("9", "offline_chan", "Offline_Chan", "", "", 1_500_000_000.0)
OPERATOR = UserRow("500", "streamcensus_operator", "streamcensus_operator", "", "", 1.6e9)
HELPER = UserRow("501", "helper_mod", "Helper_Mod", "", "", 1.6e9)
VIEWER_BASE = 1000
VIEWERS = 5000  # viewer ids 1000..5999


def chatter_ids(channel: Channel) -> npt.NDArray[np.int64]:
    """Chatters of a channel: a fixed, sorted, overlapping slice of the viewers."""
    offset = int(channel.user_id) * 37
    ids = VIEWER_BASE + (offset + np.arange(channel.chatters, dtype=np.int64) * 2) % VIEWERS
    return np.unique(ids)


class FakeWorld:
    """A `World` whose every answer can be computed by hand."""

    tick_seconds = TICK
    seed = 7
    scale = "fake"

    def __init__(self) -> None:
        self.calls: dict[str, int] = {"live_streams": 0, "chatters": 0}

    def _live(self, t: float) -> list[Channel]:
        odd_tick = (int(t // TICK)) % 2 == 1
        return [c for c in CHANNELS if c.login != "night_owl" or odd_tick]

    def live_streams(self, t: float) -> list[StreamRow]:
        self.calls["live_streams"] += 1
        return [
            StreamRow(
                id=str(40_000_000_000 + int(c.user_id)),
                user_id=c.user_id,
                user_login=c.login,
                user_name=c.name,
                game_id=c.game_id,
                game_name=c.game_name,
                title=f"Live with {c.name} ✨",
                viewer_count=c.viewers,
                started_at=START - 3600 * int(c.user_id),
                language=c.language,
                tags=(c.language.upper(), "Chill"),
                is_mature=c.user_id == "4",
            )
            for c in self._live(t)
        ]

    def chatters(self, broadcaster_id: str, t: float) -> ChatterList | None:
        self.calls["chatters"] += 1
        for c in self._live(t):
            if c.user_id == broadcaster_id:
                return ChatterList(broadcaster_id, chatter_ids(c))
        return None

    def logins(self, account_ids: npt.NDArray[np.int64]) -> list[str]:
        return [self._user(int(i)).login for i in account_ids.tolist()]

    def display_names(self, account_ids: npt.NDArray[np.int64]) -> list[str]:
        return [self._user(int(i)).display_name for i in account_ids.tolist()]

    def _user(self, account_id: int) -> UserRow:
        for c in CHANNELS:
            if int(c.user_id) == account_id:
                return UserRow(c.user_id, c.login, c.name, "partner", "", 1.5e9)
        for row in (OFFLINE, OPERATOR, HELPER):
            if int(row.id) == account_id:
                return row
        if VIEWER_BASE <= account_id < VIEWER_BASE + VIEWERS:
            name = f"Zoé_{account_id}" if account_id % 100 == 0 else f"Viewer_{account_id}"
            return UserRow(str(account_id), f"viewer_{account_id}", name, "", "", 1.55e9)
        raise KeyError(account_id)

    def users_by_id(self, ids: Sequence[str]) -> list[UserRow]:
        found = []
        for raw in ids:
            try:
                found.append(self._user(int(raw)))
            except (KeyError, ValueError):
                continue
        return found

    def users_by_login(self, logins: Sequence[str]) -> list[UserRow]:
        known = {c.login: c.user_id for c in CHANNELS}
        known.update({r.login: r.id for r in (OFFLINE, OPERATOR, HELPER)})
        found = []
        for login in logins:
            name = login.lower()
            if name in known:
                found.append(self._user(int(known[name])))
            elif name.startswith("viewer_") and name[7:].isdigit():
                found.extend(self.users_by_id([name[7:]]))
        return found

    def operator(self) -> UserRow:
        return OPERATOR

    def can_read_chatters(self, user_id: str, broadcaster_id: str) -> bool:
        if user_id == broadcaster_id:
            return True
        channels = {c.user_id for c in CHANNELS} | {OFFLINE.id}
        if user_id == OPERATOR.id:
            return broadcaster_id in channels and broadcaster_id != "7"
        return user_id == HELPER.id and broadcaster_id == "1"

    # consent, moderation and followers: bravo_fr (2) and delta_fr (4) consent
    def consents(self, user_id: str) -> bool | None:
        if user_id not in {c.user_id for c in CHANNELS} | {OFFLINE.id}:
            return None
        return user_id in CONSENTING

    def moderated_channels(self, user_id: str) -> list[UserRow]:
        ids = {c.user_id for c in CHANNELS} | {OFFLINE.id}
        if user_id == OPERATOR.id:
            chosen = sorted((i for i in ids if i != "7"), key=int)
        elif user_id == HELPER.id:
            chosen = ["1"]
        else:
            chosen = []
        return self.users_by_id(chosen)

    def followers_total(self, user_id: str, t: float) -> int | None:
        """Channel n has 1000·n followers at START and gains one a minute."""
        if not self.users_by_id([user_id]):
            return None
        if not any(c.user_id == user_id for c in CHANNELS):
            return 0
        return 1000 * int(user_id) + max(0, int((t - START) // 60))

    def permissions_truth(self) -> dict[str, object]:
        return {
            "mode": "realistic",
            "consent_share": 0.25,
            "channels": len(CHANNELS) + 1,
            "operator_moderates": [
                {"id": r.id, "login": r.login} for r in self.moderated_channels(OPERATOR.id)
            ],
            "operator_moderates_all": False,
            "consenting": [{"id": i, "login": self._user(int(i)).login} for i in CONSENTING],
        }

    def communities_truth(self) -> dict[str, object]:
        """fr channels in two communities (alpha, bravo, foxtrot: esport; delta, closed and
        the offline channel: GTA RP, bravo also esport's secondary); en and de in one each."""
        channels = [*CHANNELS, Channel("9", "offline_chan", "", "fr", "", "", 0, 0)]
        return {
            "scale": self.scale,
            "seed": self.seed,
            "communities": [dict(c) for c in FAKE_COMMUNITIES],
            "channels": [
                {
                    "id": c.user_id,
                    "login": c.login,
                    "language": c.language,
                    "community": FAKE_MEMBERSHIP[c.user_id],
                    "label": next(
                        k["label"]
                        for k in FAKE_COMMUNITIES
                        if k["id"] == FAKE_MEMBERSHIP[c.user_id]
                    ),
                    "secondary": "fr-gta-rp" if c.user_id == "2" else None,
                    "squad": int(c.user_id) // 2,
                }
                for c in channels
            ],
        }


CONSENTING = ("2", "4")
FAKE_COMMUNITIES: tuple[dict[str, object], ...] = (
    {"id": "fr-esport", "label": "esport", "scene": "esport", "genre": "MOBA", "language": "fr",
     "games": ["League of Legends"], "channels": 3, "secondary_channels": 0},
    {"id": "fr-gta-rp", "label": "GTA RP", "scene": "roleplay", "genre": "roleplay",
     "language": "fr", "games": ["Grand Theft Auto V"], "channels": 3, "secondary_channels": 1},
    {"id": "en-chatting", "label": "Just Chatting", "scene": "IRL", "genre": "Just Chatting",
     "language": "en", "games": ["Just Chatting"], "channels": 2, "secondary_channels": 0},
    {"id": "de-lol", "label": "League of Legends", "scene": "esport", "genre": "MOBA",
     "language": "de", "games": ["League of Legends"], "channels": 1, "secondary_channels": 0},
)  # fmt: skip
FAKE_MEMBERSHIP = {
    "1": "fr-esport",
    "2": "fr-esport",
    "6": "fr-esport",
    "4": "fr-gta-rp",
    "7": "fr-gta-rp",
    "9": "fr-gta-rp",
    "3": "en-chatting",
    "8": "en-chatting",
    "5": "de-lol",
}
