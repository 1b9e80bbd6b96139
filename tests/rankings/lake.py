"""A hand-made lake for the rankings: three loaded days, three channels, two games.

Days (UTC): `WEEK_AGO` (2026-11-20), `YESTERDAY` (2026-11-26) and `DAY` (2026-11-27), each
with three snapshots (20:00, 20:05, 20:10; 5 minutes each, so 0.25 h live):

| day | alice (Just Chatting) | bob (Fortnite) | carol (Fortnite) |
|---|---|---|---|
| WEEK_AGO | 100 viewers ×3; people 1-12 | - | - |
| YESTERDAY | 200 ×3; people 1-15 | 50 ×3; people 101-112 and 1 | - |
| DAY | 300 ×3; people 1-11, 16-20, the bot | 60, 80, 100; 101-110 | 5 at 20:00; 201-203 |

`BOT` is a known bot in alice's chat on `DAY`: it is not a person. Chat lists only (the
`chat_list` signal); no chat activity.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from load.lakebuilder import DAY, LakeBuilder, Stream, at, grid, run_load
from privacy.expect import exact_settings
from streamcensus.config import Settings

WEEK_AGO = DAY - dt.timedelta(days=7)
YESTERDAY = DAY - dt.timedelta(days=1)
ALICE, BOB, CAROL = "1001", "1002", "1003"
CHATTING, FORTNITE = "509658", "33214"
BOT = 999_999
MOMENTS = ("20:00", "20:10")


def _people(first: int, last: int) -> list[int]:
    return list(range(first, last + 1))


def _alice(day: dt.date, viewers: int) -> Stream:
    return Stream(ALICE, viewers, at(day, "19:00"), login="alice", game_name="Just Chatting")


def _fortnite(day: dt.date, channel: str, login: str, viewers: int) -> Stream:
    return Stream(
        channel, viewers, at(day, "19:00"), login=login, game_id=FORTNITE, game_name="Fortnite"
    )


def write(lake_dir: Path) -> None:
    """The three days of the table above."""
    builder = LakeBuilder(lake_dir, known_bots=[BOT])
    for day in (WEEK_AGO, YESTERDAY, DAY):
        for i, moment in enumerate(grid(at(day, MOMENTS[0]), at(day, MOMENTS[1]))):
            streams: list[Stream] = []
            chatters: dict[str, list[int]] = {}
            if day == WEEK_AGO:
                streams.append(_alice(day, 100))
                chatters[ALICE] = _people(1, 12)
            elif day == YESTERDAY:
                streams += [_alice(day, 200), _fortnite(day, BOB, "bob", 50)]
                chatters[ALICE] = _people(1, 15)
                chatters[BOB] = [*_people(101, 112), 1]
            else:
                streams += [_alice(day, 300), _fortnite(day, BOB, "bob", (60, 80, 100)[i])]
                chatters[ALICE] = [*_people(1, 11), *_people(16, 20), BOT]
                chatters[BOB] = _people(101, 110)
                if i == 0:
                    streams.append(_fortnite(day, CAROL, "carol", 5))
                    chatters[CAROL] = _people(201, 203)
            builder.snapshot(moment, streams, chatters)


def build(data_dir: Path) -> Settings:
    """The lake written and loaded, with noise that is exact for these counts."""
    write(data_dir / "lake")
    settings = exact_settings(data_dir)
    run_load(settings)
    return settings
