"""A hand-made lake with two audience communities a method must find, and a third later.

Days 1-3 (from `DAY`), 20:00-20:10 each evening (k = 10):

- scene X: channels 3001-3004 (Minecraft), people 1..120; person p sits in every X chat
  but the one numbered p mod 4, so any two X channels share 60 people;
- scene Y: channels 3011-3014 (League of Legends), people 1001..1120, the same way;
- a bridge: people 601..612 sit in 3001 and 3011 (12 ≥ k: a published, weak pair), and
  people 701..705 in 3002 and 3012 (5 < k: never published);
- day 3 only: scene Z, channels 3021-3023 (Chess), people 2001..2090, each in two of them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from load.lakebuilder import DAY, LakeBuilder, Stream, at, grid, run_load
from privacy.expect import exact_settings
from streamcensus.config import Settings

X = ("3001", "3002", "3003", "3004")
Y = ("3011", "3012", "3013", "3014")
Z = ("3021", "3022", "3023")
GAMES = {X: ("27471", "Minecraft"), Y: ("21779", "League of Legends"), Z: ("743", "Chess")}
DAYS = [DAY + dt.timedelta(days=i) for i in range(3)]


def scene(channels: tuple[str, ...], people: range) -> dict[str, list[int]]:
    """Person p in every chat of the scene but one (p mod size)."""
    chats: dict[str, list[int]] = {c: [] for c in channels}
    for p in people:
        for i, c in enumerate(channels):
            if p % len(channels) != i:
                chats[c].append(p)
    return chats


def chats_of(day: dt.date) -> dict[str, list[int]]:
    chats = {**scene(X, range(1, 121)), **scene(Y, range(1001, 1121))}
    chats["3001"] += [*range(601, 613)]
    chats["3011"] += [*range(601, 613)]
    chats["3002"] += [*range(701, 706)]
    chats["3012"] += [*range(701, 706)]
    if day == DAYS[2]:
        chats.update(scene(Z, range(2001, 2091)))
    return chats


def streams_of(day: dt.date, chats: dict[str, list[int]]) -> list[Stream]:
    found = []
    for group, (game_id, game) in GAMES.items():
        for c in group:
            if c in chats:
                found.append(Stream(c, 100, at(day, "19:00"), game_id, game, login=f"ch{c}"))
    return found


def build(data_dir: Path, days: list[dt.date] = DAYS, load: bool = True) -> Settings:
    """Write the lake and (`load`) load every day at once (the communities model runs
    in the load)."""
    builder = LakeBuilder(data_dir / "lake")
    for day in days:
        chats = chats_of(day)
        for moment in grid(at(day, "20:00"), at(day, "20:10")):
            builder.snapshot(moment, streams_of(day, chats), chats)
    settings = exact_settings(data_dir)  # hand-built overlaps: figures without noise
    if load:
        run_load(settings, today=days[-1] + dt.timedelta(days=1))
    return settings
