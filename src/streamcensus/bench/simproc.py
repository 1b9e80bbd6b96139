"""The simulated Twitch in a child process, driven over HTTP by the benchmarks.

The server runs as `python -m streamcensus simulator` on 127.0.0.1, so the client under test
(the collector, a load generator, another Helix library) does not share its interpreter
and GIL. The benchmark reads the child's memory and CPU with psutil and drives its clock
through `POST /_sim/clock`.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import IO, Any

import httpx
import psutil

from streamcensus.errors import StreamcensusError
from streamcensus.simulator.permissions import PermissionsMode
from streamcensus.timeutil import isoformat_z

STARTUP_TIMEOUT = 300.0  # seconds; the fr population takes ~10 s to build on 2 cores
NO_RATE_LIMIT = 10_000_000  # points per minute: a bucket a benchmark never empties
PORT_ATTEMPTS = 5


class SimulatorError(StreamcensusError):
    """The simulator child did not start or stopped answering."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the child binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class SimulatorProcess:
    """A `streamcensus simulator` child on 127.0.0.1 with a standing clock at `start`."""

    def __init__(
        self,
        scale: str,
        start: dt.datetime,
        *,
        seed: int = 42,
        rate_limit: int = 800,
        startup_timeout: float = STARTUP_TIMEOUT,
        permissions: PermissionsMode = "realistic",
    ) -> None:
        self.scale = scale
        self.seed = seed
        self.start_time = start
        self.rate_limit = rate_limit
        # `realistic` (the simulator's default): chat lists only of the channels whose
        # broadcaster consented; `all-moderated`: every chat list readable, a LOAD-TEST mode
        # Twitch never grants, for the full workload of 2,000 chat lists
        self.permissions: PermissionsMode = permissions
        self.startup_timeout = startup_timeout
        self.port = 0
        self.startup_seconds = 0.0
        self.operator_id = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._http = httpx.Client(timeout=60.0)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def helix_url(self) -> str:
        return f"{self.base_url}/helix"

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/oauth2"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise SimulatorError("the simulator is not running")
        return self._proc.pid

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "streamcensus",
            "simulator",
            "--port",
            str(self.port),
            "--scale",
            self.scale,
            "--seed",
            str(self.seed),
            "--start",
            isoformat_z(self.start_time),
            "--speed",
            "0",
            "--rate-limit",
            str(self.rate_limit),
            "--permissions",
            self.permissions,
        ] + (
            # one operator token reads every chat list, in one bucket (as pyTwitchAPI does)
            ["--consent-share", "0"] if self.load_test else []
        )

    @property
    def load_test(self) -> bool:
        """True in the all-moderated mode (more than Twitch grants: a load test)."""
        return self.permissions == "all-moderated"

    def start(self) -> None:
        """Spawn the child on a free port and wait until it answers `/_sim/info`."""
        last_error = ""
        for _ in range(PORT_ATTEMPTS):
            self.port = free_port()
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
            began = time.monotonic()
            self._proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            if self._wait_until_answering():
                self.startup_seconds = time.monotonic() - began
                info = self._http.get(f"{self.base_url}/_sim/info").json()
                self.operator_id = str(info["operator"]["id"])
                return
            last_error = self._output()
            self.stop()
            if "cannot listen" not in last_error:
                break
        lines = [line for line in last_error.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else "no output"
        raise SimulatorError(f"the simulator child did not start: {reason}")

    def _wait_until_answering(self) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                if self._http.get(f"{self.base_url}/_sim/info", timeout=2.0).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after 10 s)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        self.stop()
        self._http.close()

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- measuring the child -----------------------------------------------------------

    def rss_bytes(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    # -- driving its clock -------------------------------------------------------------

    def set_clock(self, moment: dt.datetime | None = None, speed: float | None = None) -> float:
        """Jump to `moment` and/or change the speed; return the simulated epoch after."""
        body: dict[str, Any] = {}
        if moment is not None:
            body["set"] = isoformat_z(moment)
        if speed is not None:
            body["speed"] = speed
        response = self._http.post(f"{self.base_url}/_sim/clock", json=body)
        response.raise_for_status()
        return float(response.json()["epoch"])

    def clock_epoch(self) -> float:
        response = self._http.get(f"{self.base_url}/_sim/clock")
        response.raise_for_status()
        return float(response.json()["epoch"])

    def warm(self, moment: dt.datetime) -> float:
        """Make the simulator compute the tick of `moment`; return the seconds it took.

        The first question about a tick builds the whole tick (every chat list) at once;
        real Twitch has no such step, so the collector benchmarks warm the tick first.
        """
        began = time.perf_counter()
        response = self._http.get(
            f"{self.base_url}/_sim/truth/streams", params={"at": isoformat_z(moment)}
        )
        response.raise_for_status()
        return time.perf_counter() - began

    def truth_chatter_logins(self, channel_id: str, moment: dt.datetime) -> list[str]:
        """The simulator's ground truth: every login in a channel's chat at `moment`."""
        response = self._http.get(
            f"{self.base_url}/_sim/truth/chatters/{channel_id}",
            params={"at": isoformat_z(moment)},
        )
        response.raise_for_status()
        return [str(item["user_login"]) for item in response.json()["data"]]

    def user_token(self, client_id: str, user_id: str, scope: str) -> dict[str, Any]:
        """A user token through the Twitch-CLI-mock route (`/auth/authorize`)."""
        response = self._http.post(
            f"{self.base_url}/auth/authorize",
            params={
                "client_id": client_id,
                "client_secret": "bench-secret",
                "grant_type": "user_token",
                "user_id": user_id,
                "scope": scope,
            },
        )
        response.raise_for_status()
        grant: dict[str, Any] = response.json()
        return grant

    def app_token(self, client_id: str) -> str:
        """An app token (client credentials)."""
        response = self._http.post(
            f"{self.auth_url}/token",
            params={
                "client_id": client_id,
                "client_secret": "bench-secret",
                "grant_type": "client_credentials",
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])
