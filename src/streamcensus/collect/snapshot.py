"""One snapshot: list the community's live channels, read who is in their chats, store it.

Viewer logins and ids exist only in memory, for the time it takes to pseudonymise one
chatter list (P1); opt-out channels are never requested and opt-out viewers are dropped
before hashing (P4); known public bots keep their name (P6). A chat list is read only
with a token allowed to read it (`readers.py`: the broadcaster's consent or the
operator's moderation), and the manifest records on which ground; a channel no token may
read is "not permitted" without a request. At the top of each hour the follower totals
of the listed channels are read too (`followers.py`). With a chat listener, the
snapshot also holds the chat-activity window that ends at its grid time (`activity.py`),
and hands the listener its new listing once written. Every fault is counted, and a
snapshot that lacks anything is written as `partial` with what is missing: nothing is
lost silently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from streamcensus.clock import Clock
from streamcensus.collect.activity import chat_part
from streamcensus.collect.chat import ChatChannel, ChatListener
from streamcensus.collect.followers import FollowerTotals, followers_due, read_followers
from streamcensus.collect.privacy import Pseudonymiser, is_optout_channel
from streamcensus.collect.readers import Assignment, ChatListReaders
from streamcensus.config import Settings
from streamcensus.keys import KeyStore
from streamcensus.lake.manifest import FileEntry, Ground, ManifestRecord, MissingEntry
from streamcensus.lake.schema import (
    CHAT_ACTIVITY,
    CHAT_COVERAGE,
    CHATTERS,
    CHATTERS_ERROR,
    CHATTERS_FORBIDDEN,
    CHATTERS_OK,
    CHATTERS_SCHEMA,
    FOLLOWERS,
    STREAMS,
    STREAMS_SCHEMA,
    snapshot_id,
)
from streamcensus.lake.writer import LakeWriter
from streamcensus.twitch import (
    Forbidden,
    HelixClient,
    HelixError,
    Stream,
    TokenUnusable,
    Unauthorized,
)

log = logging.getLogger("streamcensus.collect")


@dataclass(frozen=True)
class CollectOptions:
    """What to collect: the community (language, top N), the tracked list and the opt-outs."""

    language: str
    top_n: int
    tracked: tuple[str, ...] = ()
    optout_channels: frozenset[str] = frozenset()
    optout_viewers: tuple[str, ...] = ()
    known_bots: tuple[str, ...] = ()
    # user id -> login of the known bots, once resolved (`resolve_known_bots`): then chatters
    # are flagged by pseudonym after hashing, never by the login they use
    known_bot_ids: Mapping[str, str] | None = None
    concurrency: int = 16

    @classmethod
    def from_settings(cls, settings: Settings) -> CollectOptions:
        return cls(
            language=settings.language,
            top_n=settings.top_n,
            tracked=tuple(settings.tracked),
            optout_channels=frozenset(settings.optout_channels),
            optout_viewers=tuple(settings.optout_viewers),
            known_bots=settings.all_known_bots,
            concurrency=settings.concurrency,
        )


@dataclass
class _ChannelResult:
    status: str
    table: pa.Table | None = None
    total: int | None = None
    duplicates_dropped: int = 0
    reason: str = ""
    ground: Ground | None = None  # on what ground a token may read this chat list
    reader: str = ""  # user id of that token


@dataclass
class _Listing:
    streams: list[Stream] = field(default_factory=list)
    ranks: dict[str, int] = field(default_factory=dict)  # user_id -> 1-based rank, 0 = tracked
    tracked_ids: set[str] = field(default_factory=set)
    optout_skipped: int = 0
    missing: list[MissingEntry] = field(default_factory=list)
    done: bool = False  # listed in full (else the chat listener keeps its channels)


class Collector:
    """Takes snapshots through a `HelixClient` into a `LakeWriter`.

    `readers` holds the user tokens that read chat lists (and follower totals); with no
    token, every chat list is "not permitted", recorded per channel. The client's
    counters are read before and after each snapshot, so one client serves many.
    `chat` is the running chat listener (None: chat activity is off, or could not run,
    and `chat_unavailable` says why).
    """

    def __init__(
        self,
        client: HelixClient,
        writer: LakeWriter,
        keys: KeyStore,
        options: CollectOptions,
        clock: Clock,
        readers: ChatListReaders,
        chat: ChatListener | None = None,
        chat_unavailable: str = "",
    ) -> None:
        self.client = client
        self.writer = writer
        self.keys = keys
        self.options = options
        self.clock = clock
        self.readers = readers
        self.chat = chat
        self.chat_unavailable = chat_unavailable

    async def collect(self, grid_time: dt.datetime) -> ManifestRecord:
        """Take the snapshot of `grid_time` and write its files; return its manifest record.

        Order: list the channels, close the chat window ending at `grid_time` (while the
        chat lists are read), write every kind and the manifest, then give the listener
        the new listing (even when the write failed, so listening goes on).
        """
        listing = _Listing()
        try:
            return await self._collect(grid_time, listing)
        finally:
            if self.chat is not None and listing.done and not listing.missing:
                self.chat.set_channels(
                    ChatChannel(s.user_login, s.user_id) for s in listing.streams
                )

    async def _collect(self, grid_time: dt.datetime, listing: _Listing) -> ManifestRecord:
        sid = snapshot_id(grid_time)
        started = self.clock.now()
        cpu_started, wall_started = time.thread_time(), time.perf_counter()  # for `cost`
        before = self.client.stats.snapshot()
        key = self.keys.current(grid_time)
        opts = self.options
        pseudonymiser = Pseudonymiser(
            key, opts.optout_viewers, opts.known_bots, bot_ids=opts.known_bot_ids
        )

        validations = sum(t.counters.validations for t in self.readers.tokens)
        await self.readers.prepare()
        await self._list_channels(listing)
        listed = [s.user_id for s in listing.streams]
        results, window = await asyncio.gather(
            self._read_all_chatters(listing.streams, pseudonymiser, sid, grid_time),
            chat_part(self.chat, grid_time, listed, self.chat_unavailable),
        )
        followers = FollowerTotals()
        if followers_due(grid_time):
            followers = await read_followers(
                self.client,
                self.readers.lanes(),
                [s.user_id for s in listing.streams],
                self.options.concurrency,
            )

        streams_table = self._streams_table(sid, grid_time, listing, results)
        chatter_tables = [r.table for r in results.values() if r.table is not None]
        chatters_table = (
            pa.concat_tables(chatter_tables) if chatter_tables else CHATTERS_SCHEMA.empty_table()
        )
        tables = {STREAMS.name: streams_table, CHATTERS.name: chatters_table}
        if followers.totals:
            tables[FOLLOWERS.name] = followers.table(sid, grid_time)
        if window.activity is not None and window.coverage is not None:
            tables[CHAT_ACTIVITY.name] = window.activity
            tables[CHAT_COVERAGE.name] = window.coverage
        lake_dir = self.writer.lake_dir
        files: dict[str, FileEntry] = {
            kind: self.writer.write(kind, sid, table).to_entry(lake_dir)
            for kind, table in tables.items()
        }

        missing = list(listing.missing)
        missing.extend(
            MissingEntry(what="chatters", channel_id=channel_id, reason=r.reason)
            for channel_id, r in results.items()
            if r.status == CHATTERS_ERROR
        )
        missing.extend(followers.missing)
        missing.extend(window.missing)
        cost = self.client.stats.diff(before)
        statuses = [r.status for r in results.values()]
        served: dict[str, int] = {}
        read: dict[str, int] = {}
        for r in results.values():
            if r.reader:
                served[r.reader] = served.get(r.reader, 0) + 1
                read[r.reader] = read.get(r.reader, 0) + (r.status == CHATTERS_OK)
        record = ManifestRecord(
            snapshot_id=sid,
            grid_time=grid_time,
            started_at=started,
            ended_at=self.clock.now(),
            source=self.client.config.helix_url,
            language=self.options.language,
            top_n=self.options.top_n,
            status="partial" if missing else "complete",
            channels_listed=len(listing.streams),
            channels_tracked=len(listing.tracked_ids),
            channels_with_chatters=statuses.count(CHATTERS_OK),
            channels_forbidden=statuses.count(CHATTERS_FORBIDDEN),
            channels_failed=statuses.count(CHATTERS_ERROR),
            presence_observations=chatters_table.num_rows,
            duplicates_dropped=sum(r.duplicates_dropped for r in results.values()),
            requests=cost.requests,
            retries=cost.retries,
            rate_limit_waits=cost.rate_limit_waits,
            rate_limit_wait_seconds=round(cost.rate_limit_wait_seconds, 3),
            http_429=cost.http_429,
            token_refreshes=cost.token_refreshes,
            errors=dict(cost.errors),
            missing=missing,
            key_id=key.key_id,
            token_validations=(
                sum(t.counters.validations for t in self.readers.tokens) - validations
            ),
            chat_list_readers=self.readers.report(served, read),
            chat_list_grounds={
                channel_id: r.ground
                for channel_id, r in sorted(results.items())
                if r.status == CHATTERS_OK and r.ground is not None
            },
            followers_status=followers.status,
            followers_channels=len(followers.totals),
            **window.manifest_fields(),
            cpu_seconds=round(time.thread_time() - cpu_started, 4),
            wall_seconds=round(time.perf_counter() - wall_started, 4),
            bytes_sent=cost.bytes_sent,
            bytes_received=cost.bytes_received,
            files=files,
        )
        self.writer.write_manifest(record)
        return record

    async def _list_channels(self, listing: _Listing) -> None:
        """Top N live channels of the language, then tracked logins not already listed."""
        opts = self.options
        top: list[Stream] = []
        try:
            top = await self.client.get_streams(language=opts.language, limit=opts.top_n)
        except HelixError as exc:
            listing.missing.append(MissingEntry(what="streams", channel_id=None, reason=str(exc)))
        tracked: list[Stream] = []
        wanted = [login for login in opts.tracked if login not in opts.optout_channels]
        if wanted:
            try:
                tracked = await self.client.get_streams(user_logins=wanted)
            except HelixError as exc:
                listing.missing.append(
                    MissingEntry(what="tracked streams", channel_id=None, reason=str(exc))
                )
        tracked_ids = {s.user_id for s in tracked}
        for rank, stream in enumerate(top, start=1):
            if is_optout_channel(stream.user_login, stream.user_id, opts.optout_channels):
                listing.optout_skipped += 1
                continue
            listing.streams.append(stream)
            listing.ranks[stream.user_id] = rank
        for stream in tracked:
            if stream.user_id not in listing.ranks and not is_optout_channel(
                stream.user_login, stream.user_id, opts.optout_channels
            ):
                listing.streams.append(stream)
                listing.ranks[stream.user_id] = 0
        listing.tracked_ids = tracked_ids & set(listing.ranks)
        listing.done = True

    async def _read_all_chatters(
        self,
        streams: list[Stream],
        pseudonymiser: Pseudonymiser,
        sid: str,
        grid_time: dt.datetime,
    ) -> dict[str, _ChannelResult]:
        """Chatters of every listed channel a token may read, `concurrency` in flight.

        A channel no usable token may read is "not permitted" without a request; a token
        whose breaker trips mid-snapshot stops at once (its other channels likewise).
        """
        gate = asyncio.Semaphore(self.options.concurrency)

        async def one(stream: Stream) -> tuple[str, _ChannelResult]:
            assignment = self.readers.assign(stream.user_id)
            if isinstance(assignment, str):
                refused = _ChannelResult(CHATTERS_FORBIDDEN, reason=assignment)
                blocked = self.readers.unusable_reader(stream.user_id)
                refused.reader = blocked.token.user_id if blocked is not None else ""
                return stream.user_id, refused
            async with gate:
                result = await self._read_chatters(
                    stream.user_id, assignment, pseudonymiser, sid, grid_time
                )
            result.reader = assignment.reader.token.user_id
            return stream.user_id, result

        pairs = await asyncio.gather(*(one(s) for s in streams))
        return dict(pairs)

    async def _read_chatters(
        self,
        channel_id: str,
        assignment: Assignment,
        pseudonymiser: Pseudonymiser,
        sid: str,
        grid_time: dt.datetime,
    ) -> _ChannelResult:
        reader = assignment.reader
        if not reader.usable:  # tripped while this read waited for its turn
            return _ChannelResult(
                CHATTERS_FORBIDDEN, reason=f"not permitted: token unusable ({reader.token.broken})"
            )
        try:
            chatters = await self.client.get_chatters(
                channel_id, reader.token.user_id, lane=reader.lane
            )
        except Forbidden:
            self.readers.refused(reader, channel_id)
            return _ChannelResult(
                CHATTERS_FORBIDDEN, reason="403: not the broadcaster or a moderator"
            )
        except (TokenUnusable, Unauthorized) as exc:
            if reader.token.broken is None:  # a 401 the token outlived (refreshed meanwhile)
                log.warning("snapshot %s: chatters of channel %s: %s", sid, channel_id, exc)
                return _ChannelResult(CHATTERS_ERROR, reason=str(exc))
            return _ChannelResult(
                CHATTERS_FORBIDDEN, reason=f"not permitted: token unusable ({reader.token.broken})"
            )
        except HelixError as exc:
            log.warning("snapshot %s: chatters of channel %s failed: %s", sid, channel_id, exc)
            return _ChannelResult(CHATTERS_ERROR, reason=str(exc))
        except Exception as exc:  # one channel's surprise must not lose the whole snapshot
            log.exception("snapshot %s: chatters of channel %s failed", sid, channel_id)
            return _ChannelResult(CHATTERS_ERROR, reason=f"{type(exc).__name__}: {exc}")
        batch = pseudonymiser.pseudonymise(chatters.user_ids, chatters.user_logins)
        # Twitch's total counts opted-out viewers too: stored as if they were not there, so
        # total minus stored rows never tells when one was in the chat (P4)
        total = max(0, chatters.total - batch.optout_dropped)
        del chatters  # logins and ids leave memory here (P1)
        return _ChannelResult(
            CHATTERS_OK,
            table=batch.chatters_table(sid, grid_time, channel_id),
            total=total,
            duplicates_dropped=batch.duplicates_dropped,
            ground=assignment.ground,
        )

    def _streams_table(
        self,
        sid: str,
        grid_time: dt.datetime,
        listing: _Listing,
        results: dict[str, _ChannelResult],
    ) -> pa.Table:
        rows = listing.streams
        columns = {
            "snapshot_id": [sid] * len(rows),
            "snapshot_ts": [grid_time] * len(rows),
            "channel_id": [s.user_id for s in rows],
            "channel_login": [s.user_login for s in rows],
            "channel_name": [s.user_name for s in rows],
            "stream_id": [s.id for s in rows],
            "language": [s.language for s in rows],
            "game_id": [s.game_id for s in rows],
            "game_name": [s.game_name for s in rows],
            "title": [s.title for s in rows],
            "viewer_count": [s.viewer_count for s in rows],
            "started_at": [s.started_at for s in rows],
            "is_mature": [s.is_mature for s in rows],
            "tags": [",".join(s.tags) for s in rows],
            "rank": [listing.ranks[s.user_id] for s in rows],
            "tracked": [s.user_id in listing.tracked_ids for s in rows],
            "chatters_status": [results[s.user_id].status for s in rows],
            "chatters_total": [results[s.user_id].total for s in rows],
        }
        return pa.table(columns, schema=STREAMS_SCHEMA)


def summary_line(record: ManifestRecord) -> str:
    """The one log line of a snapshot (no viewer data)."""
    return (
        f"snapshot {record.snapshot_id} {record.status}: "
        f"{record.channels_listed} channels, {record.channels_with_chatters} with chatters, "
        f"{record.channels_forbidden} not permitted, {record.channels_failed} failed, "
        f"{record.presence_observations:,} presence observations, "
        f"{record.requests} requests, {record.retries} retries, "
        f"{record.rate_limit_waits} rate-limit waits, {record.duration_seconds:.1f} s"
        + (f", {record.followers_channels} follower totals" if record.followers_status else "")
        + (
            f", chat {record.chat_status}: {record.activity_observations:,} activity "
            f"observations in {record.chat_channels_complete} complete channel windows"
            if record.chat_status
            else ""
        )
        + "".join(
            f"; {r['login']}'s token unusable: {r['reason']}"
            for r in record.chat_list_readers
            if r["state"] != "ok"
        )
    )
