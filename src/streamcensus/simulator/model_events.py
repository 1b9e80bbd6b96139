"""Special events: the few evenings a year when one stream gathers a whole community.

French Twitch's records (GP Explorer, Eleven All Stars: about a million concurrent viewers
in 2022) are single events hosted by a top streamer, far above any ordinary evening. The
model gives each language a calendar of such evenings: some Saturdays (one in
`SATURDAY_ODDS`), drawn by a hash of (seed, language, day) so any day is answered without
the rest of the year. On an event evening the host broadcasts from about 19:00 local for
four to six hours (`model_schedule`), more people than usual watch (`EXTRA_SESSIONS`), a
share of the sessions of its language that start meanwhile go to it and last longer
(`model_sessions`), and its viewer count counts many more people per chatter
(`VIEWER_FACTOR`: most of an event's audience never opens the chat).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from streamcensus.simulator.model_random import Purpose, mix, uniform
from streamcensus.simulator.names import CATEGORIES
from streamcensus.simulator.population import LANG_CODES, LANG_UTC_OFFSET, Channels

DAY = 86_400
TICK = 300  # the simulated world changes every 5 minutes (declared here, used by the models)
SATURDAY_ODDS = 6  # one Saturday in six has an event, per language: about 9 a year
HOSTS = 10  # hosted by one of the language's top channels
EXTRA_SESSIONS = 0.5  # more sessions of the language during the event
VIEWER_FACTOR = 2.5  # viewer_count per chatter, relative to the host's usual ratio
EVENT_MEDIAN_MINUTES = 70.0  # a session that joins the event stays longer

# What an event is (its label) and the category it streams in.
KINDS: tuple[tuple[str, str], ...] = (
    ("charity race", "Just Chatting"),
    ("all-stars football match", "Sports"),
    ("esport final", "League of Legends"),
    ("awards night", "Just Chatting"),
    ("charity marathon", "Just Chatting"),
)
_CATEGORY = {c.name: i for i, c in enumerate(CATEGORIES)}


@dataclass(frozen=True, slots=True)
class Event:
    """One event evening."""

    day: int  # UTC day number of its start
    language: int
    channel: int  # the host's channel index
    start: float  # epoch seconds
    end: float
    reach: float  # share of its language's sessions starting meanwhile that join it
    label: str
    game: int  # category index

    @property
    def first_tick(self) -> int:
        """First tick at which the event is live."""
        return int(np.ceil(self.start / TICK))

    @property
    def end_tick(self) -> int:
        """First tick at which it is over."""
        return int(np.ceil(self.end / TICK))


class Events:
    """The event calendar of a population, by UTC day."""

    def __init__(self, seed: int, channels: Channels) -> None:
        self.seed = seed
        self.channels = channels

    def on_day(self, day: int) -> list[Event]:
        """The events starting on a UTC day (at most one per language)."""
        if (day + 3) % 7 != 5:  # 1970-01-01 was a Thursday; Saturdays only
            return []
        ch = self.channels
        out: list[Event] = []
        for lang in range(len(LANG_CODES)):
            lo, hi = int(ch.lang_start[lang]), int(ch.lang_start[lang + 1])
            if hi - lo < HOSTS:
                continue
            h = mix(self.seed, Purpose.EVENTS, np.arange(6) + 10 * lang, day)
            u = uniform(h)
            if u[0] * SATURDAY_ODDS >= 1.0:
                continue
            label, game = KINDS[int(u[1] * len(KINDS))]
            local_start = 18.5 + 1.5 * float(u[2])
            start = day * DAY + (local_start - LANG_UTC_OFFSET[LANG_CODES[lang]]) * 3600.0
            hours = 4.0 + 2.0 * float(u[3])
            out.append(
                Event(
                    day=day,
                    language=lang,
                    channel=lo + int(u[4] * HOSTS),
                    start=float(np.floor(start)),
                    end=float(np.floor(start + hours * 3600.0)),
                    reach=0.2 + 0.2 * float(u[5]),
                    label=label,
                    game=_CATEGORY[game],
                )
            )
        return out

    def between(self, first_day: int, days: int) -> list[Event]:
        """Every event starting from `first_day` for `days` days, by start."""
        found = [e for day in range(first_day, first_day + days) for e in self.on_day(day)]
        return sorted(found, key=lambda e: (e.start, e.language))

    def live_at(self, tick: int) -> list[Event]:
        """The events live at a tick (started on its UTC day or the day before)."""
        day = tick * TICK // DAY
        return [
            e for d in (day - 1, day) for e in self.on_day(d) if e.first_tick <= tick < e.end_tick
        ]
