"""P2 at load time: pseudonym keys past rotation + retention are deleted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streamcensus.clock import SimClock
from streamcensus.config import load_settings
from streamcensus.keys import KeyStore
from streamcensus.load.loader import load_days
from streamcensus.timeutil import UTC


def test_load_purges_expired_keys(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={"data_dir": tmp_path, "key_rotation_days": 7, "retention_days": 10},
        environ={},
    )
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    store = KeyStore(settings.key_store_dir, settings.key_rotation_days, SimClock(start, speed=0))
    old = store.current(start)
    newer = store.current(start + dt.timedelta(days=8))
    assert newer.key_id != old.key_id

    # 17 days after the old key: rotation (7) + retention (10) reached → old key deleted
    report = load_days(settings, None, clock=SimClock(start + dt.timedelta(days=17), speed=0))
    assert report.retention is not None
    assert report.retention.keys_deleted == [old.key_id]
    assert [k.key_id for k in store.list_keys()] == [newer.key_id]

    report = load_days(settings, None, clock=SimClock(start + dt.timedelta(days=18), speed=0))
    assert report.retention is not None and report.retention.keys_deleted == []
