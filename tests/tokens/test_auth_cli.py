"""`streamcensus auth` against the simulator over real HTTP: login (device code flow, in a
child process, approved through the control route), status, logout, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from streamcensus.cli import main
from streamcensus.simulator.server import SimulatorHandle

CODE_LINE = re.compile(r"and enter the code\s+([A-Z]{8})")
WAIT = 60.0  # a bound on the wait for the child's end (it ends in about a second)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def flowing(running_simulator: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    """The fake world on a clock at 20x: a 5 s polling interval takes a quarter of a second,
    and a code stays valid for 90 real seconds, far longer than a child takes to start."""
    return running_simulator(speed=20.0)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[SimulatorHandle], None]]:
    for name in ("TWITCH_CLIENT_ID", "TWITCH_CLIENT_SECRET", "TWITCH_MODERATOR_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    def point_at(handle: SimulatorHandle) -> None:
        monkeypatch.setenv("STREAMCENSUS_AUTH_URL", handle.auth_url)
        monkeypatch.setenv("STREAMCENSUS_HELIX_URL", handle.helix_url)

    yield point_at


def login(
    handle: SimulatorHandle, data_dir: Path, login_as: str, *extra: str, action: str = "approve"
) -> subprocess.CompletedProcess[str]:
    """`streamcensus auth login` in a child; the person answers once the code is shown."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("TWITCH_", "STREAMCENSUS_"))
    }
    environ.update(STREAMCENSUS_AUTH_URL=handle.auth_url, STREAMCENSUS_HELIX_URL=handle.helix_url)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamcensus",
            "--data-dir",
            str(data_dir),
            "auth",
            "login",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    assert child.stdout is not None
    shown: list[str] = []
    code = None
    # blocking reads are bounded: the child ends by itself once its code expires (90 s here)
    while code is None:
        line = child.stdout.readline()
        if not line:
            break
        shown.append(line)
        match = CODE_LINE.search(line)
        if match:
            code = match.group(1)
    assert code is not None, "".join(shown)
    body = {"user_code": code, "login": login_as, "action": action}
    httpx.post(f"{handle.base_url}/_sim/auth/device", json=body).raise_for_status()
    out, err = child.communicate(timeout=WAIT)
    return subprocess.CompletedProcess(child.args, child.returncode, "".join(shown) + out, err)


def test_login_status_and_logout(
    flowing: SimulatorHandle,
    tmp_path: Path,
    env: Callable[[SimulatorHandle], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    done = login(flowing, tmp_path, "streamcensus_operator")
    assert done.returncode == 0, done.stderr
    assert f"{flowing.base_url}/activate?public=true&device-code=" in done.stdout
    assert "stored the token of streamcensus_operator (user 500), scopes " in done.stdout
    assert "moderator:read:chatters user:read:moderated_channels" in done.stdout
    token_file = tmp_path / "state" / "tokens" / "500.json"
    assert token_file.stat().st_mode & 0o777 == 0o600
    secret = json.loads(token_file.read_text())["access_token"]
    assert secret not in done.stdout + done.stderr

    consent = login(flowing, tmp_path, "bravo_fr", "--broadcaster")
    assert consent.returncode == 0, consent.stderr
    assert "consent: the chat list of bravo_fr's own channel" in consent.stdout

    env(flowing)
    code, out, err = run(["--data-dir", str(tmp_path), "auth", "status"], capsys)
    assert code == 0, err
    lines = sorted(out.strip().splitlines(), reverse=True)
    assert len(lines) == 2
    assert re.fullmatch(
        r"streamcensus_operator \(user 500\): operator, ok; scopes moderator:read:chatters "
        r"user:read:moderated_channels; expires in [0-9]+ h [0-9]{2} min; reads 8 chat list\(s\): "
        r"alpha_fr, bravo_fr, charlie_en, delta_fr, echo_de, foxtrot_fr, night_owl, offline_chan",
        lines[0],
    ), lines[0]
    assert lines[1].startswith("bravo_fr (user 2): broadcaster, ok; scopes moderator:read:chatters")
    assert lines[1].endswith("reads 1 chat list(s): bravo_fr")
    code, out, _ = run(["--data-dir", str(tmp_path), "auth", "status", "--json"], capsys)
    rows = json.loads(out)
    assert [r["login"] for r in rows] == ["bravo_fr", "streamcensus_operator"] or [
        r["login"] for r in rows
    ] == ["streamcensus_operator", "bravo_fr"]
    assert secret not in out and "refresh_token" not in out

    code, out, _ = run(["--data-dir", str(tmp_path), "auth", "logout"], capsys)
    assert code == 0
    assert out.strip() == (
        "streamcensus_operator: logged out (revoked on Twitch; token file deleted)"
    )
    assert not token_file.exists()
    validate = httpx.get(
        f"{flowing.auth_url}/validate", headers={"Authorization": f"OAuth {secret}"}
    )
    assert validate.status_code == 401
    code, _, err = run(["--data-dir", str(tmp_path), "auth", "logout"], capsys)
    assert code == 2
    assert err.strip() == (
        "streamcensus: error: no stored operator token (see `streamcensus auth status`)"
    )
    code, out, _ = run(["--data-dir", str(tmp_path), "auth", "logout", "--all"], capsys)
    assert out.strip() == "bravo_fr: consent withdrawn (revoked on Twitch; token file deleted)"


def test_declined_login_is_one_line(flowing: SimulatorHandle, tmp_path: Path) -> None:
    done = login(flowing, tmp_path, "", action="deny")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "streamcensus: error: the authorization was declined on Twitch: nothing was stored"
    )
    assert not (tmp_path / "state" / "tokens").exists()


def one_line(code: int, err: str) -> str:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("streamcensus: error: ")
    return lines[0].removeprefix("streamcensus: error: ")


def test_wrong_client_credentials(
    running_simulator: Callable[..., SimulatorHandle],
    tmp_path: Path,
    env: Callable[[SimulatorHandle], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handle = running_simulator(require_client_id="good", require_client_secret="right")
    env(handle)
    monkeypatch.setenv("TWITCH_CLIENT_ID", "good")
    monkeypatch.setenv("TWITCH_CLIENT_SECRET", "wrong")
    code, _, err = run(["--data-dir", str(tmp_path), "auth", "login"], capsys)
    assert one_line(code, err) == (
        "POST /oauth2/token: Twitch refused the client credentials (403): "
        "check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET"
    )
    assert "wrong" not in err


def test_auth_server_down_or_answering_garbage(
    running_simulator: Callable[..., SimulatorHandle],
    tmp_path: Path,
    env: Callable[[SimulatorHandle], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handle = running_simulator()
    env(handle)
    plan = {"rules": [{"path": "/oauth2/token", "fault": "malformed", "rate": 1.0}]}
    httpx.post(f"{handle.base_url}/_sim/faults", json=plan).raise_for_status()
    code, _, err = run(["--data-dir", str(tmp_path), "auth", "login"], capsys)
    assert one_line(code, err).startswith(f"the auth server at {handle.auth_url} answers garbage (")
    # nothing listens here: not a simulator, so real credentials are needed, then no answer
    monkeypatch.setenv("STREAMCENSUS_AUTH_URL", "http://127.0.0.1:9/oauth2")
    monkeypatch.setenv("TWITCH_CLIENT_ID", "cid")
    monkeypatch.setenv("TWITCH_CLIENT_SECRET", "secret")
    code, _, err = run(["--data-dir", str(tmp_path), "auth", "status"], capsys)
    assert code == 0  # nothing stored: nothing to ask
    (tmp_path / "state" / "tokens").mkdir(parents=True)
    stored = tmp_path / "state" / "tokens" / "500.json"
    stored.write_text(
        json.dumps(
            {
                "user_id": "500",
                "login": "op",
                "role": "operator",
                "client_id": "cid",
                "auth_url": "http://127.0.0.1:9/oauth2",
                "scopes": [],
                "access_token": "a",
                "obtained_at": "2026-11-27T20:00:00Z",
            }
        )
    )
    stored.chmod(0o600)
    code, _, err = run(["--data-dir", str(tmp_path), "auth", "status"], capsys)
    assert one_line(code, err).startswith(
        "cannot reach the auth server at http://127.0.0.1:9/oauth2 ("
    )


def test_bad_token_files_are_one_line(
    flowing: SimulatorHandle,
    tmp_path: Path,
    env: Callable[[SimulatorHandle], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    env(flowing)
    folder = tmp_path / "state" / "tokens"
    folder.mkdir(parents=True)
    bad = folder / "500.json"
    bad.write_text("{}")
    bad.chmod(0o644)
    code, _, err = run(["--data-dir", str(tmp_path), "auth", "status"], capsys)
    assert one_line(code, err) == (
        f"token file {bad} is readable by others (mode 644): run `chmod 600 {bad}`, "
        "or delete it and run `streamcensus auth login` again"
    )
    bad.chmod(0o600)
    bad.write_text("garbage")
    code, _, err = run(["--data-dir", str(tmp_path), "collect"], capsys)
    assert one_line(code, err) == (
        f"token file {bad} is not a token record (not valid JSON): "
        "delete it and run `streamcensus auth login` again"
    )


def _foreign_token(handle: SimulatorHandle, login_as: str) -> dict[str, object]:
    """A token that another application (client id `other-app`) obtained for `login_as`."""
    form = {"client_id": "other-app", "scopes": "moderator:read:chatters"}
    device = httpx.post(f"{handle.auth_url}/device", data=form).json()
    answer = {"user_code": device["user_code"], "login": login_as}
    httpx.post(f"{handle.base_url}/_sim/auth/device", json=answer).raise_for_status()
    poll = {
        "client_id": "other-app",
        "device_code": device["device_code"],
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
    }
    granted = httpx.post(f"{handle.auth_url}/token", data=poll)
    assert granted.status_code == 200, granted.text  # the first poll needs no wait
    body: dict[str, object] = granted.json()
    return body


def test_status_names_unusable_tokens(
    flowing: SimulatorHandle,
    tmp_path: Path,
    env: Callable[[SimulatorHandle], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert login(flowing, tmp_path, "streamcensus_operator").returncode == 0
    folder = tmp_path / "state" / "tokens"
    record = json.loads((folder / "500.json").read_text())
    # the refresh token is used elsewhere (it rotates), which also ends the access token
    used = {
        "grant_type": "refresh_token",
        "client_id": record["client_id"],
        "refresh_token": record["refresh_token"],
    }
    httpx.post(f"{flowing.auth_url}/token", data=used).raise_for_status()
    # a token of another application, stored as if it were this one's
    foreign = _foreign_token(flowing, "helper_mod")
    disguised = {
        **record,
        "user_id": "501",
        "login": "helper_mod",
        "access_token": foreign["access_token"],
        "refresh_token": foreign["refresh_token"],
    }
    (folder / "501.json").write_text(json.dumps(disguised))
    (folder / "501.json").chmod(0o600)
    env(flowing)
    code, out, err = run(["--data-dir", str(tmp_path), "auth", "status"], capsys)
    assert code == 0, err
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert lines["streamcensus_operator (user 500)"].startswith(
        "operator, unusable: the refresh token was refused (Invalid refresh token): "
        "the authorization is gone (revoked or consent withdrawn) or the refresh token was "
        "used elsewhere; "
    )
    assert lines["helper_mod (user 501)"].startswith(
        "operator, unusable: the token was issued to client id other-app, not the configured "
        "streamcensus-simulator: run `streamcensus auth login` with this application; "
    )
    assert "reads 0 chat list(s)" in lines["helper_mod (user 501)"]
    # the same file, honest about its application: refused before any request
    (folder / "501.json").write_text(json.dumps({**disguised, "client_id": "other-app"}))
    code, out, _ = run(["--data-dir", str(tmp_path), "auth", "status"], capsys)
    assert "helper_mod (user 501): operator, unusable: stored for client id other-app" in out
