"""A raw lake of a simulated day written straight from the simulator's ground truth.

Collecting an `fr` day through HTTP takes hours of real time (the rate limit holds a
snapshot to about 90 simulated seconds), so the warehouse benchmark writes the same lake
without the network: for each 5-minute grid time it takes the top N live channels of the
language from `PopulationWorld.live_streams`, their chat lists from `World.chatters`, flags
known public bots by login (P6), pseudonymises the account ids with the collector's
`Pseudonymiser` (HMAC-SHA256 under a key from the state directory, P1), and writes the
streams, chatters and manifest files with the collector's `LakeWriter`. The files follow
the lake contract and the collector's encoding; the manifests record no HTTP work.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from streamcensus.clock import SimClock
from streamcensus.collect.privacy import Pseudonymiser
from streamcensus.keys import KeyStore
from streamcensus.lake.manifest import ManifestRecord
from streamcensus.lake.schema import (
    CHATTERS_OFFLINE,
    CHATTERS_OK,
    CHATTERS_SCHEMA,
    STREAMS_SCHEMA,
    snapshot_id,
)
from streamcensus.lake.writer import LakeWriter
from streamcensus.simulator.protocol import StreamRow
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import UTC, grid_times

I64 = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TruthDay:
    """What `write_truth_day` wrote."""

    snapshots: int
    stream_facts: int
    presence_observations: int
    peak_channels: int
    peak_observations: int
    distinct_accounts: int
    world_build_s: float
    write_s: float


class PseudonymCache:
    """Pseudonyms of account ids, each id hashed once (sorted arrays, not a dict)."""

    def __init__(self, pseudonymiser: Pseudonymiser) -> None:
        self._pseudonymiser = pseudonymiser
        self._ids: I64 = np.zeros(0, dtype=np.int64)
        self._values: I64 = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def map(self, ids: I64) -> I64:
        """The pseudonym of each id, in order."""
        unique = np.unique(ids)
        pos = np.searchsorted(self._ids, unique)
        known = pos < len(self._ids)
        known[known] = self._ids[pos[known]] == unique[known]
        new = unique[~known]
        if len(new):
            pseudonym = self._pseudonymiser.pseudonym
            values = np.fromiter(
                (pseudonym(str(i)) for i in new.tolist()), dtype=np.int64, count=len(new)
            )
            self._ids = np.insert(self._ids, pos[~known], new)
            self._values = np.insert(self._values, pos[~known], values)
        return self._values[np.searchsorted(self._ids, ids)]


def streams_table(
    sid: str,
    moment: dt.datetime,
    rows: Sequence[StreamRow],
    statuses: Sequence[str],
    totals: Sequence[int],
) -> pa.Table:
    """The stream facts of one snapshot, as the collector records a top-N listing."""
    return pa.table(
        {
            "snapshot_id": [sid] * len(rows),
            "snapshot_ts": [moment] * len(rows),
            "channel_id": [s.user_id for s in rows],
            "channel_login": [s.user_login for s in rows],
            "channel_name": [s.user_name for s in rows],
            "stream_id": [s.id for s in rows],
            "language": [s.language for s in rows],
            "game_id": [s.game_id for s in rows],
            "game_name": [s.game_name for s in rows],
            "title": [s.title for s in rows],
            "viewer_count": [s.viewer_count for s in rows],
            "started_at": [dt.datetime.fromtimestamp(int(s.started_at), UTC) for s in rows],
            "is_mature": [s.is_mature for s in rows],
            "tags": [",".join(s.tags) for s in rows],
            "rank": list(range(1, len(rows) + 1)),
            "tracked": [False] * len(rows),
            "chatters_status": list(statuses),
            "chatters_total": list(totals),
        },
        schema=STREAMS_SCHEMA,
    )


class TruthSnapshots:
    """Writes snapshots of one world into one lake with one pseudonym key."""

    def __init__(
        self,
        world: PopulationWorld,
        lake_dir: Path,
        state_dir: Path,
        *,
        language: str,
        top_n: int,
        known_bots: Sequence[str],
        first: dt.datetime,
    ) -> None:
        self.world = world
        self.writer = LakeWriter(lake_dir)
        self.language = language
        self.top_n = top_n
        self.key = KeyStore(state_dir, 30, SimClock(first, speed=0.0)).current(first)
        self.cache = PseudonymCache(Pseudonymiser(self.key, (), ()))
        bots = world.users_by_login(list(known_bots))
        self.bot_ids = np.asarray([int(b.id) for b in bots], dtype=np.int64)
        self.bot_names = [b.login.lower() for b in bots]
        self.source = f"simulator ground truth ({world.scale}, seed {world.seed}; no HTTP)"

    def write(self, moment: dt.datetime) -> ManifestRecord:
        """Write the snapshot of `moment`: streams, chatters, then its manifest."""
        sid = snapshot_id(moment)
        t = moment.timestamp()
        listed = [s for s in self.world.live_streams(t) if s.language == self.language]
        listed = listed[: self.top_n]
        totals: list[int] = []
        statuses: list[str] = []
        ids: list[I64] = []
        for stream in listed:
            chat = self.world.chatters(stream.user_id, t)
            members = chat.account_ids if chat is not None else np.zeros(0, dtype=np.int64)
            ids.append(members)
            totals.append(len(members))
            statuses.append(CHATTERS_OK if chat is not None else CHATTERS_OFFLINE)
        streams = streams_table(sid, moment, listed, statuses, totals)
        accounts = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        channels = np.repeat(np.asarray([s.user_id for s in listed], dtype=object), totals)
        chatters = self._chatters_table(sid, moment, channels, accounts)
        del accounts
        streams_file = self.writer.write_streams(sid, streams)
        chatters_file = self.writer.write_chatters(sid, chatters)
        lake_dir = self.writer.lake_dir
        record = ManifestRecord(
            snapshot_id=sid,
            grid_time=moment,
            started_at=moment,
            ended_at=moment,
            source=self.source,
            language=self.language,
            top_n=self.top_n,
            status="complete",
            channels_listed=len(listed),
            channels_with_chatters=statuses.count(CHATTERS_OK),
            channels_offline=statuses.count(CHATTERS_OFFLINE),
            presence_observations=chatters.num_rows,
            key_id=self.key.key_id,
            files={
                "streams": streams_file.to_entry(lake_dir),
                "chatters": chatters_file.to_entry(lake_dir),
            },
        )
        self.writer.write_manifest(record)
        return record

    def _chatters_table(
        self, sid: str, moment: dt.datetime, channels: npt.NDArray[np.object_], accounts: I64
    ) -> pa.Table:
        n = len(accounts)
        is_bot = np.isin(accounts, self.bot_ids)
        names = np.full(n, None, dtype=object)
        for bot_id, name in zip(self.bot_ids.tolist(), self.bot_names, strict=True):
            names[accounts == bot_id] = name
        return pa.Table.from_arrays(
            [
                pa.repeat(pa.scalar(sid, pa.string()), n),
                pa.repeat(pa.scalar(moment, pa.timestamp("s", tz="UTC")), n),
                pa.array(channels, pa.string()),
                pa.array(self.cache.map(accounts), pa.int64()),
                pa.repeat(pa.scalar(self.key.key_id, pa.string()), n),
                pa.array(is_bot, pa.bool_()),
                pa.array(names, pa.string()),
            ],
            schema=CHATTERS_SCHEMA,
        )


def write_truth_day(
    lake_dir: Path,
    state_dir: Path,
    day: dt.date,
    *,
    scale: str = "fr",
    seed: int = 42,
    hours: float = 24.0,
    language: str = "fr",
    top_n: int = 2000,
    known_bots: Sequence[str] = (),
    progress: Progress | None = None,
) -> TruthDay:
    """Write `hours` of snapshots from midnight UTC of `day` into `lake_dir`."""
    began = time.perf_counter()
    world = PopulationWorld(scale=scale, seed=seed)
    built = time.perf_counter() - began
    times = grid_times(day, hours)
    snapshots = TruthSnapshots(
        world,
        lake_dir,
        state_dir,
        language=language,
        top_n=top_n,
        known_bots=known_bots,
        first=times[0],
    )
    facts = observations = peak_channels = peak_obs = 0
    for done, moment in enumerate(times):
        record = snapshots.write(moment)
        facts += record.channels_listed
        observations += record.presence_observations
        peak_channels = max(peak_channels, record.channels_listed)
        peak_obs = max(peak_obs, record.presence_observations)
        if progress is not None:
            progress(done + 1, len(times))
    return TruthDay(
        snapshots=len(times),
        stream_facts=facts,
        presence_observations=observations,
        peak_channels=peak_channels,
        peak_observations=peak_obs,
        distinct_accounts=len(snapshots.cache),
        world_build_s=built,
        write_s=time.perf_counter() - began - built,
    )
