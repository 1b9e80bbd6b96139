"""`streamcensus simulator` announces its chat ports and never prints a secret."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from streamcensus.bench.simproc import free_port

SECRET = "s3cret-never-shown-42"


def test_simulator_command_shows_chat_and_hides_the_secret() -> None:
    port = free_port()
    env = {**os.environ, "TWITCH_CLIENT_SECRET": SECRET}
    cmd = [sys.executable, "-m", "streamcensus", "simulator", "--port", str(port)]
    cmd += ["--start", "2026-11-27T20:10:00Z", "--speed", "0", "--client-id", "cid"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            text = proc.stdout.readline()
            assert text, f"the simulator stopped: {lines[-5:]}"
            lines.append(text)
            if text.startswith("Ctrl-C"):
                break
        output = "".join(lines)
        assert SECRET not in output
        assert "$TWITCH_CLIENT_SECRET" in output
        info = httpx.get(f"http://127.0.0.1:{port}/_sim/info").json()
        assert f"irc://{info['chat']['irc']}" in output and info["chat"]["websocket"] in output
        # the secret from the environment is required: a wrong one is refused
        token = httpx.post(
            f"http://127.0.0.1:{port}/oauth2/token",
            params={
                "client_id": "cid",
                "client_secret": "wrong",
                "grant_type": "client_credentials",
            },
        )
        assert token.status_code in (400, 401, 403)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    rest = proc.stdout.read() if proc.stdout else ""
    assert SECRET not in rest
