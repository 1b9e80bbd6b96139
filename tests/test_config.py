"""Settings: precedence, validation, secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streamcensus.config import load_settings
from streamcensus.errors import ConfigError


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.data_dir == Path("data")
    assert settings.top_n == 2000
    assert settings.language == "fr"
    assert settings.k == 10
    assert settings.helix_url == "https://api.twitch.tv/helix"


def test_precedence_file_env_override(tmp_path: Path) -> None:
    config = tmp_path / "sc.toml"
    config.write_text('top_n = 50\nlanguage = "de"\ntracked = ["Alpha", "beta"]\n')
    env = {"STREAMCENSUS_TOP_N": "70", "STREAMCENSUS_DATA_DIR": str(tmp_path / "d")}
    settings = load_settings(config, {"language": "es"}, environ=env)
    assert settings.top_n == 70
    assert settings.language == "es"
    assert settings.tracked == ["alpha", "beta"]
    assert settings.data_dir == tmp_path / "d"


def test_env_lists_and_twitch_names(tmp_path: Path) -> None:
    env = {
        "STREAMCENSUS_OPTOUT_CHANNELS": "Foo, bar ,",
        "TWITCH_CLIENT_ID": "abc",
        "TWITCH_CLIENT_SECRET": "s3cret",
        "STREAMCENSUS_DATA_DIR": str(tmp_path),
    }
    settings = load_settings(environ=env)
    assert settings.optout_channels == ["foo", "bar"]
    assert settings.client_id == "abc"
    assert settings.client_secret.get_secret_value() == "s3cret"
    shown = settings.public_dict()
    assert shown["client_secret"] == "***"
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(shown)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"STREAMCENSUS_TOP_N": "zero"}, "top_n"),
        ({"STREAMCENSUS_LANGUAGE": "french"}, "language"),
        ({"STREAMCENSUS_HELIX_URL": "ftp://x"}, "helix_url"),
        ({"STREAMCENSUS_K": "1"}, "k"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_settings(environ={**env, "STREAMCENSUS_DATA_DIR": str(tmp_path)})


def test_unknown_key_and_bad_toml(tmp_path: Path) -> None:
    config = tmp_path / "sc.toml"
    config.write_text("topn = 3\n")
    with pytest.raises(ConfigError, match="unknown setting 'topn'"):
        load_settings(config, environ={"STREAMCENSUS_DATA_DIR": str(tmp_path)})
    config.write_text("top_n = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config, environ={"STREAMCENSUS_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_secrets_file_must_be_private(tmp_path: Path) -> None:
    secrets = tmp_path / "state" / "secrets.toml"
    secrets.parent.mkdir(parents=True)
    secrets.write_text('client_secret = "from-file"\n')
    os.chmod(secrets, 0o644)
    env = {"STREAMCENSUS_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="chmod 600"):
        load_settings(environ=env)
    os.chmod(secrets, 0o600)
    assert load_settings(environ=env).client_secret.get_secret_value() == "from-file"
    secrets.write_text("top_n = 3\n")
    with pytest.raises(ConfigError, match="may only hold"):
        load_settings(environ=env)
