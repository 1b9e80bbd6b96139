"""The command line: one-line errors, non-zero exits, documented commands and settings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from streamcensus.cli import cli, main
from streamcensus.config import ENV_ALIASES, ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["nosuchcommand"], "No such command"),
        (["collect", "--every", "7m"], "runs every 5m"),
        (["collect", "--every", "soon"], "not an interval"),
        (["collect", "--count", "3"], "--count only applies with --every"),
        (["collect", "--top-n", "0"], "--top-n"),
        (["demo", "--start", "27/11/2026", "--no-serve"], "YYYY-MM-DD"),
        (["demo", "--scale", "huge"], "--scale"),
        (["simulator", "--scale", "tiny"], "--scale"),
        (["simulator", "--speed", "-1"], "--speed"),
        (["simulator", "--permissions", "everything"], "--permissions"),
        (["demo", "--permissions", "all", "--no-serve"], "--permissions"),
        (["auth", "logout", "--channel", "someone", "--all"], "give --channel or --all"),
        (["auth", "nosuch"], "No such command"),
        (["bench", "--suite", "api", "--days", "3", "--replicate-to", "3"], "more than --days 3"),
    ],
)
def test_bad_arguments_give_one_line_error(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = run(["--data-dir", str(tmp_path), *argv], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("streamcensus: error:")
    assert needle in lines[0]
    assert "Traceback" not in err


def test_missing_credentials_name_the_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TWITCH_CLIENT_ID", "TWITCH_CLIENT_SECRET", "TWITCH_MODERATOR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STREAMCENSUS_HELIX_URL", "https://api.twitch.tv/helix")
    monkeypatch.setenv("STREAMCENSUS_AUTH_URL", "https://id.twitch.tv/oauth2")
    code, _out, err = run(["--data-dir", str(tmp_path), "collect"], capsys)
    assert code == 2
    assert err.strip() == (
        "streamcensus: error: missing Twitch credentials: "
        "set TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET"
    )


def test_bad_config_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "sc.toml"
    config.write_text("top_n = -4\n")
    code, _out, err = run(["--config", str(config), "config"], capsys)
    assert code == 2
    assert err.startswith("streamcensus: error: invalid setting top_n")
    assert len(err.strip().splitlines()) == 1


def test_config_masks_secrets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWITCH_CLIENT_SECRET", "hunter2-secret")
    monkeypatch.setenv("TWITCH_MODERATOR_TOKEN", "token-value")
    code, out, _err = run(["--data-dir", str(tmp_path), "config"], capsys)
    assert code == 0
    shown = json.loads(out)
    assert shown["client_secret"] == "***" and shown["moderator_token"] == "***"
    assert "hunter2" not in out and "token-value" not in out


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streamcensus", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.strip() == "streamcensus, version 0.1.0"


def test_every_command_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in cli.commands:
        assert f"streamcensus {name}" in readme, f"README does not document `{name}`"


def test_every_setting_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    aliases = {field: env for env, field in ENV_ALIASES.items()}
    for name in Settings.model_fields:
        variable = aliases.get(name, ENV_PREFIX + name.upper())
        assert re.search(rf"^#?\s*{variable}=", example, re.M), f"{variable} missing"
