"""The simulated population beside the public figures of Twitch and of its French community.

Each public figure is declared once in `PUBLIC_FIGURES` with its source; `measure_public`
computes the simulated counterpart the way the public one was measured, on the ground
truth of a `PopulationWorld`:

- concentration: shares of viewer-hours (Σ viewer_count × interval) held by the top
  100 / 1,000 / 10,000 channels, all languages, from the 10-minute polls of a period;
- French hours watched: viewer-hours per day of French channels, their average and peak
  concurrent viewers, and the record viewer count of one stream (the event evenings of a
  year, `model_events`, and the period's own peak);
- unique monthly chatters of the top French channels: chat lists polled every 30 minutes
  for 30 days (as TwitchOverlap did), distinct people per channel;
- daily rhythm: French live channels and viewers by local hour, the floor at night;
- broadcast length of small and large channels, from the schedule.

Everything stays in memory; only aggregates are returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from streamcensus.simulator.model_events import TICK
from streamcensus.simulator.model_schedule import TICKS_PER_DAY
from streamcensus.simulator.model_sessions import BLOCK_TICKS, MAX_TICKS
from streamcensus.simulator.population import LANG_CODES, LANG_UTC_OFFSET
from streamcensus.simulator.world import PopulationWorld

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

MONTH_DAYS = 30
MONTH_POLL_TICKS = 6  # TwitchOverlap read chat lists every 30 minutes
MONTHLY_CANDIDATES = 40  # channels of the language, by popularity, whose month is counted
RECORD_DAYS = 365  # the record is the year's
RECORD_STEP_TICKS = 3  # event evenings read every 15 minutes
SMALL_SIZE, LARGE_SIZE = 0.3, 0.6  # channel size (log-rank, 0..1) bounds of "small"/"large"


@dataclass(frozen=True, slots=True)
class PublicFigure:
    """A public figure the model is calibrated against, with its source."""

    key: str
    label: str
    value: float | tuple[float, ...]
    source: str
    unit: str = "count"  # how it is shown: count, share, hours, hour (a range for hours)


PUBLIC_FIGURES: tuple[PublicFigure, ...] = (
    PublicFigure(
        "top100_share",
        "share of hours watched, top 100 channels",
        0.20,
        "StreamElements/Rainmaker.gg, all languages, June 2023",
        "share",
    ),
    PublicFigure(
        "top1000_share",
        "share of hours watched, top 1,000 channels",
        0.46,
        "StreamElements/Rainmaker.gg, all languages, June 2023",
        "share",
    ),
    PublicFigure(
        "top10000_share",
        "share of hours watched, top 10,000 channels",
        0.76,
        "StreamElements/Rainmaker.gg, all languages, June 2023",
        "share",
    ),
    PublicFigure(
        "fr_viewer_hours_per_day",
        "French viewer-hours per day",
        3.3e6,
        "1.2 billion hours watched from France in 2022 (Twitch, French press, 2023)",
    ),
    PublicFigure(
        "fr_average_viewers",
        "French average concurrent viewers",
        140e3,
        "the same 1.2 billion hours over 8,760 hours",
    ),
    PublicFigure(
        "record_viewers",
        "record concurrent viewers of one French stream",
        1.0e6,
        "GP Explorer, Eleven All Stars, 2022: 1.0-1.16M (French press)",
    ),
    PublicFigure(
        "fr_monthly_chatters_top5",
        "unique monthly chatters, top 5 French channels",
        (280e3, 144e3, 104e3, 83e3, 82e3),
        "snoww/TwitchOverlap, June 2021 (chat lists every 30 minutes)",
    ),
    PublicFigure(
        "broadcast_hours_small",
        "broadcast length, small channels, hours",
        2.7,
        "Statista, 2023",
        "hours",
    ),
    PublicFigure(
        "broadcast_hours_large",
        "broadcast length, large channels, hours",
        4.3,
        "Statista, 2023",
        "hours",
    ),
    PublicFigure(
        "fr_peak_local_hour",
        "local hour of the evening peak",
        (18.0, 23.0),
        "TwitchTracker-based reports (Europe)",
        "hour",
    ),
    PublicFigure(
        "fr_trough_local_hour",
        "local hour of the daily low",
        (7.0, 9.0),
        "TwitchTracker-based reports (Europe)",
        "hour",
    ),
)
PUBLIC: dict[str, float | tuple[float, ...]] = {f.key: f.value for f in PUBLIC_FIGURES}


@dataclass
class PollAggregates:
    """What the 10-minute polls of a period add up (filled by `add`, read by `finish`)."""

    channels: int
    language: int  # index of the language studied (fr)
    polls: int = 0
    viewer_hours: F64 = field(default_factory=lambda: np.zeros(0))  # per channel
    by_hour_live: F64 = field(default_factory=lambda: np.zeros(24))  # Σ live channels per UTC hour
    by_hour_viewers: F64 = field(default_factory=lambda: np.zeros(24))
    by_hour_polls: F64 = field(default_factory=lambda: np.zeros(24))
    min_live: int = -1  # fewest live channels of the language at one poll
    min_viewers: int = -1
    peak_viewers: int = 0  # of the language, at one poll
    peak_stream: int = 0  # largest viewer_count of one stream, all languages

    def __post_init__(self) -> None:
        self.viewer_hours = np.zeros(self.channels)

    def add(self, world: PopulationWorld, t: float, interval: float) -> None:
        """Add the state at t, standing for `interval` seconds."""
        state = world.tick_state(t)
        lang = world.population.channels.lang
        counts = state.viewer_count
        self.viewer_hours += counts * (interval / 3600.0)
        mine = lang == self.language
        live = int(np.count_nonzero(state.is_live & mine))
        viewers = int(counts[mine].sum())
        hour = int(t // 3600) % 24
        self.by_hour_live[hour] += live
        self.by_hour_viewers[hour] += viewers
        self.by_hour_polls[hour] += 1
        self.min_live = live if self.min_live < 0 else min(self.min_live, live)
        self.min_viewers = viewers if self.min_viewers < 0 else min(self.min_viewers, viewers)
        self.peak_viewers = max(self.peak_viewers, viewers)
        self.peak_stream = max(self.peak_stream, int(counts.max(initial=0)))
        self.polls += 1


def top_shares(viewer_hours: F64, tops: tuple[int, ...] = (100, 1_000, 10_000)) -> list[float]:
    """Shares of the total held by the largest `tops` entries."""
    ordered = np.sort(viewer_hours)[::-1]
    total = float(ordered.sum())
    return [round(float(ordered[:k].sum()) / total, 3) if total else 0.0 for k in tops]


def monthly_chatters(
    world: PopulationWorld, start: float, language: str = "fr", days: int = MONTH_DAYS
) -> list[int]:
    """Distinct people seen in the chat lists of the language's most popular channels,
    polled every 30 minutes for `days` days from `start`; the largest counts first."""
    lang = LANG_CODES.index(language)
    ch = world.population.channels
    first_channel = int(ch.lang_start[lang])
    candidates = min(MONTHLY_CANDIDATES, int(ch.lang_start[lang + 1]) - first_channel)
    lo_tick = int(start // TICK)
    hi_tick = lo_tick + days * TICKS_PER_DAY
    sessions = world.sessions
    keys: list[I64] = []
    for block in range((lo_tick - MAX_TICKS) // BLOCK_TICKS, hi_tick // BLOCK_TICKS + 1):
        b = sessions.block(block)
        channel = b.channel.astype(np.int64) - first_channel
        keep = (channel >= 0) & (channel < candidates)
        first = np.maximum(b.first[keep].astype(np.int64) + b.first_tick, lo_tick)
        end = np.minimum(b.end[keep].astype(np.int64) + b.first_tick, hi_tick)
        poll = -(-first // MONTH_POLL_TICKS) * MONTH_POLL_TICKS  # first poll at or after
        seen = poll < end
        keys.append(np.unique((channel[keep][seen] << 32) | b.viewer[keep][seen].astype(np.int64)))
    if not keys:
        return []
    everyone = np.unique(np.concatenate(keys))
    counts = np.bincount(everyone >> 32, minlength=candidates)
    return [int(c) for c in np.sort(counts)[::-1]]


def broadcast_hours(world: PopulationWorld, first_day: int, days: int) -> tuple[float, float]:
    """Mean broadcast length (hours) of small and large channels over whole UTC days."""
    size = world.population.channels.size
    small, large = size < SMALL_SIZE, size >= LARGE_SIZE
    sums = np.zeros(2)
    counts = np.zeros(2)
    for day in range(first_day, first_day + days):
        bc = world.schedule.day(day)
        hours = (bc.end_tick - bc.first_tick) * (TICK / 3600.0)
        for i, group in enumerate((small, large)):
            pick = bc.on & group
            sums[i] += float(hours[pick].sum())
            counts[i] += int(pick.sum())
    means = np.divide(sums, np.maximum(counts, 1))
    return round(float(means[0]), 2), round(float(means[1]), 2)


def local_hours(agg: PollAggregates, language: str = "fr") -> tuple[F64, F64]:
    """Mean live channels and viewers of the language by local hour (0..23)."""
    offset = LANG_UTC_OFFSET[language]
    polls = np.maximum(agg.by_hour_polls, 1)
    live = np.roll(agg.by_hour_live / polls, offset)
    viewers = np.roll(agg.by_hour_viewers / polls, offset)
    return live, viewers


@dataclass(frozen=True)
class PublicCalibration:
    """The simulated counterparts of `PUBLIC_FIGURES` (keys alike), and the rhythm."""

    scale: str
    seed: int
    days: float
    channels: int
    top100_share: float
    top1000_share: float
    top10000_share: float
    fr_viewer_hours_per_day: float
    fr_average_viewers: float
    fr_peak_viewers: int  # French channels together, at the busiest poll
    record_viewers: int  # one stream: the period's peak and the year's event evenings
    fr_monthly_chatters_top5: tuple[int, ...]
    broadcast_hours_small: float
    broadcast_hours_large: float
    fr_peak_local_hour: int  # of viewers
    fr_trough_local_hour: int
    fr_min_live_channels: int  # fewest French channels live at one poll
    fr_min_viewers: int
    fr_night_floor_share: float  # viewers at the lowest local hour / at the peak hour
    fr_live_by_local_hour: tuple[float, ...]
    fr_viewers_by_local_hour: tuple[float, ...]


def finish(
    world: PopulationWorld,
    agg: PollAggregates,
    days: float,
    first_day: int,
    monthly: list[int],
    record: int,
) -> PublicCalibration:
    """The figures from the polls of a period, the month's chat lists and the record."""
    top100, top1000, top10000 = top_shares(agg.viewer_hours)
    lang = world.population.channels.lang == agg.language
    fr_hours = float(agg.viewer_hours[lang].sum()) / days if days else 0.0
    live, viewers = local_hours(agg, LANG_CODES[agg.language])
    small, large = broadcast_hours(world, first_day, max(1, int(days)))
    return PublicCalibration(
        scale=world.scale,
        seed=world.seed,
        days=days,
        channels=world.n_channels,
        top100_share=top100,
        top1000_share=top1000,
        top10000_share=top10000,
        fr_viewer_hours_per_day=round(fr_hours),
        fr_average_viewers=round(fr_hours / 24.0),
        fr_peak_viewers=agg.peak_viewers,
        record_viewers=max(record, agg.peak_stream),
        fr_monthly_chatters_top5=tuple(monthly[:5]),
        broadcast_hours_small=small,
        broadcast_hours_large=large,
        fr_peak_local_hour=int(np.argmax(viewers)),
        fr_trough_local_hour=int(np.argmin(viewers)),
        fr_min_live_channels=max(agg.min_live, 0),
        fr_min_viewers=max(agg.min_viewers, 0),
        fr_night_floor_share=round(float(viewers.min() / max(viewers.max(), 1.0)), 3),
        fr_live_by_local_hour=tuple(round(float(x), 1) for x in live),
        fr_viewers_by_local_hour=tuple(round(float(x)) for x in viewers),
    )


def record_viewers(
    world: PopulationWorld, start: float, language: str = "fr", days: int = RECORD_DAYS
) -> int:
    """The largest viewer count of one stream on the language's event evenings (the
    model's only moments far above an ordinary evening) of `days` from start, read every
    15 minutes."""
    lang = LANG_CODES.index(language)
    best = 0
    for event in world.schedule.events.between(int(start // 86_400), days):
        if event.language != lang:
            continue
        for tick in range(event.first_tick, event.end_tick, RECORD_STEP_TICKS):
            state = world.tick_state(tick * TICK)
            best = max(best, int(state.viewer_count[event.channel]))
    return best


def shown(value: float | tuple[float, ...], unit: str = "count") -> str:
    """A figure as the report prints it (`unit` as in `PublicFigure`)."""
    if isinstance(value, tuple):
        sep = "-" if unit == "hour" else ", "
        return sep.join(shown(v, unit) for v in value)
    if unit == "share":
        return f"{value:.0%}"
    if unit == "hours":
        return f"{value:.1f} h"
    if unit == "hour":
        return f"{value:02.0f}:00"
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:,.0f}"


def public_report_lines(result: PublicCalibration) -> list[str]:
    """Each public figure beside the simulated one."""
    simulated: dict[str, float | tuple[float, ...]] = {
        "top100_share": result.top100_share,
        "top1000_share": result.top1000_share,
        "top10000_share": result.top10000_share,
        "fr_viewer_hours_per_day": result.fr_viewer_hours_per_day,
        "fr_average_viewers": result.fr_average_viewers,
        "record_viewers": float(result.record_viewers),
        "fr_monthly_chatters_top5": tuple(float(x) for x in result.fr_monthly_chatters_top5),
        "broadcast_hours_small": result.broadcast_hours_small,
        "broadcast_hours_large": result.broadcast_hours_large,
        "fr_peak_local_hour": float(result.fr_peak_local_hour),
        "fr_trough_local_hour": float(result.fr_trough_local_hour),
    }
    lines = [
        f"public figures, simulated {result.scale} (seed {result.seed}), {result.days:g} days "
        f"of 10-minute polls, {result.channels:,} channels",
        f"{'figure':<48}{'simulated':>26}{'public':>26}",
    ]
    for fig in PUBLIC_FIGURES:
        mine, theirs = shown(simulated[fig.key], fig.unit), shown(fig.value, fig.unit)
        lines.append(f"{fig.label:<48}{mine:>26}{theirs:>26}")
    peak_low = f"{shown(result.fr_peak_viewers)} / {shown(result.fr_min_viewers)}"
    lines.append(f"{'French peak / lowest concurrent viewers':<48}{peak_low:>26}")
    lines.append(
        f"{'fewest French channels live at once':<48}{result.fr_min_live_channels:>26}"
        f"{'some, all night':>26}"
    )
    lines.append(
        f"{'viewers at the low hour / at the peak hour':<48}{result.fr_night_floor_share:>26}"
    )
    return lines
