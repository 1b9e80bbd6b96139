"""The chat model's figures, measured the way the public ones were, for `streamcensus calibrate`.

Every 5-minute tick of a period is generated; only aggregates are kept. Humans are the
accounts with a viewer, lurker or broadcaster role; bots are left out of "people" figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.chat.model import HUMAN_ROLES, ChatModel, Kind
from streamcensus.simulator.protocol import ChatRole

# Public figures the model is compared with (docs/calibration.md gives the sources).
WEEKLY_POSTING_SHARE = 0.5  # ~50% of logged-in users chat at least once a week
MESSAGES_PER_VIEWER_MINUTE = (0.04, 0.08)  # streamer-tool engagement benchmarks
MESSAGES_PER_CHATTER_MONTH = (100.0, 250.0)  # per channel community, chat-stats tools
PUBLIC: dict[str, object] = {
    "weekly_posting_share": WEEKLY_POSTING_SHARE,
    "messages_per_viewer_minute": MESSAGES_PER_VIEWER_MINUTE,
    "messages_per_chatter_month": MESSAGES_PER_CHATTER_MONTH,
}


@dataclass(frozen=True)
class ChatCalibration:
    """Chat figures over `ticks` consecutive 5-minute ticks."""

    ticks: int
    messages: int
    human_messages: int
    bot_message_share: float
    messages_per_viewer_minute: float  # human messages / (concurrent viewers x minutes)
    peak_messages_per_second: float  # busiest tick, rooms of `language`
    peak_language: str
    posting_share: float  # chat-list humans of the period who posted at least once
    window_posting_share: float  # chat-list humans of a tick who posted in its window
    messages_per_poster: float  # over the period
    messages_per_poster_channel_month: float  # per (poster, channel), scaled to 30 days
    top_decile_message_share: float  # messages of the 10% most active posters
    lurker_bot_messages: int  # always 0: lurker bots never post
    usernotices: int
    clearchats: int


def measure(model: ChatModel, first_tick: int, ticks: int, language: str = "fr") -> ChatCalibration:
    """Generate `ticks` ticks from `first_tick` and compute the figures."""
    world = model.world
    seen_humans: list[npt.NDArray[np.int64]] = []
    posters: list[npt.NDArray[np.int64]] = []
    pairs: list[npt.NDArray[np.int64]] = []
    window_shares: list[float] = []
    messages = human_messages = lurker_bot = notices = clears = 0
    viewer_minutes = 0.0
    peak = 0.0
    for tick in range(first_tick, first_tick + ticks):
        events = model.tick(tick)
        rooms = events.rooms
        human = np.isin(rooms.roles, HUMAN_ROLES)
        seen_humans.append(np.unique(rooms.account_ids[human]))
        msg = events.kind == Kind.PRIVMSG
        is_human = np.isin(events.role, HUMAN_ROLES)
        messages += int(msg.sum())
        human_msg = msg & is_human
        human_messages += int(human_msg.sum())
        lurker_bot += int((msg & (events.role == ChatRole.LURKER_BOT)).sum())
        notices += int((events.kind == Kind.USERNOTICE).sum())
        clears += int((events.kind == Kind.CLEARCHAT).sum())
        authors = events.account[human_msg]
        posters.append(authors)
        channel = rooms.channel_ids[events.room[human_msg]]
        pairs.append((channel << 32) | authors)
        present = int(human.sum())
        if present:
            window_shares.append(len(np.unique(pairs[-1])) / present)
        t = tick * model.tick_seconds
        viewers = sum(s.viewer_count for s in world.live_streams(float(t)))
        viewer_minutes += viewers * model.tick_seconds / 60.0
        in_lang = np.asarray([rooms.languages[r] == language for r in range(len(rooms.languages))])
        if len(in_lang):
            lang_msgs = int((msg & in_lang[events.room]).sum())
            peak = max(peak, lang_msgs / model.tick_seconds)
    all_seen = np.unique(np.concatenate(seen_humans)) if seen_humans else np.zeros(0, np.int64)
    authors_all = np.concatenate(posters) if posters else np.zeros(0, np.int64)
    per_poster = np.unique(authors_all, return_counts=True)[1]
    pair_counts = np.unique(np.concatenate(pairs), return_counts=True)[1] if pairs else per_poster
    days = ticks * model.tick_seconds / 86_400
    top = (
        np.sort(per_poster)[::-1][: max(1, len(per_poster) // 10)]
        if len(per_poster)
        else per_poster
    )
    return ChatCalibration(
        ticks=ticks,
        messages=messages,
        human_messages=human_messages,
        bot_message_share=round(1 - human_messages / messages, 4) if messages else 0.0,
        messages_per_viewer_minute=round(human_messages / viewer_minutes, 4)
        if viewer_minutes
        else 0.0,
        peak_messages_per_second=round(peak, 1),
        peak_language=language,
        posting_share=round(len(per_poster) / len(all_seen), 3) if len(all_seen) else 0.0,
        window_posting_share=round(float(np.mean(window_shares)), 4) if window_shares else 0.0,
        messages_per_poster=round(float(per_poster.mean()), 1) if len(per_poster) else 0.0,
        messages_per_poster_channel_month=round(float(pair_counts.mean()) * 30 / days, 1)
        if len(pair_counts) and days
        else 0.0,
        top_decile_message_share=round(float(top.sum() / per_poster.sum()), 3)
        if len(per_poster)
        else 0.0,
        lurker_bot_messages=lurker_bot,
        usernotices=notices,
        clearchats=clears,
    )
