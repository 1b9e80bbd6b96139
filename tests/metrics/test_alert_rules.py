"""The example alert rules load in Prometheus as they are, and fire when they should:
checked by Debian's promtool (`check rules`, `check config`, and unit cases)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from metrics.scrape import need_promtool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
CASES = Path(__file__).with_name("alerts_test.yml")
ALERTS = (
    "StreamcensusCollectorStalled",
    "StreamcensusTokenUnusable",
    "StreamcensusPartialSnapshots",
    "StreamcensusLoadMissed",
    "StreamcensusDiskFilling",
)


def _promtool(*args: str) -> str:
    done = subprocess.run(
        [need_promtool(), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_rules_and_config_load() -> None:
    assert "SUCCESS: 7 rules found" in _promtool("check", "rules", str(RULES))
    assert "is valid prometheus config file syntax" in _promtool("check", "config", str(CONFIG))


def test_each_alert_fires_when_it_should_and_not_before() -> None:
    cases = CASES.read_text()
    for alert in ALERTS:
        assert f"alertname: {alert}" in cases, f"no unit case for {alert}"
    assert "SUCCESS" in _promtool("test", "rules", str(CASES))


def test_a_broken_rule_is_refused() -> None:
    """The check can fail: a rule with a bad expression is refused by promtool."""
    bad = subprocess.run(
        [need_promtool(), "check", "rules", "/dev/stdin"],
        input="groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode != 0
