"""Manifest records: JSON round-trip and validation."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from streamcensus import __version__
from streamcensus.lake.manifest import LakeError, ManifestRecord
from streamcensus.timeutil import UTC

GRID = dt.datetime(2026, 11, 27, 20, 5, tzinfo=UTC)


def full_record() -> ManifestRecord:
    return ManifestRecord(
        snapshot_id="20261127T2005Z",
        grid_time=GRID,
        started_at=GRID + dt.timedelta(seconds=0.25),
        ended_at=GRID + dt.timedelta(seconds=71, microseconds=500),
        source="https://api.twitch.tv/helix",
        language="fr",
        top_n=2000,
        status="partial",
        channels_listed=1800,
        channels_tracked=3,
        channels_with_chatters=1500,
        channels_forbidden=280,
        channels_failed=1,
        channels_offline=19,
        presence_observations=412_345,
        duplicates_dropped=5,
        requests=2320,
        retries=4,
        rate_limit_waits=1,
        rate_limit_wait_seconds=3.5,
        http_429=0,
        errors={"http_503": 3, "timeout": 1},
        missing=[{"what": "chatters", "channel_id": "123", "reason": "HTTP 503 after 5 tries"}],
        key_id="20261101T000000Z-abcd1234",
        files={
            "streams": {
                "path": "raw/streams/date=2026-11-27/20261127T2005Z.parquet",
                "bytes": 9,
                "rows": 1800,
                "sha256": "ab" * 32,
            },
        },
    )


def test_round_trip_through_json_and_bytes() -> None:
    record = full_record()
    doc = record.to_json()
    assert doc["grid_time"] == "2026-11-27T20:05:00Z"
    assert doc["ended_at"] == "2026-11-27T20:06:11.000500Z"
    assert doc["collector_version"] == __version__
    assert json.loads(json.dumps(doc)) == doc
    assert ManifestRecord.from_json(doc) == record
    assert ManifestRecord.from_bytes(record.to_bytes()) == record
    assert record.to_bytes() == full_record().to_bytes()
    assert record.day == dt.date(2026, 11, 27)
    assert record.duration_seconds == pytest.approx(70.7505)


def test_defaults_and_unknown_keys() -> None:
    doc = {
        "snapshot_id": "20261127T2005Z",
        "grid_time": "2026-11-27T20:05:00Z",
        "started_at": "2026-11-27T20:05:01+00:00",
        "ended_at": "2026-11-27T20:05:30Z",
        "source": "http://127.0.0.1:8080/helix",
        "language": "fr",
        "top_n": 10,
        "status": "complete",
        "a_field_from_the_future": 1,
    }
    record = ManifestRecord.from_json(doc)
    assert record.presence_observations == 0 and record.errors == {} and record.missing == []
    assert record.started_at == GRID + dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    "broken",
    [
        {"status": "done"},
        {"grid_time": "yesterday"},
        {"requests": "12"},
        {"requests": True},
        {"files": {"streams": {"path": "x"}}},
        {"missing": [{"what": "chatters"}]},
    ],
)
def test_invalid_records_raise_lake_error(broken: dict[str, object]) -> None:
    doc = {**full_record().to_json(), **broken}
    with pytest.raises(LakeError, match="not a valid manifest"):
        ManifestRecord.from_json(doc)


def test_missing_required_field_and_bad_json() -> None:
    doc = full_record().to_json()
    del doc["snapshot_id"]
    with pytest.raises(LakeError):
        ManifestRecord.from_json(doc)
    with pytest.raises(LakeError, match="not valid JSON"):
        ManifestRecord.from_bytes(b'{"snapshot_id": ')
    with pytest.raises(LakeError, match="not a JSON object"):
        ManifestRecord.from_bytes(b"[1, 2]")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ManifestRecord(
            snapshot_id="20261127T2005Z",
            grid_time=dt.datetime(2026, 11, 27, 20, 5),
            started_at=GRID,
            ended_at=GRID,
            source="x",
            language="fr",
            top_n=1,
            status="complete",
        )


def test_source_keeps_scheme_host_and_path_only() -> None:
    record = full_record().model_copy(update={})
    record.source = "https://me:hunter2@helix.example:8443/helix?token=x#y"
    assert record.source == "https://helix.example:8443/helix"
    assert b"hunter2" not in record.to_bytes()
