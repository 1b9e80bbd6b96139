"""The pipeline health page: per loaded day, snapshots, API use, lake size, chat-list
tokens (tripped, why, channels affected), chat-activity coverage and follower readings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from streamcensus.serve import models as m
from streamcensus.serve.community import ViewContext
from streamcensus.serve.reader import Reader, num, opt, ts

RATE_LIMIT_POINTS_PER_MINUTE = 800  # Helix app-token bucket, as Twitch documents it


def _health_day(r: dict[str, Any], ctx: ViewContext) -> m.HealthDay:
    snapshots = int(r["snapshots"])
    budget = RATE_LIMIT_POINTS_PER_MINUTE * ctx.interval_minutes
    curated = int(r["curated_bytes"])
    return m.HealthDay(
        day=r["day"],
        snapshots_expected=int(r["snapshots_expected"]),
        snapshots=snapshots,
        snapshots_complete=int(r["snapshots_complete"]),
        snapshots_partial=int(r["snapshots_partial"]),
        snapshots_missing=max(0, int(r["snapshots_expected"]) - snapshots),
        requests=int(r["requests"]),
        retries=int(r["retries"]),
        api_errors=int(r["api_errors"]),
        http_429=int(r["http_429"]),
        rate_limit_waits=int(r["rate_limit_waits"]),
        rate_limit_wait_seconds=num(r["rate_limit_wait_seconds"], 3),
        rate_limit_use=num(int(r["requests"]) / snapshots / budget) if snapshots else None,
        missing_items=int(r["missing_items"]),
        raw_bytes=int(r["raw_bytes"]),
        curated_bytes=curated,
        presence_observations=int(r["presence_observations"]),
        raw_bytes_per_observation=opt(r["raw_bytes_per_observation"], 3),
        curated_bytes_per_observation=opt(r["curated_bytes_per_observation"], 3),
        compression_ratio=num(int(r["raw_chatters_bytes"]) / curated, 2) if curated else None,
        quarantined_files=int(r["quarantined_files"]),
        presence_retired=bool(r["presence_retired"]),
        day_complete=bool(r["day_complete"]),
        chat_list_readers=int(r["chat_list_readers"]),
        chat_list_tokens_tripped=int(r["chat_list_tokens_tripped"]),
        chat_list_channels_affected=int(r["chat_list_channels_affected"]),
        activity_observations=int(r["activity_observations"]),
        chat_windows=int(r["chat_windows"]),
        chat_windows_partial=int(r["chat_windows_partial"]),
        chat_windows_not_joined=int(r["chat_windows_not_joined"]),
        chat_partial_share=opt(r["chat_partial_share"]),
        chat_channels_not_joined=int(r["chat_channels_not_joined"]),
        followers_readings=int(r["followers_readings"]),
        followers_readings_complete=int(r["followers_readings_complete"]),
        followers_readings_partial=int(r["followers_readings_partial"]),
        followers_readings_no_token=int(r["followers_readings_no_token"]),
    )


def health(reader: Reader, day: dt.date, days: int, ctx: ViewContext) -> m.Health:
    """Pipeline health of the `days` loaded days ending on `day`."""
    first = day - dt.timedelta(days=days - 1)
    rows = (
        reader.rows(
            "select * from pipeline_health where day between ? and ? order by day", [first, day]
        )
        if reader.has("pipeline_health")
        else []
    )
    shown = [_health_day(r, ctx) for r in rows]
    return m.Health(
        day=day,
        period_from=first,
        days=shown,
        totals=m.HealthTotals(
            days=len(shown),
            snapshots_expected=sum(d.snapshots_expected for d in shown),
            snapshots_complete=sum(d.snapshots_complete for d in shown),
            snapshots_partial=sum(d.snapshots_partial for d in shown),
            snapshots_missing=sum(d.snapshots_missing for d in shown),
            api_errors=sum(d.api_errors for d in shown),
            http_429=sum(d.http_429 for d in shown),
            raw_bytes=sum(d.raw_bytes for d in shown),
            curated_bytes=sum(d.curated_bytes for d in shown),
            presence_observations=sum(d.presence_observations for d in shown),
            quarantined_files=sum(d.quarantined_files for d in shown),
        ),
        tokens=tokens(reader, first, day),
    )


def tokens(reader: Reader, first: dt.date, last: dt.date) -> list[m.TokenDay]:
    """The chat-list tokens of the days, tripped ones first (operator or broadcasters)."""
    if not reader.has("chat_list_readers"):
        return []
    return [
        m.TokenDay(
            day=r["day"],
            reader_login=r["reader_login"],
            ground=r["ground"],
            state=r["state"],
            tripped=bool(r["tripped"]),
            reason=r["reason"] or "",
            tripped_at=ts(r["tripped_at"]) if r["tripped_at"] is not None else None,
            channels_affected=int(r["channels_affected"]),
        )
        for r in reader.rows(
            "select * from chat_list_readers where day between ? and ? "
            "order by day desc, tripped desc, reader_login",
            [first, last],
        )
    ]
