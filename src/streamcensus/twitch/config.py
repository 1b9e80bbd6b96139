"""What the Helix client needs to know: where to talk, with which credentials, how hard to try."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamcensus.config import Settings
from streamcensus.errors import ConfigError

# Credentials sent to a simulator when none are configured (it accepts any by default).
PLACEHOLDER_CLIENT_ID = "streamcensus-simulator"
PLACEHOLDER_CLIENT_SECRET = "streamcensus-simulator-secret"


@dataclass(frozen=True)
class HelixConfig:
    """Connection settings of a `HelixClient`; secrets are kept out of `repr` (P5)."""

    helix_url: str
    auth_url: str
    client_id: str
    client_secret: str = field(repr=False)
    user_token: str | None = field(default=None, repr=False)
    timeout: float = 10.0  # seconds per request (connect, read, write, pool)
    max_attempts: int = 5  # sends per request on 5xx/timeout/network/malformed
    max_rate_limit_retries: int = 10  # re-sends per request after 429s
    concurrency: int = 16  # requests the caller keeps in flight (sizes the connection pool)
    pacing_margin: float = 2.0  # points kept spare in each bucket
    backoff_base: float = 0.5  # seconds before the first retry (doubled each time, jittered)
    backoff_cap: float = 30.0  # longest backoff, seconds

    def __post_init__(self) -> None:
        for name in ("helix_url", "auth_url"):
            value = getattr(self, name)
            if not value.startswith(("http://", "https://")):
                raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
            object.__setattr__(self, name, value.rstrip("/"))
        if not self.client_id or not self.client_secret:
            raise ConfigError(
                "missing Twitch credentials: set TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET"
            )
        if self.max_attempts < 1 or self.max_rate_limit_retries < 0:
            raise ConfigError("max_attempts must be >= 1 and max_rate_limit_retries >= 0")
        if self.timeout <= 0 or self.concurrency < 1:
            raise ConfigError("timeout must be > 0 and concurrency >= 1")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        helix_url: str | None = None,
        auth_url: str | None = None,
        placeholder_credentials: bool = False,
    ) -> HelixConfig:
        """Build from `Settings`; URLs may be overridden (e.g. a simulator started in process).

        With `placeholder_credentials`, missing credentials are replaced by fixed values a
        simulator accepts; otherwise they raise `ConfigError` naming the variables to set.
        """
        client_id = settings.client_id
        client_secret = settings.client_secret.get_secret_value()
        if placeholder_credentials:
            client_id = client_id or PLACEHOLDER_CLIENT_ID
            client_secret = client_secret or PLACEHOLDER_CLIENT_SECRET
        user_token = settings.moderator_token.get_secret_value() or None
        return cls(
            helix_url=helix_url or settings.helix_url,
            auth_url=auth_url or settings.auth_url,
            client_id=client_id,
            client_secret=client_secret,
            user_token=user_token,
            concurrency=settings.concurrency,
        )
