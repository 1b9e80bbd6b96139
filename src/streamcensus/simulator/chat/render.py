"""Chat events as the IRC lines Twitch sends: PRIVMSG, USERNOTICE, CLEARCHAT, JOIN/PART.

Tags follow Twitch's IRC reference (PRIVMSG: badge-info, badges, color, display-name,
emotes, first-msg, flags, id, mod, returning-chatter, room-id, subscriber, tmi-sent-ts,
turbo, user-id, user-type). Per-account details (colour, subscription, moderator status)
are hashed from the seed, so a line always renders the same.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.chat import texts
from streamcensus.simulator.chat.irc import line, user_prefix
from streamcensus.simulator.chat.model import ChatTick, Kind, Sub
from streamcensus.simulator.model_random import mix
from streamcensus.simulator.protocol import ChatRole, World

P_LOOKS = 106
_COLORS = ("#1E90FF", "#FF4500", "#2E8B57", "#DAA520", "#9ACD32", "#8A2BE2", "#FF69B4", "#00FF7F")


def message_id(variant: int) -> str:
    """A UUID-shaped message id from a 64-bit hash (Twitch's `id` tag)."""
    h2 = int(mix(variant & 0x7FFF_FFFF_FFFF_FFFF, P_LOOKS, 1)[0])
    text = f"{variant:016x}{h2:016x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:32]}"


class Renderer:
    """Renders events of a `ChatTick` with the world's logins and display names."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed

    def render(self, events: ChatTick, index: npt.NDArray[np.int64]) -> list[bytes]:
        """Tagged lines of the events at `index` (any order, usually time order)."""
        if not len(index):
            return []
        account = events.account[index]
        room_channel = events.rooms.channel_ids[events.room[index]]
        uniq, inverse = np.unique(np.concatenate([account, room_channel]), return_inverse=True)
        logins = self.world.logins(uniq)
        names = self.world.display_names(uniq)
        looks = mix(self.seed, P_LOOKS, account, room_channel)
        n = len(index)
        out: list[bytes] = []
        for pos, i in enumerate(index.tolist()):
            a, c = int(inverse[pos]), int(inverse[n + pos])
            kind = int(events.kind[i])
            if kind == Kind.PRIVMSG:
                text = self._privmsg(events, i, logins[a], names[a], logins[c], int(looks[pos]))
            elif kind == Kind.USERNOTICE:
                text = self._usernotice(events, i, logins[a], names[a], logins[c], int(looks[pos]))
            else:
                text = self._clearchat(events, i, logins[a], logins[c])
            out.append(text.encode())
        return out

    def _badges(self, role: int, looks: int) -> tuple[str, str, str, bool]:
        """(badge-info, badges, user-type, mod) of an author in a room."""
        months = 1 + (looks >> 8) % 48
        subscriber = (looks >> 16) % 4 == 0
        mod = role == ChatRole.SERVICE_BOT or (looks >> 24) % 100 == 0
        badges: list[str] = []
        if role == ChatRole.BROADCASTER:
            badges.append("broadcaster/1")
        elif mod:
            badges.append("moderator/1")
        if subscriber:
            badges.append(f"subscriber/{months if months < 12 else 12}")
        info = f"subscriber/{months}" if subscriber else ""
        return info, ",".join(badges), "mod" if mod else "", subscriber

    def _common(
        self, events: ChatTick, i: int, name: str, looks: int
    ) -> tuple[list[tuple[str, str]], bool]:
        role = int(events.role[i])
        info, badges, _, subscriber = self._badges(role, looks)
        color = _COLORS[(looks >> 32) % len(_COLORS)] if (looks >> 40) % 10 < 7 else ""
        tags = [
            ("badge-info", info),
            ("badges", badges),
            ("color", color),
            ("display-name", name),
        ]
        return tags, subscriber

    def _privmsg(
        self, events: ChatTick, i: int, login: str, name: str, chan: str, looks: int
    ) -> str:
        sub = int(events.sub[i])
        variant = int(events.variant[i])
        emotes = ""
        if sub == Sub.TEXT:
            language = events.rooms.languages[int(events.room[i])]
            body, emotes = texts.human_text(variant, language)
        elif sub == Sub.COMMAND:
            body = texts.command_text(variant)
        elif sub == Sub.BOT_ANSWER:
            body = texts.bot_text(variant, timer=False)
        else:
            body = texts.bot_text(variant, timer=True)
        tags, subscriber = self._common(events, i, name, looks)
        role = int(events.role[i])
        mod = role == ChatRole.SERVICE_BOT or (looks >> 24) % 100 == 0
        tags += [
            ("emotes", emotes),
            ("first-msg", "1" if (looks >> 48) % 200 == 0 and sub == Sub.TEXT else "0"),
            ("flags", ""),
            ("id", message_id(variant)),
            ("mod", "1" if mod and role != ChatRole.BROADCASTER else "0"),
            ("returning-chatter", "0"),
            ("room-id", str(int(events.rooms.channel_ids[int(events.room[i])]))),
            ("subscriber", "1" if subscriber else "0"),
            ("tmi-sent-ts", str(int(events.ts_ms[i]))),
            ("turbo", "0"),
            ("user-id", str(int(events.account[i]))),
            ("user-type", "mod" if mod and role != ChatRole.BROADCASTER else ""),
        ]
        return line("PRIVMSG", f"#{chan}", prefix=user_prefix(login), tags=tags, trailing=body)

    def _usernotice(
        self, events: ChatTick, i: int, login: str, name: str, chan: str, looks: int
    ) -> str:
        sub = int(events.sub[i])
        extra = int(events.extra[i])
        tags, subscriber = self._common(events, i, name, looks)
        room_id = str(int(events.rooms.channel_ids[int(events.room[i])]))
        tail: list[tuple[str, str]] = [
            ("emotes", ""),
            ("flags", ""),
            ("id", message_id(int(events.variant[i]))),
            ("login", login),
            ("mod", "0"),
        ]
        trailing: str | None = None
        if sub == Sub.RAID:
            tail += [
                ("msg-id", "raid"),
                ("msg-param-displayName", name),
                ("msg-param-login", login),
                ("msg-param-viewerCount", str(extra)),
                ("room-id", room_id),
                ("subscriber", "0"),
                ("system-msg", f"{extra} raiders from {name} have joined!"),
            ]
        else:
            kind = "resub" if sub == Sub.RESUB else "sub"
            system = f"{name} subscribed at Tier 1."
            if sub == Sub.RESUB:
                system += f" They've subscribed for {extra} months!"
                trailing, _ = texts.human_text(int(events.variant[i]), "fr")
            tail += [
                ("msg-id", kind),
                ("msg-param-cumulative-months", str(extra)),
                ("msg-param-months", "0"),
                ("msg-param-should-share-streak", "0"),
                ("msg-param-sub-plan", "1000"),
                ("msg-param-sub-plan-name", "Channel Subscription"),
                ("room-id", room_id),
                ("subscriber", "1"),
                ("system-msg", system),
            ]
        tail += [
            ("tmi-sent-ts", str(int(events.ts_ms[i]))),
            ("user-id", str(int(events.account[i]))),
            ("user-type", ""),
        ]
        del subscriber
        return line("USERNOTICE", f"#{chan}", tags=tags + tail, trailing=trailing)

    def _clearchat(self, events: ChatTick, i: int, login: str, chan: str) -> str:
        tags = [
            ("ban-duration", str(int(events.extra[i]))),
            ("room-id", str(int(events.rooms.channel_ids[int(events.room[i])]))),
            ("target-user-id", str(int(events.account[i]))),
            ("tmi-sent-ts", str(int(events.ts_ms[i]))),
        ]
        return line("CLEARCHAT", f"#{chan}", tags=tags, trailing=login)


def membership_lines(channels: list[str], users: list[str], joined: list[bool]) -> list[bytes]:
    """JOIN/PART lines of other users (no tags, as Twitch sends them)."""
    return [
        line("JOIN" if j else "PART", f"#{c}", prefix=user_prefix(u)).encode()
        for c, u, j in zip(channels, users, joined, strict=True)
    ]
