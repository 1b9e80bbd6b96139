"""Typed settings: defaults, then a TOML file, then `STREAMCENSUS_*` / `TWITCH_*` variables.

Secrets (client secret, moderator token) come from the environment or from the 0600
file `state/secrets.toml` under the data directory (P5). `Settings.public_dict()` is
the only way settings are shown, and it masks every secret.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from streamcensus.errors import ConfigError
from streamcensus.simulator.permissions import DEFAULT_CONSENT_SHARE, PermissionsMode

ENV_PREFIX = "STREAMCENSUS_"
DEFAULT_CONFIG_FILE = "streamcensus.toml"

# Variables that do not follow the STREAMCENSUS_ prefix (Twitch's usual names).
ENV_ALIASES: dict[str, str] = {
    "TWITCH_CLIENT_ID": "client_id",
    "TWITCH_CLIENT_SECRET": "client_secret",
    "TWITCH_MODERATOR_TOKEN": "moderator_token",
}
SECRET_FIELDS = ("client_secret", "moderator_token")

Source = Literal["simulator", "helix"]
Scale = Literal["small", "fr"]


class Settings(BaseModel):
    """Every setting of streamcensus, with its default."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data_dir: Path = Field(
        Path("data"), description="lake, warehouse, state (keys, tokens) and logs"
    )
    source: Source = Field("simulator", description="where `run`/`demo` take data from")
    helix_url: str = Field("https://api.twitch.tv/helix", description="Helix API base URL")
    auth_url: str = Field("https://id.twitch.tv/oauth2", description="OAuth base URL")
    client_id: str = Field("", description="Twitch application client id")
    client_secret: SecretStr = Field(SecretStr(""), description="Twitch application secret")
    moderator_token: SecretStr = Field(
        SecretStr(""),
        description="a user token managed by hand (moderator:read:chatters), for chat lists; "
        "`streamcensus auth login` stores and refreshes tokens instead",
    )
    language: str = Field("fr", description="language of the community (ISO 639-1)")
    top_n: int = Field(2000, ge=1, le=100_000, description="live channels listed per snapshot")
    tracked: list[str] = Field(default_factory=list, description="logins always collected")
    optout_channels: list[str] = Field(
        default_factory=list, description="channel logins never collected (P4)"
    )
    optout_viewers: list[str] = Field(
        default_factory=list,
        description="viewer logins (or ids) dropped at collection; logins resolved to ids (P4)",
    )
    known_bots: list[str] = Field(
        default_factory=lambda: [
            "nightbot",
            "streamelements",
            "moobot",
            "fossabot",
            "wizebot",
            "streamlabs",
            "soundalerts",
            "sery_bot",
        ],
        description="public service bots kept by name and flagged (P6)",
    )
    interval_seconds: int = Field(
        300, ge=300, le=300, description="seconds between snapshots (the 5-minute grid)"
    )
    concurrency: int = Field(16, ge=1, le=256, description="chatter requests in flight")
    k: int = Field(10, ge=2, description="minimum group size of any published viewer count (P3)")
    bot_min_chats: int = Field(
        20, ge=2, description="accounts in at least this many chats at one snapshot count as bots"
    )
    retention_days: int = Field(30, ge=1, description="days pseudonymous presence is kept (P2)")
    key_rotation_days: int = Field(30, ge=1, description="days a pseudonym key is used (P2)")
    load_at: str = Field("02:00", description="UTC time of the daily load in `run`")
    host: str = Field("127.0.0.1", description="address `serve` listens on")
    port: int = Field(8000, ge=1, le=65535, description="port `serve` listens on")
    sim_scale: Scale = Field("small", description="simulator population: small or fr")
    sim_seed: int = Field(42, description="simulator seed")
    sim_permissions: PermissionsMode = Field(
        "realistic",
        description="who may read chat lists in the simulator: realistic, or all-moderated "
        "(a load-test mode Twitch never grants: the operator moderates every channel)",
    )
    sim_operator_moderates: list[str] = Field(
        default_factory=list, description="simulated channels the operator moderates (logins)"
    )
    sim_consent_share: float = Field(
        DEFAULT_CONSENT_SHARE,
        ge=0.0,
        le=1.0,
        description="share of simulated broadcasters who consent to chat-list reading",
    )

    @field_validator(
        "tracked",
        "optout_channels",
        "optout_viewers",
        "known_bots",
        "sim_operator_moderates",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip().lower() for item in value.split(",") if item.strip()]
        if isinstance(value, list):
            return [str(item).strip().lower() for item in value]
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise ValueError("language must be a 2-letter code such as 'fr'")
        return value.lower()

    @field_validator("helix_url", "auth_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def public_dict(self) -> dict[str, Any]:
        """Settings as shown to a person: secrets masked (P5), opted-out viewers counted (P1)."""
        shown = self.model_dump(mode="json")
        for name in SECRET_FIELDS:
            shown[name] = "***" if getattr(self, name).get_secret_value() else ""
        shown["optout_viewers"] = f"{len(self.optout_viewers)} viewer(s)"
        return shown


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        key = ENV_PREFIX + name.upper()
        if key in environ:
            values[name] = environ[key]
    for key, name in ENV_ALIASES.items():
        if environ.get(key):
            values[name] = environ[key]
    return values


def _secrets_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "state" / "secrets.toml"
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} must be readable by its owner only: run `chmod 600 {path}`")
    values = _read_toml(path)
    unknown = set(values) - set(SECRET_FIELDS) - {"client_id"}
    if unknown:
        raise ConfigError(f"{path} may only hold client_id and secrets, not {sorted(unknown)}")
    return values


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "settings"
    return f"invalid setting {where}: {err['msg']}"


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from defaults < TOML file < secrets file < environment < overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
    if config_file is None and Path(DEFAULT_CONFIG_FILE).is_file():
        config_file = Path(DEFAULT_CONFIG_FILE)
    if config_file is not None:
        values.update(_read_toml(config_file))
    env_values = _env_values(env)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    data_dir = Path(
        given.get("data_dir") or env_values.get("data_dir") or values.get("data_dir") or "data"
    )
    values.update(_secrets_file(data_dir))
    values.update(env_values)
    values.update(given)
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} (see .env.example for the list)")
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None
