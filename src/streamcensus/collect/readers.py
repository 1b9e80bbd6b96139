"""Who reads which chat list: user tokens side by side, each for the channels it may read.

Twitch answers Get Chatters only to the channel's broadcaster or one of its moderators.
So each token serves a set of channels, on a ground recorded with every chat list read:

- `consent`: a broadcaster's own token (`auth login --broadcaster`) reads their channel;
- `moderation`: the operator's token reads the channels its user moderates, learned
  from Get Moderated Channels at start and every hour.

Every token has its own rate-limit bucket (Twitch counts per client and user). A channel
no token may read is recorded "not permitted" without a request. A token without the
`user:read:moderated_channels` scope (a `TWITCH_MODERATOR_TOKEN` made by hand) cannot
say which channels it moderates: it tries each listed channel once, and a 403 keeps it
away from that channel for a day. When a token's breaker trips, its channels are not
permitted from then on, with the reason, and nothing else is affected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from streamcensus.clock import Clock
from streamcensus.lake.manifest import Ground, ReaderEntry
from streamcensus.tokens.live import LiveToken
from streamcensus.twitch import MODERATED_CHANNELS_SCOPE, HelixClient, HelixError, UserLane

log = logging.getLogger("streamcensus.collect")

MODERATION_REFRESH = 3600.0  # seconds between Get Moderated Channels calls per token
FORBIDDEN_MEMORY = 86_400.0  # seconds a 403 keeps a probing token away from a channel
NO_TOKEN = "not permitted: no token of the broadcaster or of a moderator"


@dataclass
class Reader:
    """One user token, its bucket, and the channels it serves."""

    token: LiveToken
    lane: UserLane
    moderated: set[str] = field(default_factory=set)
    probing: bool = False  # cannot list its moderated channels: tries, remembers 403s
    moderated_at: float | None = None
    refused: dict[str, float] = field(default_factory=dict)  # channel -> clock time of 403

    @property
    def usable(self) -> bool:
        return self.token.broken is None

    def ground_for(self, channel_id: str, now: float) -> Ground | None:
        """On what ground this token may read a channel (None: it may not)."""
        if channel_id == self.token.user_id:
            return "consent"
        if self.token.role != "operator":
            return None  # a broadcaster consented for their own channel only
        if channel_id in self.moderated:
            return "moderation"
        if self.probing:
            refused = self.refused.get(channel_id)
            if refused is None or now - refused >= FORBIDDEN_MEMORY:
                return "moderation"
        return None


@dataclass(frozen=True)
class Assignment:
    """The reader of one channel's chat list, and on what ground."""

    reader: Reader
    ground: Ground


class ChatListReaders:
    """The user tokens of a collector, kept validated, and the channels each may read."""

    def __init__(self, client: HelixClient, tokens: list[LiveToken], clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self.readers = [Reader(token, client.lane(token)) for token in tokens]

    @property
    def tokens(self) -> list[LiveToken]:
        return [r.token for r in self.readers]

    async def prepare(self) -> None:
        """Before a snapshot: validate tokens that are due (hourly), refresh moderation lists."""
        now = self.clock.time()
        for reader in self.readers:
            if not await reader.token.validate():
                continue
            if reader.token.role != "operator":
                continue
            if MODERATED_CHANNELS_SCOPE not in reader.token.scopes:
                if not reader.probing:
                    log.warning(
                        "%s lacks %s: it will try each channel once and remember refusals",
                        reader.token.label,
                        MODERATED_CHANNELS_SCOPE,
                    )
                reader.probing = True
                continue
            reader.probing = False
            due = reader.moderated_at is None or now - reader.moderated_at >= MODERATION_REFRESH
            if due:
                try:
                    channels = await self.client.get_moderated_channels(reader.lane)
                except HelixError as exc:
                    log.warning("%s: moderated channels unknown (%s)", reader.token.label, exc)
                    continue
                reader.moderated = {c.broadcaster_id for c in channels}
                reader.moderated_at = now

    def assign(self, channel_id: str) -> Assignment | str:
        """The usable reader of a channel (consent first), or why there is none."""
        now = self.clock.time()
        best: Assignment | None = None
        broken: list[str] = []
        for reader in self.readers:
            ground = reader.ground_for(channel_id, now)
            if ground is None:
                continue
            if not reader.usable:
                broken.append(f"{reader.token.label}: {reader.token.broken}")
                continue
            if best is None or (ground == "consent" and best.ground != "consent"):
                best = Assignment(reader, ground)
        if best is not None:
            return best
        if broken:
            return f"not permitted: token unusable ({broken[0]})"
        return NO_TOKEN

    def unusable_reader(self, channel_id: str) -> Reader | None:
        """The tripped token that would have read this channel, if any."""
        now = self.clock.time()
        for reader in self.readers:
            if not reader.usable and reader.ground_for(channel_id, now) is not None:
                return reader
        return None

    def refused(self, reader: Reader, channel_id: str) -> None:
        """A 403: a probing token stays away from this channel for a while."""
        if reader.probing:
            reader.refused[channel_id] = self.clock.time()
        else:
            reader.moderated.discard(channel_id)  # moderation was removed since the last list

    def lanes(self) -> list[UserLane]:
        """The buckets of every usable token (follower totals take any user token)."""
        return [r.lane for r in self.readers if r.usable]

    def report(self, served: dict[str, int], read: dict[str, int]) -> list[ReaderEntry]:
        """Manifest entries: each token that served a listed channel or is unusable (a
        token with nothing to read in this snapshot is left out, to keep manifests small)."""
        return [
            ReaderEntry(
                user_id=r.token.user_id,
                login=r.token.login,
                ground="consent" if r.token.role == "broadcaster" else "moderation",
                channels_listed=served.get(r.token.user_id, 0),
                channels_read=read.get(r.token.user_id, 0),
                state="ok" if r.token.broken is None else "unusable",
                reason=r.token.broken or "",
            )
            for r in self.readers
            if served.get(r.token.user_id) or r.token.broken is not None
        ]
