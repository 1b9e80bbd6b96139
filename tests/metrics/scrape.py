"""Reading a process's probe endpoints over real HTTP, and checking the exposition."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

PROMTOOL = shutil.which("promtool")


def need_promtool() -> str:
    """Debian's promtool (package `prometheus`, installed by `make test`); a failure in CI."""
    if PROMTOOL is None:
        message = "promtool is missing: run `make promtool` (apt-get install prometheus)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    return PROMTOOL


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition: (name, labels) → value (parsed by prometheus_client)."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The value of one sample; fails when it is not exposed."""
    key = (name, frozenset(labels.items()))
    found = samples(text)
    assert key in found, f"{name}{labels} not exposed; have {sorted(k[0] for k in found)}"
    return found[key]


def promtool_check_metrics(text: str) -> None:
    """`promtool check metrics` finds no problem in the exposition."""
    done = subprocess.run(
        [need_promtool(), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


async def wait_until_up(client: httpx.AsyncClient, base: str) -> None:
    """Poll /healthz until the probe server answers (bounded; no timing is asserted)."""
    for _ in range(500):
        try:
            response = await client.get(f"{base}/healthz")
        except httpx.TransportError:
            await asyncio.sleep(0.02)
            continue
        assert response.status_code == 200
        assert response.json() == {"status": "alive"}
        return
    pytest.fail("the probe server did not answer")
