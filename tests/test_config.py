"""Settings: precedence, validation, secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streamcensus.config import Settings, env_example, env_variable, load_settings
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


def test_env_example_is_generated_from_the_settings() -> None:
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    assert example == env_example(), "run `streamcensus config --env-example > .env.example`"
    for name in Settings.model_fields:
        assert f"\n{env_variable(name)}=" in example


def test_every_layer_in_order(tmp_path: Path) -> None:
    """defaults < TOML < secrets file < environment < options, one setting per boundary."""
    config = tmp_path / "sc.toml"
    config.write_text(f'data_dir = "{tmp_path}"\ntop_n = 11\nclient_id = "toml"\nlanguage = "de"\n')
    secrets = tmp_path / "state" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('client_id = "file"\nclient_secret = "from-file"\n')
    os.chmod(secrets, 0o600)
    env = {"STREAMCENSUS_LANGUAGE": "es", "TWITCH_CLIENT_SECRET": ""}
    settings = load_settings(config, {"top_n": 12}, environ=env)
    assert settings.k == 10  # default
    assert settings.top_n == 12  # option over TOML
    assert settings.client_id == "file"  # secrets file over TOML
    assert settings.client_secret.get_secret_value() == "from-file"  # empty TWITCH_* unset
    assert settings.language == "es"  # environment over TOML
    env = {"STREAMCENSUS_CLIENT_ID": "prefixed", "TWITCH_CLIENT_ID": "twitch"}
    assert load_settings(config, environ=env).client_id == "twitch"
    assert load_settings(config, environ={"CLIENT_ID": "bare"}).client_id == "file"


def test_direct_settings_read_nothing_but_their_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMCENSUS_TOP_N", "5")
    assert Settings(data_dir=tmp_path).top_n == 2000


def test_key_dir_and_url_credentials(tmp_path: Path) -> None:
    env = {"STREAMCENSUS_DATA_DIR": str(tmp_path), "STREAMCENSUS_KEY_DIR": ""}
    assert load_settings(environ=env).key_store_dir == tmp_path / "state"
    env["STREAMCENSUS_KEY_DIR"] = str(tmp_path / "keys")
    env["STREAMCENSUS_HELIX_URL"] = "https://me:hunter2@helix.example/helix"
    settings = load_settings(environ=env)
    assert settings.key_store_dir == tmp_path / "keys"
    shown = settings.public_dict()
    assert shown["helix_url"] == "https://***@helix.example/helix"
    assert "hunter2" not in str(shown) and "me:" not in str(shown)
