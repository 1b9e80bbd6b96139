"""A collector killed mid-snapshot leaves no half-written file, and the next run works.

`streamcensus collect` runs as a subprocess against the simulator (fault injection on,
standing clock) and gets SIGKILL at three points: while chatters are being read (a delay
fault keeps the snapshot going), while the first data file is being written, and after
the data files but before the manifest. The file writes are slowed by a `sitecustomize`
that makes `os.fsync` sleep (timing only; no code path changes), so each point is hit
on purpose, not by luck. After every kill the lake must hold only complete files and
`.tmp-*` leftovers, never a manifest without its data; a rerun at the next grid time
must land a complete snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from simulator.test_faults import fault_counters, serve_with_faults, set_plan
from streamcensus.clock import SimClock
from streamcensus.fsutil import is_temp_file
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.reader import day_status
from streamcensus.simulator.server import SimulatorHandle
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import UTC

EVENING = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
DAY = "2026-11-27"
FSYNC_DELAY_ENV = "STREAMCENSUS_TEST_FSYNC_DELAY"
SLOW_FSYNC = f"""\
import os
import time

_fsync = os.fsync


def fsync(fd):
    time.sleep(float(os.environ.get("{FSYNC_DELAY_ENV}", "0")))
    _fsync(fd)


os.fsync = fsync
"""
# bounds on waiting for a subprocess, generous so that a busy machine only slows the test
WAIT_SECONDS = 180.0


@dataclass
class LakeContents:
    """What a lake holds, by kind of file, after its invariants were checked."""

    temps: list[Path] = field(default_factory=list)
    parquet: list[Path] = field(default_factory=list)
    manifests: list[ManifestRecord] = field(default_factory=list)


def check_lake(lake_dir: Path) -> LakeContents:
    """Every final file reads back completely, every manifest's files are there in full."""
    found = LakeContents()
    if not lake_dir.exists():
        return found
    for path in sorted(p for p in lake_dir.rglob("*") if p.is_file()):
        if is_temp_file(path):
            found.temps.append(path)
        elif path.suffix == ".parquet":
            table = pq.read_table(path)
            assert table.num_rows == pq.ParquetFile(path).metadata.num_rows
            found.parquet.append(path)
        elif path.suffix == ".json":
            record = ManifestRecord.from_bytes(path.read_bytes())
            for entry in record.files.values():
                data = (lake_dir / entry["path"]).read_bytes()
                assert len(data) == entry["bytes"]
                assert hashlib.sha256(data).hexdigest() == entry["sha256"]
                assert pq.read_table(lake_dir / entry["path"]).num_rows == entry["rows"]
            found.manifests.append(record)
        else:
            raise AssertionError(f"unexpected file in the lake: {path}")
    return found


class CollectorProcess:
    """Runs `streamcensus collect` against a simulator, in its own data dir."""

    def __init__(self, handle: SimulatorHandle, tmp_path: Path) -> None:
        self.handle = handle
        self.tmp = tmp_path
        self.data_dir = tmp_path / "data"
        self.lake = self.data_dir / "lake"
        site = tmp_path / "site"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(SLOW_FSYNC)
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("STREAMCENSUS_", "TWITCH_"))
        }
        self.env.update(
            STREAMCENSUS_HELIX_URL=handle.helix_url,
            STREAMCENSUS_AUTH_URL=handle.auth_url,
            PYTHONPATH=str(site),
        )
        self.runs = 0

    def start(self, fsync_delay: float = 0.0) -> subprocess.Popen[bytes]:
        self.runs += 1
        env = {**self.env, FSYNC_DELAY_ENV: str(fsync_delay)}
        self.stderr = self.tmp / f"stderr-{self.runs}.txt"
        with self.stderr.open("wb") as err:
            return subprocess.Popen(
                [sys.executable, "-m", "streamcensus", "--data-dir", str(self.data_dir), "collect"],
                cwd=self.tmp,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def kill_when(self, process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
        """SIGKILL `process` as soon as `ready()` holds (it must not finish first)."""
        deadline = time.monotonic() + WAIT_SECONDS
        try:
            while not ready():
                assert process.poll() is None, f"collector ended first: {self.stderr_text()}"
                assert time.monotonic() < deadline, "the kill point was never reached"
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL

    def run(self) -> int:
        """Run one snapshot to its end; the exit code."""
        process = self.start()
        try:
            return process.wait(timeout=WAIT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    def stderr_text(self) -> str:
        return self.stderr.read_text(errors="replace")


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.exists() else []


def kill_points(sim: CollectorProcess) -> dict[str, Callable[[], bool]]:
    streams_dir = sim.lake / "raw" / "streams" / f"date={DAY}"
    chatters_dir = sim.lake / "raw" / "chatters" / f"date={DAY}"
    base_url = sim.handle.base_url
    return {
        "reading chatters": lambda: fault_counters(base_url)["injected"] >= 40,
        "writing streams": lambda: bool(_files(streams_dir, ".tmp-*")),
        "before manifest": lambda: bool(_files(chatters_dir, "*.parquet")),
    }


@pytest.fixture
def simulator(small_world: PopulationWorld) -> Iterator[SimulatorHandle]:
    """The small world at 20:00:10 on a standing clock, with fault injection."""
    clock = SimClock(EVENING.timestamp() + 10, speed=0)
    with serve_with_faults(small_world, clock) as (handle, _):
        yield handle


def kill_at(sim: CollectorProcess, point: str) -> LakeContents:
    """One `collect` killed at `point`; the lake checked afterwards."""
    if point == "reading chatters":
        plan = {"rules": [{"path": "/helix/chat/chatters", "fault": "delay", "delay": 0.25}]}
        set_plan(sim.handle.base_url, plan)
        process = sim.start()
    else:
        process = sim.start(fsync_delay=0.4)
    sim.kill_when(process, kill_points(sim)[point])
    httpx.delete(f"{sim.handle.base_url}/_sim/faults")
    return check_lake(sim.lake)


@pytest.mark.parametrize("point", ["reading chatters", "writing streams", "before manifest"])
def test_killed_collector_leaves_no_half_written_file(
    simulator: SimulatorHandle, tmp_path: Path, point: str
) -> None:
    sim = CollectorProcess(simulator, tmp_path)
    after_kill = kill_at(sim, point)

    assert after_kill.manifests == []
    if point == "reading chatters":
        assert after_kill.temps == [] and after_kill.parquet == []
    elif point == "writing streams":
        assert len(after_kill.temps) == 1 and after_kill.parquet == []
        assert after_kill.temps[0].parent.parent.name == "streams"
    else:
        assert [p.parent.parent.name for p in after_kill.parquet] == ["chatters", "streams"]
        assert day_status(sim.lake)[DAY]["snapshots_orphaned"] == 1

    assert isinstance(simulator.clock, SimClock)
    simulator.clock.advance(300)
    assert sim.run() == 0, sim.stderr_text()
    after_rerun = check_lake(sim.lake)
    assert [(m.snapshot_id, m.status) for m in after_rerun.manifests] == [
        ("20261127T2005Z", "complete")
    ]
    record = after_rerun.manifests[0]
    assert record.channels_listed == record.channels_with_chatters > 80
    assert record.presence_observations > 3000
    assert after_rerun.temps == after_kill.temps
    assert len(after_rerun.parquet) == len(after_kill.parquet) + 2


def test_rerun_at_the_same_grid_time_after_a_kill_fails_cleanly(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    sim = CollectorProcess(simulator, tmp_path)
    orphans = kill_at(sim, "before manifest")
    assert len(orphans.parquet) == 2
    # Twitch answers differently a minute later; here one channel now fails.
    failing = pq.read_table(orphans.parquet[1]).column("channel_id")[0].as_py()
    rule = {"path": "/helix/chat/chatters", "fault": "500", "query": {"broadcaster_id": failing}}
    set_plan(simulator.base_url, {"rules": [rule]})

    code = sim.run()
    stderr = sim.stderr_text()
    after = check_lake(sim.lake)
    assert "Traceback" not in stderr
    # the orphaned files stay as they are; the grid time is refused in one line
    assert code == 2
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("streamcensus: error: snapshot 20261127T2000Z is already in the lake")
    assert after.manifests == []
    assert sorted(after.parquet) == sorted(orphans.parquet)
