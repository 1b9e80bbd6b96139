"""Typed settings on pydantic-settings: defaults < TOML file < secrets file < environment <
command-line options.

One declaration, `Settings`, gives the sources (`settings_customise_sources`), the
validation, `streamcensus config` (`public_dict`, secrets and URL credentials masked) and
`.env.example` (`env_example`, checked by a test). Variables are `STREAMCENSUS_<NAME>`,
plus Twitch's usual `TWITCH_CLIENT_ID`, `TWITCH_CLIENT_SECRET` and
`TWITCH_MODERATOR_TOKEN`. Secrets (client secret, moderator token) come from the
environment or from the 0600 file `state/secrets.toml` under the data directory (P5).
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.sources.utils import parse_env_vars

from streamcensus.errors import ConfigError
from streamcensus.knownbots import default_known_bots, read_bot_list
from streamcensus.simulator.permissions import DEFAULT_CONSENT_SHARE, PermissionsMode
from streamcensus.timeutil import GRID_SECONDS
from streamcensus.urls import mask_credentials

# A person counts in at most this many chats per day and signal in the per-chat people
# counts and overlaps: the contribution bound behind the budget in docs/privacy.md.
DEFAULT_CONTRIBUTION_BOUND = 6

ENV_PREFIX = "STREAMCENSUS_"
DEFAULT_CONFIG_FILE = "streamcensus.toml"
SECRETS_FILE = Path("state") / "secrets.toml"

# Variables that do not follow the STREAMCENSUS_ prefix (Twitch's usual names).
ENV_ALIASES: dict[str, str] = {
    "TWITCH_CLIENT_ID": "client_id",
    "TWITCH_CLIENT_SECRET": "client_secret",
    "TWITCH_MODERATOR_TOKEN": "moderator_token",
}
SECRET_FIELDS = ("client_secret", "moderator_token")
# Twitch's chat (TMI) over TLS, from its IRC reference; `collect.chat` reads it anonymously
TWITCH_CHAT_URL = "ircs://irc.chat.twitch.tv:6697"
URL_FIELDS = ("helix_url", "auth_url", "lake_url", "s3_endpoint_url")

Source = Literal["simulator", "helix"]
Scale = Literal["small", "fr"]
ModelEngine = Literal["duckdb", "spark"]  # transform/engines/ENGINES spells the same
Names = Annotated[list[str], NoDecode]  # comma-separated in the environment


def _twitch(name: str) -> AliasChoices:
    """A field read from `TWITCH_<NAME>` first, then `STREAMCENSUS_<NAME>` (or its name)."""
    return AliasChoices(f"TWITCH_{name.upper()}", f"{ENV_PREFIX}{name.upper()}")


@dataclass(frozen=True)
class _Plan:
    """Where `load_settings` reads from: the TOML file, the secrets file, the environment."""

    toml_file: Path | None
    secrets_file: Path
    environ: Mapping[str, str]


_PLAN: ContextVar[_Plan | None] = ContextVar("streamcensus_settings_plan", default=None)


class Settings(BaseSettings):
    """Every setting of streamcensus, with its default.

    Built directly (`Settings(data_dir=...)`), it reads nothing but its arguments;
    `load_settings` adds the TOML file, the secrets file and the environment.
    """

    model_config = SettingsConfigDict(
        extra="forbid",
        validate_assignment=True,
        validate_by_name=True,
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
    )

    data_dir: Path = Field(
        Path("data"), description="lake, warehouse, state (keys, tokens) and logs"
    )
    source: Source = Field("simulator", description="where `run`/`demo` take data from")
    helix_url: str = Field("https://api.twitch.tv/helix", description="Helix API base URL")
    auth_url: str = Field("https://id.twitch.tv/oauth2", description="OAuth base URL")
    client_id: str = Field(
        "", validation_alias=_twitch("client_id"), description="Twitch application client id"
    )
    client_secret: SecretStr = Field(
        SecretStr(""),
        validation_alias=_twitch("client_secret"),
        description="Twitch application secret",
    )
    moderator_token: SecretStr = Field(
        SecretStr(""),
        validation_alias=_twitch("moderator_token"),
        description="a user token managed by hand (moderator:read:chatters), for chat lists; "
        "`streamcensus auth login` stores and refreshes tokens instead",
    )
    language: str = Field("fr", description="language of the community (ISO 639-1)")
    top_n: int = Field(2000, ge=1, le=100_000, description="live channels listed per snapshot")
    tracked: Names = Field(default_factory=list, description="logins always collected")
    optout_channels: Names = Field(
        default_factory=list, description="channel logins never collected (P4)"
    )
    optout_viewers: Names = Field(
        default_factory=list,
        description="viewer logins (or ids) dropped at collection; logins resolved to ids (P4)",
    )
    known_bots: Names = Field(
        default_factory=default_known_bots,
        description="public bots flagged and kept by name (P6); default: the list shipped "
        "with the package (known_bots.txt)",
    )
    known_bots_file: Path | None = Field(
        None,
        description="file of more known bots, one login a line ('#' comments), added to known_bots",
    )
    interval_seconds: int = Field(
        GRID_SECONDS,
        ge=GRID_SECONDS,
        le=GRID_SECONDS,
        description=f"seconds between snapshots (the 5-minute grid; only {GRID_SECONDS} is "
        "supported)",
    )
    concurrency: int = Field(16, ge=1, le=256, description="chatter requests in flight")
    chat_enabled: bool = Field(
        True,
        description="read chat activity (who posts where, per 5-minute window) of every "
        "listed channel, anonymously over Twitch chat",
    )
    chat_url: str = Field(
        TWITCH_CHAT_URL,
        description="Twitch chat (TMI): ircs://, irc://, wss:// or ws:// (plain text only to "
        "this machine); against the simulator, the chat it announces is used",
    )
    k: int = Field(10, ge=2, description="minimum group size of any published viewer count (P3)")
    privacy_epsilon: float = Field(
        0.5,
        gt=0,
        le=10,
        description="ε spent on each published count of people: the noise scale is 1/ε "
        "(docs/privacy.md gives the budget per day and the accuracy)",
    )
    privacy_contribution_bound: int = Field(
        DEFAULT_CONTRIBUTION_BOUND,
        ge=1,
        le=50,
        description="chats a person counts in per day, in the per-chat people counts and "
        "overlaps (chosen by a keyed draw; the rest of her chats are left out of those "
        "figures): bounds the budget spent on one person (docs/privacy.md)",
    )
    bot_min_chats: int = Field(
        20, ge=2, description="accounts in at least this many chats at one snapshot count as bots"
    )
    retention_days: int = Field(30, ge=1, description="days pseudonymous presence is kept (P2)")
    key_rotation_days: int = Field(30, ge=1, description="days a pseudonym key is used (P2)")
    key_dir: Path | None = Field(
        None,
        description="folder of the pseudonym key file (default: <data_dir>/state); "
        "may be outside the data directory",
    )
    lake_url: str = Field(
        "",
        description="where the raw lake lives: a local path (default <data_dir>/lake), "
        "s3://bucket/prefix or gs://bucket/prefix; credentials come from the provider chain",
    )
    s3_endpoint_url: str = Field(
        "",
        description="endpoint of an S3-compatible store, e.g. http://127.0.0.1:9000 "
        "(default: AWS, or $AWS_ENDPOINT_URL)",
    )
    load_at: str = Field(
        "02:00", description="UTC time of the daily load (`load --every-day-at`, `run`)"
    )
    engine: ModelEngine = Field(
        "duckdb", description="engine the models run on: duckdb or spark (`load --engine`)"
    )
    spark_master: str = Field(
        "local[2]",
        description="Spark master for the spark engine: local[N] (needs Java 17+) or a "
        "cluster's URL, e.g. spark://host:7077",
    )
    host: str = Field("127.0.0.1", description="address `serve` listens on")
    port: int = Field(8000, ge=1, le=65535, description="port `serve` listens on")
    metrics_host: str = Field(
        "127.0.0.1",
        description="address the collector's and the load service's /metrics, /healthz and "
        "/readyz listen on",
    )
    collector_metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="port of /metrics, /healthz and /readyz of `collect --every` (0: off; "
        "e.g. 9464)",
    )
    loader_metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="port of /metrics, /healthz and /readyz of `load --every-day-at` (0: off; "
        "e.g. 9465)",
    )
    allowed_hosts: Names = Field(
        default_factory=list,
        description="host names the dashboard answers to besides its address and localhost "
        "(a guard against DNS rebinding; '*' answers to any)",
    )
    cost_prices: Path | None = Field(
        None,
        description="TOML price table for `streamcensus cost` (default: built-in list prices of "
        "Google Cloud europe-west1); any subset of its fields overrides the defaults",
    )
    sim_scale: Scale = Field("small", description="simulator population: small or fr")
    sim_seed: int = Field(42, description="simulator seed")
    sim_permissions: PermissionsMode = Field(
        "realistic",
        description="who may read chat lists in the simulator: realistic, or all-moderated "
        "(a load-test mode Twitch never grants: the operator moderates every channel)",
    )
    sim_operator_moderates: Names = Field(
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

    @field_validator("key_dir", "cost_prices", "known_bots_file", mode="before")
    @classmethod
    def _optional_path(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        return cls._split_list(value)

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

    @field_validator("lake_url")
    @classmethod
    def _lake_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in ("", "file", "s3", "gs"):
            raise ValueError(
                f"lake_url scheme {scheme!r} is not supported: use a local path, "
                "s3://bucket/prefix or gs://bucket/prefix"
            )
        return value.strip()

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {mask_credentials(value)!r}")
        return value.rstrip("/")

    @property
    def all_known_bots(self) -> tuple[str, ...]:
        """`known_bots` and the logins of `known_bots_file`, once each."""
        extra = read_bot_list(self.known_bots_file) if self.known_bots_file is not None else []
        return tuple(dict.fromkeys([*self.known_bots, *extra]))

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def key_store_dir(self) -> Path:
        """Where the pseudonym keys live: `key_dir`, or the state directory."""
        return self.key_dir if self.key_dir is not None else self.state_dir

    @property
    def lake_dir(self) -> Path:
        """The local lake folder: the curated zone (it commits with the warehouse), and the
        raw zone and quarantine too unless `lake_url` points elsewhere."""
        return self.data_dir / "lake"

    @property
    def spool_dir(self) -> Path:
        """Snapshot files waiting for an object store that was unavailable."""
        return self.data_dir / "spool"

    @property
    def staging_dir(self) -> Path:
        """Where `load` stages a day's files from object storage (removed after)."""
        return self.data_dir / "staging"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def public_dict(self) -> dict[str, Any]:
        """Settings as shown to a person: secrets and URL credentials masked (P5),
        opted-out viewers counted (P1)."""
        shown = self.model_dump(mode="json")
        for name in SECRET_FIELDS:
            shown[name] = "***" if getattr(self, name).get_secret_value() else ""
        for name in URL_FIELDS:
            shown[name] = mask_credentials(shown[name])
        shown["optout_viewers"] = f"{len(self.optout_viewers)} viewer(s)"
        return shown

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Highest first: options, environment, secrets file, TOML file (then defaults)."""
        plan = _PLAN.get()
        if plan is None:
            return (init_settings,)
        return (
            init_settings,
            _Environment(settings_cls, plan.environ),
            _SecretsFile(settings_cls, plan.secrets_file),
            TomlConfigSettingsSource(settings_cls, toml_file=plan.toml_file),
        )


class _Environment(EnvSettingsSource):
    """The environment, from a given mapping (tests pass their own); an empty `TWITCH_*`
    variable counts as unset, so it does not hide `STREAMCENSUS_*` or the secrets file."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = {k: v for k, v in environ.items() if v or k not in ENV_ALIASES}
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


class _SecretsFile(InitSettingsSource):
    """`<data_dir>/state/secrets.toml`: client id and secrets only, readable by its owner."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls, _secrets_file(path))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _secrets_file(path: Path) -> dict[str, Any]:
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
    if err["type"] == "extra_forbidden":
        return f"unknown setting {where!r} (see .env.example for the list)"
    return f"invalid setting {where}: {err['msg']}"


@contextmanager
def _planned(plan: _Plan) -> Iterator[None]:
    token = _PLAN.set(plan)
    try:
        yield
    finally:
        _PLAN.reset(token)


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from defaults < TOML file < secrets file < environment < overrides."""
    env = os.environ if environ is None else environ
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
    if config_file is None and Path(DEFAULT_CONFIG_FILE).is_file():
        config_file = Path(DEFAULT_CONFIG_FILE)
    from_file = _read_toml(config_file) if config_file is not None else {}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    # the secrets file lives under the data directory, so that one is resolved first
    data_dir = Path(
        given.get("data_dir")
        or env.get(ENV_PREFIX + "DATA_DIR")
        or from_file.get("data_dir")
        or Settings.model_fields["data_dir"].default
    )
    plan = _Plan(toml_file=config_file, secrets_file=data_dir / SECRETS_FILE, environ=env)
    try:
        with _planned(plan):
            return Settings(**given)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None


def env_variable(name: str) -> str:
    """The environment variable of a setting."""
    aliases = {field: variable for variable, field in ENV_ALIASES.items()}
    return aliases.get(name, ENV_PREFIX + name.upper())


def _example_value(default: Any) -> str:
    if isinstance(default, SecretStr):
        return default.get_secret_value()
    if isinstance(default, list):
        return ",".join(str(item) for item in default)
    return "" if default is None else str(default)


ENV_EXAMPLE_HEADER = """\
# streamcensus settings. Every variable is optional; the values shown are the defaults.
# Precedence: defaults < TOML file (--config / STREAMCENSUS_CONFIG / ./streamcensus.toml)
#   < data_dir/state/secrets.toml (0600, secrets only) < environment < command-line options.
# Lists are comma-separated. Secrets are never echoed: `streamcensus config` masks them.
# Generated from the settings' declaration: `streamcensus config --env-example > .env.example`

# TOML settings file to read
# STREAMCENSUS_CONFIG=streamcensus.toml
"""


def env_example() -> str:
    """The text of `.env.example`: every setting's variable, description and default."""
    lines = [ENV_EXAMPLE_HEADER]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        lines.append(f"# {field.description}\n{env_variable(name)}={_example_value(default)}\n")
    return "\n".join(lines)
