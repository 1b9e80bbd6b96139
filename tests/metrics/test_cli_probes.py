"""`collect --every` and `load --every-day-at` as real processes with `--metrics-port`: the
probes answer over HTTP, SIGTERM still stops the process cleanly, bad use is one line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from metrics.scrape import value
from streamcensus.metrics.probes import bind_socket


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _process(args: list[str], data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "STREAMCENSUS_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamcensus", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)


def _wait_up(process: subprocess.Popen[str], base: str) -> None:
    for _ in range(1200):  # bounded: 120 s of polls
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the probes did not come up")


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err


def test_collect_every_serves_its_probes_and_stops_on_sigterm(
    tmp_path: Path, running_simulator: Callable[..., Any]
) -> None:
    handle = running_simulator(speed=1.0)  # real time: the next grid time is minutes away
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["collect", "--every", "5m", "--helix-url", handle.helix_url]
    args += ["--auth-url", handle.auth_url, "--metrics-port", str(port)]
    with _process(args, tmp_path) as process:
        _wait_up(process, base)
        text = httpx.get(f"{base}/metrics").text
        assert value(text, "streamcensus_snapshots_total", status="complete") == 0
        assert value(text, "streamcensus_build_info", version=_version(), process="collector")
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        _stop(process)


def test_load_every_day_serves_its_probes_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["load", "--every-day-at", "02:00", "--metrics-port", str(port)]
    with _process(args, tmp_path) as process:
        _wait_up(process, base)
        for _ in range(600):  # the catch-up load (nothing to load) runs beside the server
            text = httpx.get(f"{base}/metrics").text
            if value(text, "streamcensus_load_attempts_total", result="ok") == 1:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the catch-up load was not counted")
        assert value(text, "streamcensus_load_attempts_total", result="failed") == 0
        assert value(text, "streamcensus_last_loaded_day_timestamp_seconds") == 0
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        _stop(process)


def _version() -> str:
    from streamcensus import __version__

    return __version__


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["collect", "--metrics-port", "9"], "--metrics-port only applies with --every"),
        (["load", "--metrics-port", "9"], "--metrics-port only applies with --every-day-at"),
    ],
)
def test_metrics_port_without_a_service_is_a_usage_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streamcensus", *args],
        env={**os.environ, "STREAMCENSUS_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["collect", "--every", "5m"], ["load", "--every-day-at"]])
def test_a_taken_metrics_port_is_one_line(tmp_path: Path, command: list[str]) -> None:
    taken = bind_socket("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "streamcensus", *command, "--metrics-port", str(port)],
            env={**os.environ, "STREAMCENSUS_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        taken.close()
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0]
    assert "choose another with --metrics-port" in lines[0]
