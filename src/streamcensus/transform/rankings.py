"""The `ranking_chatters` model: people in a chat (or a game's chats) over 1, 7 and 30 days.

For each run day, window (`WINDOWS`: the day, the 7 and the 30 days ending on it) and
presence signal, the distinct people seen in each channel's chat, and in the chats of each
game, bots excluded the way every people count excludes them (`int_bots`: an account
flagged a bot on a day is not counted for that day). A person is counted in a game when one
of their viewing sessions overlaps the span (first to last snapshot of the day) in which a
channel streamed the game (`game_channel_day`): a channel that went back and forth between
two games counts its chat for both over the span between.

One pass over the 30 days: each (channel, person) pair keeps its most recent day in the
window, and the pair counts in every window that reaches that day, within the contribution
bound: in each window a person counts in her first `contribution_bound` chats, and her
first `contribution_bound` games, by a keyed draw (the draw `bounded_sessions` ranks chats
by, so a chat's figures here are those the channel page and the overlap tables publish).
This is a people count,
so it is published the way `transform/protect.py` publishes them (P3): the exact counts the
query gives never leave this module. Each figure gets the seeded discrete Laplace noise of
its identity (`noise.py`), then k is applied to the noisy value (null under k). A channel's
figure of the day is the same figure as `channel_day_presence.unique_chatters`
(`channel_people`, same identity, same value); its 7 and 30 days are `window_people`, the
identity `audience_overlap` gives a chat's people in a period (same value wherever shown);
a game's are `game_window_people`. The changes against the previous period are computed
from these published values only (`rankings.sql`).

A Python model, not a `.sql` one, so that its exact counts are protected before they are
stored whatever the engine (the query runs on DuckDB or Spark through `Queries`).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from streamcensus.transform.context import RunContext
from streamcensus.transform.engines import Queries
from streamcensus.transform.noise import FigureNoise, figure_id

NAME = "ranking_chatters"
INPUTS = (
    "viewing_sessions",
    "int_bots",
    "game_channel_day",
    "curated_files",
    "calendar",
    "run_days",
    "run_params",
)
GRAIN = "one row per day, window_days (1, 7, 30), signal, kind and subject_id"
WINDOWS = (1, 7, 30)
CHANNELS = "channels"
GAMES = "games"
KINDS = (CHANNELS, GAMES)
# the identity kind of each figure (noise.figure_id): shared with the models that publish
# the same count, so a figure reads the same wherever it is shown
DAY_FIGURE = "channel_people"  # channel_day_presence: (day, channel_id, signal)
WINDOW_FIGURE = "window_people"  # audience_overlap: (day, window_days, signal, channel)
GAME_FIGURE = "game_window_people"  # (day, window_days, signal, game_id)

SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("window_days", pa.int32()),
        pa.field("signal", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("subject_id", pa.string()),
        pa.field("chatters", pa.int64()),  # people, noisy; null under k
        pa.field("days_covered", pa.int32()),  # days of the window with presence kept
        pa.field("complete", pa.bool_()),  # days_covered = window_days
    ]
)

_LONGEST = max(WINDOWS)

# DuckDB dialect, portable to Spark SQL (the engines transpile it); `{ages}` is one count
# per window of the pairs whose most recent day is that young.
_PEOPLE_SQL = """
with days as (
    select day, day_number from calendar
),
today as (
    select day, day_number from calendar where day in (select day from run_days)
),
params as (
    select contribution_bound, contribution_salt from run_params
),
sessions as (
    select
        today.day as run_day,
        today.day_number - days.day_number as age,
        s.day,
        s.signal,
        s.channel_id,
        s.viewer,
        s.first_seen,
        s.last_seen
    from viewing_sessions as s
    inner join days on s.day = days.day
    inner join today
        on days.day_number <= today.day_number and days.day_number > today.day_number - {longest}
    where not exists (
        select 1 from int_bots as bots
        where bots.day = s.day and bots.viewer = s.viewer and bots.is_bot
    )
),
channel_people as (
    select
        sessions.run_day,
        sessions.signal,
        sessions.channel_id as subject_id,
        sessions.viewer,
        min(sessions.age) as age
    from sessions
    group by sessions.run_day, sessions.signal, sessions.channel_id, sessions.viewer
),
game_people as (
    select
        sessions.run_day,
        sessions.signal,
        played.game_id as subject_id,
        sessions.viewer,
        min(sessions.age) as age
    from sessions
    inner join game_channel_day as played
        on
            sessions.day = played.day
            and sessions.channel_id = played.channel_id
            and sessions.first_seen <= played.last_ts
            and sessions.last_seen >= played.first_ts
    group by sessions.run_day, sessions.signal, played.game_id, sessions.viewer
),
people as materialized (
    select 'channels' as kind, run_day, signal, subject_id, viewer, age from channel_people
    union all
    select 'games' as kind, run_day, signal, subject_id, viewer, age from game_people
),
crowded as materialized (
    select people.kind, people.run_day, people.signal, people.viewer
    from people
    cross join params
    group by people.kind, people.run_day, people.signal, people.viewer, params.contribution_bound
    having count(*) > params.contribution_bound
),
drawn as (
    select
        people.*,
        md5(
            concat(params.contribution_salt,
                case when people.kind = 'games' then '|game|' else '|' end,
                people.subject_id, '|', cast(people.viewer as varchar))
        ) as draw
    from people
    cross join params
    where exists (
        select 1 from crowded
        where
            crowded.kind = people.kind and crowded.run_day = people.run_day
            and crowded.signal = people.signal and crowded.viewer = people.viewer
    )
),
ranked as (
    select drawn.kind, drawn.run_day, drawn.signal, drawn.subject_id, drawn.age, {ranks}
    from drawn
    union all
    select people.kind, people.run_day, people.signal, people.subject_id, people.age, {firsts}
    from people
    where not exists (
        select 1 from crowded
        where
            crowded.kind = people.kind and crowded.run_day = people.run_day
            and crowded.signal = people.signal and crowded.viewer = people.viewer
    )
)
select ranked.run_day as day, ranked.signal, ranked.kind, ranked.subject_id, {ages}
from ranked
cross join params
group by
    ranked.run_day, ranked.signal, ranked.kind, ranked.subject_id, params.contribution_bound
"""

_COVERAGE_SQL = """
with presence_days as (
    select distinct day from curated_files where model = 'viewing_sessions' and not retired
),
days as (
    select day, day_number from calendar
),
today as (
    select day, day_number from calendar where day in (select day from run_days)
)
select today.day, {covered}
from today
inner join days
    on days.day_number <= today.day_number and days.day_number > today.day_number - {longest}
left join presence_days on days.day = presence_days.day
group by today.day
"""


def _ages(template: str) -> str:
    return ", ".join(template.format(w=w, w1=w - 1) for w in WINDOWS)


def people_sql() -> str:
    """The exact people per run day, signal, kind and subject, one column per window: in
    each window a person counts in her first `contribution_bound` chats (and games) of
    the window by the keyed draw `bounded_sessions` ranks chats by, so a channel's figure
    is the one `channel_day_presence` (1 day) and `audience_overlap` (7 days) publish."""
    # a row's rank among the person's chats of the window (those at most w - 1 days old)
    # is how many of them come first by draw, itself included: one running count per
    # window over one order, so the engine sorts each person's chats once
    ranks = _ages(
        "sum(case when age <= {w1} then 1 else 0 end) over (partition by kind, run_day, "
        "signal, viewer order by draw, subject_id rows between unbounded preceding and "
        "current row) as rank_{w}"
    )
    # a person in no more chats (or games) than the bound counts in all of them: hers are
    # not ranked (rank 1 stands for "within the bound"), only the crowded ones' are
    firsts = _ages("1 as rank_{w}")
    ages = _ages(
        "sum(case when ranked.age <= {w1} and ranked.rank_{w} <= params.contribution_bound "
        "then 1 else 0 end) as people_{w}"
    )
    return _PEOPLE_SQL.format(longest=_LONGEST, ranks=ranks, firsts=firsts, ages=ages)


def coverage_sql() -> str:
    """Days of each window with presence kept, per run day."""
    covered = _ages(
        "sum(case when presence_days.day is not null and today.day_number - days.day_number "
        "<= {w1} then 1 else 0 end) as covered_{w}"
    )
    return _COVERAGE_SQL.format(longest=_LONGEST, covered=covered)


def figure_ids(rows: dict[str, list[Any]]) -> list[str]:
    """The identity of each row's figure (see the module's docstring)."""
    ids: list[str] = []
    for day, window, signal, kind, subject in zip(
        rows["day"],
        rows["window_days"],
        rows["signal"],
        rows["kind"],
        rows["subject_id"],
        strict=True,
    ):
        if kind == GAMES:
            ids.append(figure_id(GAME_FIGURE, day, window, signal, subject))
        elif window == 1:
            ids.append(figure_id(DAY_FIGURE, day, subject, signal))
        else:
            ids.append(figure_id(WINDOW_FIGURE, day, window, signal, subject))
    return ids


def protect(rows: dict[str, list[Any]], noise: FigureNoise, k: int) -> list[int | None]:
    """The published chatters: noisy by identity, then null under k (P3)."""
    noisy = noise.counts(figure_ids(rows), rows["chatters"])
    return [v if v is not None and v >= k else None for v in noisy]


def build(q: Queries, ctx: RunContext) -> pa.Table:
    """Rows of `ranking_chatters` for the run's days, people counts protected."""
    covered = {
        r[0]: {w: int(r[1 + i] or 0) for i, w in enumerate(WINDOWS)} for r in q.rows(coverage_sql())
    }
    rows: dict[str, list[Any]] = {f.name: [] for f in SCHEMA}
    rows["chatters"] = []
    for r in q.rows(people_sql()):
        day, signal, kind, subject = r[0], str(r[1]), str(r[2]), str(r[3])
        for i, window in enumerate(WINDOWS):
            people = int(r[4 + i] or 0)
            if people == 0:
                continue  # nobody in this window: no figure
            days = covered.get(day, {}).get(window, 0)
            rows["day"].append(day)
            rows["window_days"].append(window)
            rows["signal"].append(signal)
            rows["kind"].append(kind)
            rows["subject_id"].append(subject)
            rows["chatters"].append(people)
            rows["days_covered"].append(days)
            rows["complete"].append(days == window)
    noise = FigureNoise(ctx.params.noise_key, ctx.params.epsilon)
    rows["chatters"] = protect(rows, noise, ctx.params.k)
    order = sorted(
        range(len(rows["day"])),
        key=lambda i: (
            rows["day"][i],
            rows["window_days"][i],
            rows["signal"][i],
            rows["kind"][i],
            rows["subject_id"][i],
        ),
    )
    return pa.table({f.name: pa.array([rows[f.name][i] for i in order], f.type) for f in SCHEMA})
