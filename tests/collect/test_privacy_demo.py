"""Privacy after a demo run: no viewer login or id anywhere under the data dir (P1)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import streamcensus
from streamcensus.config import load_settings
from streamcensus.demo import grid_times, run_demo_collection
from streamcensus.logs import setup_logging
from streamcensus.simulator.world import PopulationWorld

DAY = dt.date(2026, 11, 27)
HOURS = 24.0  # a whole demo day


def _viewer_identities(world: PopulationWorld, times: list[dt.datetime]) -> set[str]:
    """Logins and ids of every viewer account that sat in a chat the demo collected."""
    channel_ids = {u.id for s in world.live_streams(times[0].timestamp()) for u in [s]}
    seen: set[int] = set()
    for moment in times:
        t = moment.timestamp()
        for stream in world.live_streams(t):
            channel_ids.add(stream.user_id)
            listed = world.chatters(stream.user_id, t)
            if listed is not None:
                seen.update(int(i) for i in listed.account_ids.tolist())
    viewers = np.array(sorted(seen - {int(c) for c in channel_ids}), dtype=np.int64)
    logins = world.logins(viewers)
    return {*(str(v) for v in viewers.tolist()), *logins}


def _own_words() -> set[str]:
    """Words of streamcensus's own source: what its messages are made of. A generated login
    that is also a word of ours ("chat") cannot be told apart in a reason or a log line."""
    words: set[str] = set()
    for source in Path(streamcensus.__file__).parent.rglob("*.py"):
        text = source.read_text(encoding="utf-8").lower()
        words.update("".join(c if c.isalnum() or c == "_" else " " for c in text).split())
    return words


def _strings_in(path: Path) -> set[str]:
    """Every value in a file, decompressed: Parquet cells, JSON values, or log words."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return {str(v) for col in table.columns for v in col.to_pylist() if v is not None}
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        text = json.dumps(json.loads(text))
    words = set(text.replace('"', " ").replace(",", " ").replace(":", " ").split())
    return words | {w.strip(".,;()[]{}'") for w in words}


@pytest.mark.slow
def test_no_viewer_identity_on_disk_after_demo(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path}, environ={})
    setup_logging(settings.log_dir, to_stderr=False)
    report = run_demo_collection(settings, first_day=DAY, hours=HOURS, scale="small", seed=42)
    assert len(grid_times(DAY, HOURS)) == 288
    # the first snapshot's chat window began before any listener ran: said so, not a fault
    assert (report.snapshots_complete, report.snapshots_partial) == (288, 0)
    assert report.chat_windows == {"complete": 287, "not listening": 1}
    assert report.presence_observations > 1000
    assert report.activity_observations > 1000  # chat posters, pseudonymised at the door

    world = PopulationWorld(scale="small", seed=42)
    # known public service bots are kept by name on purpose (P6): they are not people
    identities = _viewer_identities(world, grid_times(DAY, HOURS)) - set(settings.known_bots)
    identities -= {w for w in _own_words() if not w.isdigit()}  # see _own_words
    assert len(identities) > 1000
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files)
    parquet = [p for p in files if p.suffix == ".parquet"]
    # streams, chatters, chat_activity, chat_coverage
    assert sum("followers" not in p.parts for p in parquet) == 4 * 288
    assert 18 <= sum("followers" in p.parts for p in parquet) <= 24  # hourly, when listed
    assert any(p.parent.name == "tokens" for p in files)  # device-flow tokens, 0600
    for path in files:
        if path.name == "pseudonym_keys.json":
            continue  # key material: random bytes, no identity
        leaked = _strings_in(path) & identities
        assert not leaked, f"{path} holds viewer identities: {sorted(leaked)[:3]}"
