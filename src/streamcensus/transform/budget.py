"""The privacy budget: ε spent on one person by the figures published about one day.

Each family of published figures (one kind of figure: a chat's people on a day, the people
two chats share, ...) gets noise of one scale (`noise.calibrate(ε)`, ε per figure). A person
moves each figure of a family by at most 1 and is in at most `figures` of them, so the
family's vector of figures moves by at most `figures` in L1 distance: the family spends
OpenDP's privacy map of that noise at that distance (`noise.family_loss`), which is
`figures` × ε (basic composition, the sum). The budget of a day is the sum over families.

Families bounded by the contribution bound (a person counts in at most `contribution_bound`
chats per day and signal, `bounded_sessions`) or by construction (24 hours in a day, one
bucket per distribution) have a worst case that does not depend on the person; the
per-snapshot series count a person once per snapshot she is in, so theirs grows with her
time in chat. docs/privacy.md states both, from `families` (a test checks the page).
"""

from __future__ import annotations

from dataclasses import dataclass

from streamcensus.transform.context import RunParams
from streamcensus.transform.exposure import MAX_POINTS
from streamcensus.transform.noise import calibrate, family_loss


@dataclass(frozen=True)
class Family:
    """Figures of one kind: how many one person can be in, per day and signal."""

    name: str  # as docs/privacy.md names it
    kinds: str  # the figure identities (`figure_id` kinds) of the family
    figures: int  # the most a person is in, per day and signal (worst case)
    rule: str  # why at most that many
    published_days: int = 1  # a 7-day figure is published again on each of the 7 days


def bounded_families(params: RunParams) -> list[Family]:
    """Families whose worst case per person and day does not depend on her behaviour."""
    c = params.contribution_bound
    pairs = c * (c - 1) // 2
    return [
        Family("a chat's people on a day", "channel_people", c, "contribution bound"),
        Family("returning people of a chat", "channel_returning", c, "contribution bound"),
        Family("average people per snapshot", "channel_avg_people", c, "contribution bound"),
        Family("a chat's people over 7 days", "window_people", c, "contribution bound", 7),
        Family("people two chats share, 1 day", "pair_shared", pairs, "pairs of C chats"),
        Family("people two chats share, 7 days", "pair_shared", pairs, "pairs of C chats", 7),
        Family("sessions by length (habits)", "habits", c, "C sessions per person"),
        Family("people by hour (habits)", "habits", 24, "hours of a day"),
        Family("the day's people (habits)", "habits_people", 1, "one figure"),
        Family("people by sessions / channels (habits)", "habits", 2, "one bucket each"),
        Family("people by days active (habits)", "habits", 1, "one bucket", 7),
        Family("a chat's people over 30 days", "window_people", c, "contribution bound", 30),
        Family("a game's people on a day", "game_window_people", c, "C games per person"),
        Family("a game's people, 7 days", "game_window_people", c, "C games per person", 7),
        Family("a game's people, 30 days", "game_window_people", c, "C games per person", 30),
        Family("exposure population", "exposure_population", 2, "1- and 7-day"),
        Family("exposure, unique by channels / hours", "exposure_unique", 5, "census measures"),
        Family("exposure sample sizes", "exposure_sample", 2 * MAX_POINTS, "p = 1..8, 2 windows"),
        Family("exposure, unique in the sample", "exposure_unique", 2 * MAX_POINTS, "p = 1..8"),
        Family("presence rows and sessions (health)", "observations_*", 2, "rows calibrated"),
    ]


def snapshot_families(params: RunParams) -> list[Family]:
    """Families counted once per snapshot a person is in: the worst case is her whole day
    in as many chats as a person can be in at once (fewer than `bot_min_chats`)."""
    snapshots = 24 * 60 // params.interval_minutes
    chats = params.bot_min_chats - 1
    return [
        Family("a chat's people at a snapshot", "chat_people", snapshots * chats, "per snapshot"),
        Family("community people at a snapshot", "community_chatters", snapshots, "per snapshot"),
        Family("a game's people at a snapshot", "game_chatters", snapshots * chats, "per game"),
        Family("a broadcast's peak and average", "stream_peak, stream_avg", 2 * chats, "2 each"),
    ]


def epsilon(params: RunParams, families: list[Family], *, all_days: bool = False) -> float:
    """ε of those families for one person and day under basic composition; with `all_days`,
    ε spent on her day by all publications (a 7-day figure is published on 7 days, a
    30-day one on 30)."""
    scale = calibrate(params.epsilon)
    total = 0.0
    for family in families:
        times = family.published_days if all_days else 1
        total += times * family_loss(scale, family.figures)
    return total


def typical_snapshot_figures(snapshots: int, chats: int = 1) -> int:
    """Per-snapshot figures of a person in `chats` chats (of one game) for `snapshots`
    snapshots and one broadcast per chat: her chat curves, the community, the game, and
    each broadcast's peak and average."""
    return snapshots * chats + snapshots + snapshots + 2 * chats
