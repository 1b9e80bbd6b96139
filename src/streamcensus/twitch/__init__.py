"""The Helix client: streams, users and chatters from Twitch or any Helix-compatible server."""

from streamcensus.twitch.auth import CHATTERS_SCOPE, AccessToken, mock_auth_base
from streamcensus.twitch.client import HelixClient
from streamcensus.twitch.config import HelixConfig
from streamcensus.twitch.errors import (
    BadRequest,
    ClientError,
    CredentialsRejected,
    FinalError,
    Forbidden,
    HelixError,
    MalformedResponse,
    MissingUserToken,
    NetworkError,
    NotFound,
    RateLimited,
    RetriesExhausted,
    RetryableError,
    ServerError,
    Timeout,
    Unauthorized,
)
from streamcensus.twitch.models import Chatters, Stream, TokenInfo, User
from streamcensus.twitch.pacing import Pacer
from streamcensus.twitch.stats import ClientStats

__all__ = [
    "CHATTERS_SCOPE",
    "AccessToken",
    "BadRequest",
    "Chatters",
    "ClientError",
    "ClientStats",
    "CredentialsRejected",
    "FinalError",
    "Forbidden",
    "HelixClient",
    "HelixConfig",
    "HelixError",
    "MalformedResponse",
    "MissingUserToken",
    "NetworkError",
    "NotFound",
    "Pacer",
    "RateLimited",
    "RetriesExhausted",
    "RetryableError",
    "ServerError",
    "Stream",
    "Timeout",
    "TokenInfo",
    "Unauthorized",
    "User",
    "mock_auth_base",
]
