"""Bot detection in the warehouse: known bots, and a rolling 7-day window of concurrent chats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from load.lakebuilder import DAY, LakeBuilder, Stream, at, one, query, run_load
from privacy.expect import exact_settings
from streamcensus.config import Settings

CHANNELS = ("3001", "3002", "3003", "3004", "3005")
KNOWN = 999
LURKER = 888  # in all five chats on day 1, in one on the quiet days after
PEOPLE = list(range(1, 13))
QUIET = DAY + dt.timedelta(days=1)
LATER = DAY + dt.timedelta(days=7)  # day 1 has left the 7-day window


def _streams(day: dt.date, channels: tuple[str, ...]) -> list[Stream]:
    return [Stream(c, 50, at(day, "01:00"), login=f"ch{c}") for c in channels]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("bots")
    builder = LakeBuilder(data_dir / "lake", known_bots=[KNOWN])
    # each chat has its own dozen people (each in one chat), the lurker and the known bot
    busy = {c: [*(p + 100 * i for p in PEOPLE), LURKER, KNOWN] for i, c in enumerate(CHANNELS)}
    builder.snapshot(at(DAY, "20:00"), _streams(DAY, CHANNELS), busy)
    for day in (QUIET, LATER):  # a quiet night: one channel live
        builder.snapshot(
            at(day, "02:00"), _streams(day, CHANNELS[:1]), {CHANNELS[0]: [*PEOPLE, LURKER]}
        )
    settings = exact_settings(data_dir)  # hand-computed figures: no noise
    run_load(settings, today=LATER + dt.timedelta(days=1), bot_min_chats=3)
    return settings


def _bots(settings: Settings) -> str:
    """The curated int_bots partitions, as a DuckDB table expression."""
    return (
        f"read_parquet('{settings.lake_dir}/curated/int_bots/*/*.parquet', hive_partitioning=false)"
    )


def _row(settings: Settings, day: dt.date, viewer: int) -> dict[str, object]:
    return one(
        settings,
        "select is_bot, is_known_bot, peak_chats, window_peak_chats, window_days "
        f"from {_bots(settings)} where day = ? and viewer = ?",
        [day, viewer],
    )


def test_lurker_stays_flagged_on_a_quiet_day(warehouse: Settings) -> None:
    assert _row(warehouse, DAY, LURKER) == {
        "is_bot": True,
        "is_known_bot": False,
        "peak_chats": 5,
        "window_peak_chats": 5,
        "window_days": 1,
    }
    # one chat on the quiet day: one day's peak alone would unflag it
    assert _row(warehouse, QUIET, LURKER) == {
        "is_bot": True,
        "is_known_bot": False,
        "peak_chats": 1,
        "window_peak_chats": 5,
        "window_days": 2,
    }
    # seven days on, the busy day is out of the window
    assert _row(warehouse, LATER, LURKER)["is_bot"] is False


def test_people_and_known_bots(warehouse: Settings) -> None:
    assert _row(warehouse, DAY, KNOWN)["is_known_bot"] is True
    assert _row(warehouse, DAY, KNOWN)["is_bot"] is True
    for day, people in ((DAY, 5 * len(PEOPLE)), (QUIET, len(PEOPLE))):
        flags = query(
            warehouse,
            f"select count(*), max(window_peak_chats) from {_bots(warehouse)} "
            "where day = ? and not is_bot",
            [day],
        )
        assert flags == [(people, 1)]


def test_bot_share_uses_the_window(warehouse: Settings) -> None:
    row = one(
        warehouse,
        "select chatters, known_bots, multi_chat_accounts from bot_share "
        "where day = ? and channel_id = ? and signal = 'chat_list'",
        [QUIET, CHANNELS[0]],
    )
    assert row == {"chatters": 13, "known_bots": 0, "multi_chat_accounts": 1}
