"""Warehouses for the dashboard tests: a hand-made census with hand-computed answers, and a
larger synthetic one for the browser.

The hand-made lake covers two UTC days (k = 10):

Thursday 2026-11-26, snapshots 20:00-23:55 (48; 21:00 is partial: one 429, two errors):
- alice (1001): live 20:00-21:55 (24 snapshots), viewers 100 + 10 i (i = 0..23), Just
  Chatting until 20:45 then Fortnite; chat = people 1..20 and the known bot 999;
- bob (1002): live 20:30-21:25 (12), started 20:28, 50 viewers, Minecraft; chat = 11..25;
- eve (1005): live 20:00-20:10 (3), 5 viewers, Art; chat = person 60 alone (under k);
- carol (1003): live 23:00 → Friday 00:55 (one broadcast, started 22:58), 30 viewers, Art;
  chat not readable (forbidden);
- 22:00-22:55: snapshots with nobody live.

Friday 2026-11-27, snapshots 00:00-00:55 (carol) and 20:00-20:55 (12 each):
- alice: 300 viewers, Just Chatting, chat = 1..12 and the bot (12 returning chatters);
- dave_tv (1004): 80 viewers, Minecraft, chat = 30..41.

Chat activity (who posted), on Friday only: carol's posters 1..10 in every window
00:00-00:55 (her chat list is forbidden), the 00:30 window partial; alice's posters 1..12
and dave's 30..41 in every window 20:00-20:55. Chat lists read on Friday evening: alice by
consent, dave by moderation; alice's token is revoked at 20:30 (dave's is the operator's).
Follower totals: Thursday 21:00 alice 4,900 and bob 700; Friday 00:00 carol 300; Friday
20:00 alice 5,000 and dave 800.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from load.lakebuilder import (
    LakeBuilder,
    Stream,
    _parquet_bytes,
    at,
    grid,
    make_settings,
    run_load,
    synthetic_day,
)
from streamcensus.config import Settings

THURSDAY = dt.date(2026, 11, 26)
FRIDAY = dt.date(2026, 11, 27)
ALICE, BOB, CAROL, DAVE, EVE = "1001", "1002", "1003", "1004", "1005"
BOT = 999
ALICE_THURSDAY = [*range(1, 21), BOT]
BOB_CHAT = list(range(11, 26))
ALICE_FRIDAY = [*range(1, 13), BOT]
DAVE_CHAT = list(range(30, 42))
JUST_CHATTING = ("509658", "Just Chatting")
FORTNITE = ("33214", "Fortnite")
MINECRAFT = ("27471", "Minecraft")
ART = ("509660", "Art")


def _stream(
    channel: str,
    login: str,
    viewers: int,
    started: dt.datetime,
    game: tuple[str, str],
    status: str = "ok",
) -> Stream:
    return Stream(
        channel,
        viewers,
        started,
        game_id=game[0],
        game_name=game[1],
        title=f"{login} live",
        login=login,
        chatters_status=status,
    )


def _carol(moment: dt.datetime) -> Stream:
    return _stream(CAROL, "carol", 30, at(THURSDAY, "22:58"), ART, "forbidden")


def _thursday(builder: LakeBuilder) -> None:
    for moment in grid(at(THURSDAY, "20:00"), at(THURSDAY, "23:55")):
        streams: list[Stream] = []
        chat: dict[str, list[int]] = {}
        if moment <= at(THURSDAY, "21:55"):
            i = int((moment - at(THURSDAY, "20:00")).total_seconds() // 300)
            game = JUST_CHATTING if moment < at(THURSDAY, "20:50") else FORTNITE
            streams.append(_stream(ALICE, "alice", 100 + 10 * i, at(THURSDAY, "20:00"), game))
            chat[ALICE] = ALICE_THURSDAY
        if at(THURSDAY, "20:30") <= moment <= at(THURSDAY, "21:25"):
            streams.append(_stream(BOB, "bob", 50, at(THURSDAY, "20:28"), MINECRAFT))
            chat[BOB] = BOB_CHAT
        if moment <= at(THURSDAY, "20:10"):
            streams.append(_stream(EVE, "eve", 5, at(THURSDAY, "20:00"), ART))
            chat[EVE] = [60]
        if moment >= at(THURSDAY, "23:00"):
            streams.append(_carol(moment))
        if moment == at(THURSDAY, "21:00"):
            builder.snapshot(
                moment,
                streams,
                chat,
                status="partial",
                manifest={"http_429": 1, "retries": 2, "errors": {"http_5xx": 2}},
                followers=FOLLOWERS["21:00"],
            )
        else:
            builder.snapshot(moment, streams, chat)


CAROL_POSTERS = list(range(1, 11))
FOLLOWERS = {
    "21:00": {ALICE: 4900, BOB: 700},
    "00:00": {CAROL: 300},
    "20:00": {ALICE: 5000, DAVE: 800},
}


def _reader(login: str, ground: str, revoked: bool) -> dict[str, Any]:
    return {
        "user_id": login,
        "login": login,
        "ground": ground,
        "channels_listed": 1,
        "channels_read": 0 if revoked else 1,
        "state": "unusable" if revoked else "ok",
        "reason": "revoked by its user" if revoked else "",
    }


def _friday(builder: LakeBuilder) -> None:
    for moment in grid(at(FRIDAY, "00:00"), at(FRIDAY, "00:55")):
        builder.snapshot(
            moment,
            [_carol(moment)],
            {},
            activity={CAROL: CAROL_POSTERS},
            coverage={CAROL: "partial" if moment == at(FRIDAY, "00:30") else "complete"},
            followers=FOLLOWERS["00:00"] if moment == at(FRIDAY, "00:00") else None,
        )
    for moment in grid(at(FRIDAY, "20:00"), at(FRIDAY, "20:55")):
        revoked = moment >= at(FRIDAY, "20:30")
        alice_status = "forbidden" if revoked else "ok"
        streams = [
            _stream(ALICE, "alice", 300, at(FRIDAY, "20:00"), JUST_CHATTING, alice_status),
            _stream(DAVE, "dave_tv", 80, at(FRIDAY, "20:00"), MINECRAFT),
        ]
        alice_chat = [] if revoked else ALICE_FRIDAY
        builder.snapshot(
            moment,
            streams,
            {ALICE: alice_chat, DAVE: DAVE_CHAT},
            activity={ALICE: range(1, 13), DAVE: DAVE_CHAT},
            followers=FOLLOWERS["20:00"] if moment == at(FRIDAY, "20:00") else None,
            manifest={
                "chat_list_grounds": {DAVE: "moderation"} | ({} if revoked else {ALICE: "consent"}),
                "chat_list_readers": [
                    _reader("alice", "consent", revoked),
                    _reader("operator", "moderation", False),
                ],
            },
        )


# Names as a hostile broadcaster could set them on Twitch: plotly.js reads some HTML in
# chart text, a page may put them in markup, a log or a file name.
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_GAME = '<a href="https://attacker.example/">Fortnite</a> &amp; <b>more</b>'
HOSTILE_TITLE = "</script><script>alert(3)</script>"


class HostileBuilder(LakeBuilder):
    """A LakeBuilder whose streams of `alice` carry the hostile display name and title, and
    whose Fortnite is renamed to the hostile game name (the manifest checksums follow)."""

    def _write(self, kind: str, sid: str, data: bytes, rows: int) -> dict[str, Any]:
        if kind == "streams":
            table = pq.read_table(pa.BufferReader(data))
            alice = pc.equal(table["channel_login"], "alice")
            fortnite = pc.equal(table["game_name"], FORTNITE[1])
            for column, mask, value in (
                ("channel_name", alice, HOSTILE_NAME),
                ("title", alice, HOSTILE_TITLE),
                ("game_name", fortnite, HOSTILE_GAME),
            ):
                index = table.schema.get_field_index(column)
                table = table.set_column(
                    index, table.field(index), pc.if_else(mask, value, table[column])
                )
            data = _parquet_bytes(table)
        return super()._write(kind, sid, data, rows)


def build_census(data_dir: Path, *, hostile: bool = False) -> Settings:
    """The hand-made lake above, loaded into `data_dir/warehouse.duckdb` (with `hostile`,
    alice's name and title and the game Fortnite are hostile strings)."""
    kind = HostileBuilder if hostile else LakeBuilder
    builder = kind(data_dir / "lake", known_bots=[BOT])
    _thursday(builder)
    _friday(builder)
    settings = make_settings(data_dir)
    run_load(settings, today=FRIDAY + dt.timedelta(days=1))
    return settings


def build_synthetic(data_dir: Path, days: int = 2) -> Settings:
    """`days` synthetic days of 30 live channels and 1,500 chatters per snapshot, loaded."""
    builder = LakeBuilder(data_dir / "lake")
    for offset in range(days):
        day = THURSDAY + dt.timedelta(days=offset)
        synthetic_day(
            builder,
            day,
            live_channels=30,
            chatters_per_snapshot=1500,
            seed=7 + offset,
            known_bots=2,
            lurker_bots=4,
            posting_share=0.3,
            followers=True,
        )
    builder.known_bots = np.unique(builder.known_bots)
    settings = make_settings(data_dir)
    run_load(settings, today=THURSDAY + dt.timedelta(days=days))
    return settings
