"""The privacy budget: ε spent on one person by the figures published about one day.

Each family of published figures (one kind of figure: a chat's people on a day, the people
two chats share, ...) gets noise of one scale (`noise.calibrate(ε, moved)`, ε per figure
for figures a person moves by up to `moved`). A person is in at most `figures` of them, so
the family's vector of figures moves by at most `figures` × `moved` in L1 distance: the
family spends OpenDP's privacy map of that noise at that distance (`noise.family_loss`),
which is `figures` × ε (basic composition, the sum). The budget of a day is the sum over
families.

Every family is bounded whatever the person does: by the contribution bound (a person
counts in at most `contribution_bound` chats per day and signal, `bounded_sessions`), or by
construction (24 hours in a day, one bucket per distribution). The people series that
used to be published per snapshot (a chat's curve, the community's and a game's people)
are published per `protect.SERIES_MINUTES` bucket as the bucket's average per snapshot: a
person moves a bucket by at most 1, so a day of them by at most its buckets, per chat she
counts in. docs/privacy.md states both tables from `bounded_families` and
`series_families` (a test checks the page).
"""

from __future__ import annotations

from dataclasses import dataclass

from streamcensus.transform.context import RunParams
from streamcensus.transform.exposure import MAX_POINTS
from streamcensus.transform.noise import calibrate, family_loss
from streamcensus.transform.protect import SERIES_MINUTES, unicity_sensitivity


@dataclass(frozen=True)
class Family:
    """Figures of one kind: how many one person can be in, per day and signal."""

    name: str  # as docs/privacy.md names it
    kinds: str  # the figure identities (`figure_id` kinds) of the family
    figures: int  # the most a person is in, per day and signal (worst case)
    rule: str  # why at most that many
    published_days: int = 1  # a 7-day figure is published again on each of the 7 days
    moved: int = 1  # how much she moves one figure (its noise is calibrated for that)


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
        Family(
            "exposure sample sizes",
            "exposure_sample",
            2 * MAX_POINTS,
            "p = 1..8, 2 windows",
            moved=unicity_sensitivity(params),
        ),
        Family(
            "exposure, unique in the sample",
            "exposure_unique",
            2 * MAX_POINTS,
            "p = 1..8",
            moved=unicity_sensitivity(params),
        ),
        Family("presence rows and sessions (health)", "observations_*", 2, "rows calibrated"),
    ]


def series_buckets() -> int:
    """Buckets of a day in each people series (24 at one hour)."""
    return 24 * 60 // SERIES_MINUTES


def series_families(params: RunParams) -> list[Family]:
    """The people series, one figure per bucket of `SERIES_MINUTES`: the bucket's average
    people per snapshot, which a person moves by at most 1. Worst case: present in every
    bucket of the day, in as many chats (or games) as she counts in."""
    buckets = series_buckets()
    c = params.contribution_bound
    return [
        Family("a chat's people by hour", "chat_hour_people", buckets * c, "hours × C chats"),
        Family("community people by hour", "community_hour_people", buckets, "hours"),
        Family("a game's people by hour", "game_hour_people", buckets * c, "hours × C games"),
        Family("a broadcast's peak and average", "none", 0, "from the chat's hours"),
    ]


def epsilon(params: RunParams, families: list[Family], *, all_days: bool = False) -> float:
    """ε of those families for one person and day under basic composition; with `all_days`,
    ε spent on her day by all publications (a 7-day figure is published on 7 days, a
    30-day one on 30)."""
    total = 0.0
    for family in families:
        times = family.published_days if all_days else 1
        total += times * loss(params, family)
    return total


def loss(params: RunParams, family: Family) -> float:
    """ε a family spends on one person and day: OpenDP's map of its noise at the most she
    can move the family's figures (L1)."""
    scale = calibrate(params.epsilon, family.moved)
    return family_loss(scale, family.figures * family.moved)


def typical_series_figures(hours: int, chats: int = 1) -> int:
    """How far a person present for `hours` whole hours in `chats` chats (each of its own
    game) moves the people series (L1): each chat's hours, the community's, each game's;
    a broadcast's figures come from the chat's and add nothing."""
    buckets = hours * 60 // SERIES_MINUTES
    return buckets * chats + buckets + buckets * chats
