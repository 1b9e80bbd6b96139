"""What the connections report, turned into channel states, counts and window entries.

`Reception` is the `Sink` of every connection of a `ChatListener`: JOIN and PART echoes open
and close a channel's joined interval, NOTICEs that refuse a JOIN mark the channel suspended
(retried after `suspended_retry`, not every second), PRIVMSG lines go to the window book
under their author's pseudonym, USERNOTICE and CLEARCHAT are counted per room, and lines that
cannot be read are counted and charged to their room (or to every room of their connection),
whose window is then partial. A closed connection ends the joined intervals of its channels
at the last moment it was known to be read, and its channels are joined again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from streamcensus.collect.chat.channels import IDLE, JOINED, JOINING, PARTING, WANTED, ChannelState
from streamcensus.collect.chat.connection import ChatConnection
from streamcensus.collect.chat.joiner import Joiner
from streamcensus.collect.chat.lines import (
    KNOWN_COMMANDS,
    Line,
    Privmsg,
    login_of,
    room_of_broken,
    tag_value,
)
from streamcensus.collect.chat.state import ListenerState
from streamcensus.collect.chat.windows import window_end_ms

log = logging.getLogger("streamcensus.collect.chat")

# NOTICE msg-ids that answer a JOIN of a channel that cannot be joined (Twitch's IRC reference)
JOIN_REFUSALS = frozenset(
    {"msg_channel_suspended", "msg_banned", "tos_ban", "msg_channel_blocked", "invalid_user"}
)


class Reception:
    """Handles what a listener's connections report (see the module docstring)."""

    def __init__(self, state: ListenerState, joiner: Joiner) -> None:
        self.state = state
        self.joiner = joiner
        self.channels = state.channels
        self.by_id = state.by_id
        self.counters = state.counters
        self.book = state.book
        self.clock = state.clock
        self.limits = state.limits

    def on_ready(self, conn: ChatConnection) -> None:
        self.counters.connections += 1
        log.debug("chat connection %d ready (%s)", conn.index, self.state.url)
        self.joiner.progress()

    def on_privmsg(self, conn: ChatConnection, msg: Privmsg) -> None:
        if self.book.door.is_optout_viewer(msg.user_id, msg.login):
            return  # an opted-out viewer's line counts nowhere, not even as a line read (P4)
        self.counters.messages += 1
        seen = msg.ts_ms / 1000
        if seen > conn.confirmed_until:
            conn.confirmed_until = seen
        ch = self.by_id.get(msg.room_id)
        if ch is None:
            self.counters.unexpected_messages += 1
            return
        if seen < ch.first_read and ch.conn is conn:
            # the server joined us before its echo was read: this message proves it (a line of
            # the room read on this connection since the JOIN belongs to this membership)
            ch.first_read = seen
            if ch.joined_at is not None and seen < ch.joined_at:
                ch.joined_at = seen
        self.book.message(msg.room_id, msg.ts_ms, msg.user_id, msg.login)

    def on_line(self, conn: ChatConnection, line: Line) -> None:
        command = line.command
        if command == "JOIN" and login_of(line.source) == conn.nick and line.params:
            self._joined(conn, line.params[0].lstrip("#").lower())
        elif command == "PART" and login_of(line.source) == conn.nick and line.params:
            self._parted(conn, line.params[0].lstrip("#").lower())
        elif command == "NOTICE":
            self._notice(conn, line)
        elif command in ("USERNOTICE", "CLEARCHAT"):
            self._room_event(conn, line, "usernotices" if command == "USERNOTICE" else "clearchats")
        elif command == "PRIVMSG":  # the fast path found no room, time or author in it
            self._lost(conn, tag_value(line, "room-id"), line)
        elif command == "421":
            log.warning(
                "the chat server did not know a command the listener sent: %s", line.params[1:2]
            )
        elif command not in KNOWN_COMMANDS:
            if tag_value(line, "room-id") is not None:  # a line cut in its command word
                self._lost(conn, tag_value(line, "room-id"), line)
            else:
                self.counters.unknown_commands += 1

    def on_malformed(self, conn: ChatConnection, raw: bytes) -> None:
        self.counters.malformed_lines += 1
        self._charge_lost(conn, room_of_broken(raw))

    def on_join_ack(self, conn: ChatConnection, logins: Sequence[str]) -> None:
        loop_now = asyncio.get_running_loop().time()
        for login in logins:
            ch = self.channels.get(login)
            if ch is None or ch.state != JOINING or ch.conn is not conn:
                continue
            if self.state.barrier:  # the echo would have come before the PONG
                self.join_failed(ch, "no answer to JOIN")
            else:
                ch.echo_deadline = loop_now + self.limits.join_timeout
        self.joiner.progress()

    def on_closed(self, conn: ChatConnection, reason: str) -> None:
        if conn in self.state.connections:
            self.state.connections.remove(conn)
        now = self.clock.time()
        unacked = set(conn.unacked_logins())
        if self.state.stopping:
            pass
        elif conn.failed_to_register:
            self.counters.connection_failures += 1
            self.state.last_error = reason
            self.joiner.connection_failed(now)
        elif conn.reconnect_requested:
            self.counters.reconnects += 1
        else:
            self.counters.dropped += 1
            self.state.last_error = reason
            self.joiner.connection_failed(now)
        if not self.state.stopping:
            log.info(
                "chat connection %d closed (%s); %d channels to rejoin",
                conn.index,
                reason,
                len(conn.channels),
            )
        for login in list(conn.channels):
            ch = self.channels.get(login)
            if ch is None or ch.conn is not conn:
                continue
            if ch.state in (JOINED, PARTING):
                self._end_interval(ch, max(conn.confirmed_until, ch.joined_at or 0.0))
            suspect = ch.state == JOINING and login in unacked and not conn.reconnect_requested
            ch.conn = None
            ch.echo_deadline = None
            if suspect:
                # This JOIN may be what got the connection dropped (Twitch drops a connection
                # over its join limit). The first time, the channel is joined again at once,
                # like the rest of its batch; a second time in a row, it waits its turn.
                self.join_failed(ch, "connection dropped while joining", backoff=ch.failures >= 1)
            else:
                ch.state = WANTED if ch.listed else IDLE
                ch.not_before = max(ch.not_before, now)
        conn.channels.clear()
        self.joiner.progress()

    # -- channel events ----------------------------------------------------------------

    def _joined(self, conn: ChatConnection, login: str) -> None:
        ch = self.channels.get(login)
        if ch is None or ch.conn is not conn or ch.state != JOINING:
            return
        self.counters.joins += 1
        ch.state = JOINED
        ch.joined_at = min(self.clock.time(), ch.first_read)
        ch.failures = 0
        ch.suspended = False
        ch.echo_deadline = None
        self.joiner.joined_ok()
        if not ch.listed:
            self.joiner.wake()  # unlisted while joining: part it now

    def _parted(self, conn: ChatConnection, login: str) -> None:
        ch = self.channels.get(login)
        if ch is None or ch.conn is not conn or ch.state != PARTING:
            return
        self.counters.parts += 1
        self._end_interval(ch, self.clock.time())
        conn.channels.discard(login)
        ch.conn = None
        ch.state = WANTED if ch.listed else IDLE
        self.joiner.wake()

    def _end_interval(self, ch: ChannelState, at: float) -> None:
        if ch.joined_at is not None:
            ch.intervals.append((ch.joined_at, max(at, ch.joined_at)))
        ch.joined_at = None

    def join_failed(self, ch: ChannelState, why: str, *, backoff: bool = True) -> None:
        """A JOIN that did not succeed: counted; retried later (`refused_delay`), or at once."""
        self.counters.join_failures += 1
        ch.failures += 1
        if ch.conn is not None:
            ch.conn.channels.discard(ch.login)
        ch.conn = None
        ch.echo_deadline = None
        ch.state = WANTED if ch.listed else IDLE
        now = self.clock.time()
        wait = self.limits.refused_delay(ch.failures) if backoff else 0.0
        ch.not_before = max(ch.not_before, now + wait)
        log.info("chat: could not join #%s (%s); retry in %.0f s", ch.login, why, wait)

    def _notice(self, conn: ChatConnection, line: Line) -> None:
        self.counters.notices += 1
        target = line.params[0].lstrip("#").lower() if line.params else ""
        ch = self.channels.get(target)
        if ch is None:
            return
        self.book.room_event(ch.channel_id, window_end_ms(int(self.clock.time() * 1000)), "notices")
        msg_id = tag_value(line, "msg-id") or ""
        if msg_id in JOIN_REFUSALS and ch.state == JOINING and ch.conn is conn:
            self.counters.suspended += 1
            conn.channels.discard(ch.login)
            ch.conn = None
            ch.echo_deadline = None
            ch.suspended = True
            ch.state = WANTED if ch.listed else IDLE
            ch.not_before = self.clock.time() + self.limits.suspended_retry
            log.info(
                "chat: #%s cannot be joined (%s); retry in %.0f s",
                ch.login,
                msg_id,
                self.limits.suspended_retry,
            )

    def _room_event(self, conn: ChatConnection, line: Line, kind: str) -> None:
        room = tag_value(line, "room-id")
        ts = tag_value(line, "tmi-sent-ts")
        if room is None or ts is None or not ts.isdigit():
            self._lost(conn, room, line)
            return
        setattr(self.counters, kind, getattr(self.counters, kind) + 1)
        ts_ms = int(ts)
        if ts_ms / 1000 > conn.confirmed_until:
            conn.confirmed_until = ts_ms / 1000
        if room in self.by_id:
            self.book.room_event(room, window_end_ms(ts_ms), kind)

    def _lost(self, conn: ChatConnection, room: str | None, line: Line) -> None:
        """A line that is the remains of a message: counted as malformed, charged to its room."""
        del line
        self.counters.malformed_lines += 1
        self._charge_lost(conn, room)

    def _charge_lost(self, conn: ChatConnection, room: str | None) -> None:
        """Charge a lost line to its room, else to every room of its connection: their
        window (the one of the last line read on the connection) is then partial."""
        end_ms = window_end_ms(int(conn.confirmed_until * 1000))
        if room is not None and room in self.by_id:
            self.book.room_event(room, end_ms, "malformed")
            return
        for login in conn.channels:
            ch = self.channels.get(login)
            if ch is not None and ch.state in (JOINED, PARTING):
                self.book.room_event(ch.channel_id, end_ms, "malformed")
