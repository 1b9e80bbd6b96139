"""The api suite's copied days: a month's volume from the loaded days, said plainly."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from apiclient import get
from streamcensus.bench.api_suite import first_requests, replicate_days
from streamcensus.config import Settings

THURSDAY, FRIDAY = dt.date(2026, 11, 26), dt.date(2026, 11, 27)


def _copy(census: Settings, tmp_path: Path) -> Settings:
    shutil.copytree(census.data_dir, tmp_path / "data")
    return census.model_copy(update={"data_dir": tmp_path / "data"})


async def test_copied_days_answer_as_their_source_day_shifted(
    census: Settings, tmp_path: Path
) -> None:
    settings = _copy(census, tmp_path)
    done = replicate_days(settings.warehouse_path, [THURSDAY, FRIDAY], 5)
    assert done["replica_days"] == 3
    days = await get(settings, "/api/days")
    assert days["days"] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    # the day before the first loaded one is a copy of the last, and so on backwards
    for copy, source in (("2026-11-25", FRIDAY), ("2026-11-24", THURSDAY)):
        original = await get(settings, f"/api/overview?day={source}")
        copied = await get(settings, f"/api/overview?day={copy}")
        assert original["top_channels"], source
        shift = (dt.date.fromisoformat(copy) - source).days
        assert copied["day"] == copy
        assert copied["top_channels"] == original["top_channels"]
        assert copied["curve"]["viewers"] == original["curve"]["viewers"]
        assert [
            dt.datetime.fromisoformat(t) - dt.timedelta(days=shift) for t in copied["curve"]["ts"]
        ] == [dt.datetime.fromisoformat(t) for t in original["curve"]["ts"]]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        ids = con.execute("select stream_id, count(*) from stream_sessions group by all").fetchall()
        assert ids and all(n == 1 for _, n in ids)  # a copied broadcast has its own id
        per_day = dict(con.execute("select day, count(*) from channel_day group by day").fetchall())
    assert per_day[dt.date(2026, 11, 25)] == per_day[FRIDAY]
    assert per_day[dt.date(2026, 11, 24)] == per_day[THURSDAY]
    assert done["rows"]["channel_day"] == sum(per_day.values())


def test_first_requests_count_the_warm_up() -> None:
    plan = [
        ("days", "/api/days", []),
        ("overview", "/api/overview", [["day", "2026-11-26"]]),
        ("days", "/api/days", []),
        ("overview", "/api/overview", [["day", "2026-11-27"]]),
        ("overview", "/api/overview", [["day", "2026-11-27"]]),
    ]
    assert first_requests(plan, warm_up=0) == [True, True, False, True, False]
    assert first_requests(plan, warm_up=2) == [False, False, False, True, False]
