"""The mechanism: calibration from OpenDP, the seeded sampler's distribution, the key file."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from streamcensus import noisekey
from streamcensus.errors import ConfigError
from streamcensus.transform.noise import (
    FigureNoise,
    accuracy,
    calibrate,
    expected_abs,
    figure_id,
    privacy_loss,
)

KEY = bytes(range(32))
DRAWS = 100_000


def test_scale_is_calibrated_by_opendp_for_epsilon_per_figure() -> None:
    assert calibrate(0.5) == pytest.approx(2.0, rel=1e-6)
    assert calibrate(1.0) == pytest.approx(1.0, rel=1e-6)
    for epsilon in (0.1, 0.5, 2.0):
        assert privacy_loss(calibrate(epsilon)) <= epsilon + 1e-9
    with pytest.raises(ValueError, match="positive"):
        calibrate(0.0)


def test_sampler_draws_the_discrete_laplace_opendp_calibrates_for() -> None:
    noise = FigureNoise(KEY, 0.5)
    draws = noise.draw([figure_id("test", i) for i in range(DRAWS)])
    q = np.exp(-1 / noise.scale)
    # P(0) = (1 - q) / (1 + q), symmetric, mean |x| = 2q / (1 - q²)
    assert (draws == 0).mean() == pytest.approx((1 - q) / (1 + q), abs=0.01)
    assert draws.mean() == pytest.approx(0.0, abs=0.05)
    assert np.abs(draws).mean() == pytest.approx(expected_abs(noise.scale), rel=0.03)
    assert (draws == 3).mean() == pytest.approx((draws == -3).mean(), abs=0.01)
    # OpenDP's accuracy: |noise| > a with probability at most alpha
    for alpha in (0.05, 0.01):
        assert (np.abs(draws) > accuracy(noise.scale, alpha)).mean() <= alpha * 1.1


def test_a_figure_reads_the_same_every_time_and_differs_by_key_and_identity() -> None:
    ids = [figure_id("channel_people", "2026-11-27", str(c), "chat_list") for c in range(200)]
    first = FigureNoise(KEY).draw(ids)
    assert (FigureNoise(KEY).draw(ids) == first).all()
    assert (FigureNoise(bytes(32)).draw(ids) != first).mean() > 0.5
    assert (FigureNoise(KEY).draw([f"{i}x" for i in ids]) != first).mean() > 0.5
    assert "secret" not in repr(FigureNoise(KEY)) and KEY.hex() not in repr(FigureNoise(KEY))


def test_noisy_counts_are_never_negative_and_keep_nulls() -> None:
    noise = FigureNoise(KEY, 0.1)  # scale 10: many draws below -1
    ids = [figure_id("t", i) for i in range(1000)]
    counts = noise.counts(ids, [1] * 1000)
    assert min(c for c in counts if c is not None) == 0
    assert noise.counts(["a", "b"], [None, 5])[0] is None


def _reference_draw(key: bytes, scale: float, ids: list[str]) -> list[int]:
    """The sampler written figure by figure, as first published: the vectorised one must
    give the same value, bit for bit, for every identity."""
    first = np.empty(len(ids), dtype=np.float64)
    second = np.empty(len(ids), dtype=np.float64)
    for i, figure in enumerate(ids):
        digest = hmac.new(key, figure.encode(), hashlib.sha256).digest()
        first[i] = ((int.from_bytes(digest[:8], "big") >> 11) + 1) / float(2**53)
        second[i] = ((int.from_bytes(digest[8:16], "big") >> 11) + 1) / float(2**53)
    log_q = -1.0 / scale
    draws = np.floor(np.log(first) / log_q) - np.floor(np.log(second) / log_q)
    return [int(d) for d in draws]


def test_the_vectorised_sampler_gives_the_reference_values_bit_for_bit() -> None:
    ids = [figure_id("pair_shared", "2026-11-27", 7, "chat_list", c, c + 1) for c in range(40_000)]
    ids += ["", "é|ü", figure_id("channel_people", "2026-11-27", "123", "chat_activity")]
    for epsilon in (0.1, 0.5, 2.0):
        noise = FigureNoise(KEY, epsilon)
        reference = _reference_draw(KEY, noise.scale, ids)
        assert noise.draw(ids).tolist() == reference
        # bytes identities are the UTF-8 of the same figures
        assert noise.draw(i.encode() for i in ids).tolist() == reference
        # an Arrow string array (and a slice of one) reads the same figures from its buffers
        arrow = pa.array(["skipped", *ids], pa.string())
        assert noise.draw(arrow.slice(1)).tolist() == reference
        assert noise.draw(pa.array(ids, pa.large_string())).tolist() == reference
        exact = [i % 13 for i in range(len(ids))]
        expected = [max(0, e + n) for e, n in zip(exact, reference, strict=True)]
        assert noise.counts(ids, exact) == expected
        assert noise.noisy(ids, exact).tolist() == expected
    assert len(FigureNoise(KEY).draw([])) == 0
    assert FigureNoise(KEY).noisy([], []).tolist() == []
    assert FigureNoise(KEY).noisy(pa.array([], pa.string()), []).tolist() == []
    with pytest.raises(ValueError, match="null"):
        FigureNoise(KEY).draw(pa.array(["a", None]))


def test_noise_key_is_made_once_private_and_refused_when_readable(tmp_path: Path) -> None:
    key = noisekey.load_or_create(tmp_path / "state")
    path = tmp_path / "state" / noisekey.NOISE_KEY_FILE
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert noisekey.load_or_create(tmp_path / "state") == key
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600") as exc:
        noisekey.load_or_create(tmp_path / "state")
    assert key.hex() not in str(exc.value)
    os.chmod(path, 0o600)
    path.write_text(json.dumps({"secret": "abcd"}))
    with pytest.raises(ConfigError, match="not a valid noise key") as bad:
        noisekey.load_or_create(tmp_path / "state")
    assert "abcd" not in str(bad.value)
