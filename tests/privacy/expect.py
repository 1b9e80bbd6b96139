"""What a published people count must read, computed as the warehouse does it: the exact
count plus the noise of that figure under the installation's noise key, then k.

Tests that know the exact count of a hand-made audience use this to assert the published
value exactly (the noise is a function of the key and the figure's identity, so it can be
recomputed), instead of a tolerance."""

from __future__ import annotations

import duckdb

from streamcensus import noisekey
from streamcensus.config import Settings
from streamcensus.lake.schema import CURATED
from streamcensus.transform.noise import FigureNoise, figure_id


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


def sessions(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A connection with `viewing_sessions`: the exact, never published, curated sessions."""
    con = duckdb.connect()
    root = settings.lake_dir / CURATED / "viewing_sessions"
    con.execute(
        "create view viewing_sessions as select * from "
        f"read_parquet('{root}/*/*.parquet', hive_partitioning = false)"
    )
    return con
