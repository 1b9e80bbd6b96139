"""What a published people count must read, computed as the warehouse does it: the exact
count plus the noise of that figure under the installation's noise key, then k.

Tests that know the exact count of a hand-made audience use this to assert the published
value exactly (the noise is a function of the key and the figure's identity, so it can be
recomputed), instead of a tolerance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from streamcensus import noisekey
from streamcensus.config import Settings
from streamcensus.lake.schema import CURATED
from streamcensus.load.loader import run_params
from streamcensus.transform.noise import FigureNoise, figure_id
from streamcensus.transform.protect import HEALTH_COUNTS, observation_sensitivity


def figure_noise(settings: Settings) -> FigureNoise:
    """The noise of the installation's figures (its stored key, its ε)."""
    return FigureNoise(noisekey.load_or_create(settings.key_store_dir), settings.privacy_epsilon)


def noisy(settings: Settings, kind: str, *parts: object, exact: int) -> int:
    """The noisy value of one figure (before k)."""
    value = figure_noise(settings).counts([figure_id(kind, *parts)], [exact])[0]
    assert value is not None
    return value


def published(settings: Settings, kind: str, *parts: object, exact: int) -> int | None:
    """The published value of one figure: noisy, or None under k."""
    value = noisy(settings, kind, *parts, exact=exact)
    return value if value >= settings.k else None


def published_series(settings: Settings, kind: str, *parts: object, exact: float) -> int | None:
    """The published value of one bucket of a people series (`protect._series`): the
    bucket's exact average per snapshot, noisy, rounded, None under k."""
    value = figure_noise(settings).means([figure_id(kind, *parts)], [exact])[0]
    assert value is not None
    return round(value) if round(value) >= settings.k else None


def health_count(settings: Settings, column: str, day: object, *, exact: int) -> int:
    """The published value of a `pipeline_health` row count (`HEALTH_COUNTS`): noisy at
    the sensitivity of a person's rows in a day."""
    kind, signals = HEALTH_COUNTS[column]
    sensitivity = signals * observation_sensitivity(run_params(settings))
    noise = figure_noise(settings).with_sensitivity(sensitivity)
    value = noise.counts([figure_id(kind, day)], [exact])[0]
    assert value is not None
    return value


def sessions(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A connection with `viewing_sessions`: the exact, never published, curated sessions."""
    con = duckdb.connect()
    root = settings.lake_dir / CURATED / "viewing_sessions"
    con.execute(
        "create view viewing_sessions as select * from "
        f"read_parquet('{root}/*/*.parquet', hive_partitioning = false)"
    )
    return con


# ε for hand-made tests whose figures are asserted as hand-computed: at ε = 10 the noise
# scale is 0.1 and a figure's noise is non-zero with probability 9e-5; with a fixed key
# (below) the noise is the same on every run, so those tests are exact and deterministic.
# The mechanism at the default ε is tested in tests/privacy and tests/transform.
EXACT_EPSILON = 10.0
FIXED_KEY = bytes(range(100, 132))


def fix_noise_key(settings: Settings, key: bytes = FIXED_KEY) -> None:
    """Store a known noise key for `settings` before its first load."""
    path = settings.key_store_dir / noisekey.NOISE_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(json.dumps({"version": 1, "secret": key.hex()}))
    path.chmod(0o600)


def exact_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a hand-made lake whose figures are asserted as hand-computed:
    `EXACT_EPSILON` and the fixed noise key."""
    settings = Settings(data_dir=data_dir, **{"privacy_epsilon": EXACT_EPSILON, **overrides})
    fix_noise_key(settings)
    return settings
