"""The project's error types. A `UserError` becomes a one-line message and exit code 2."""

from __future__ import annotations


class StreamcensusError(Exception):
    """Base class for errors this package raises on purpose."""


class UserError(StreamcensusError):
    """Bad input, configuration or environment: the message names the fix."""


class ConfigError(UserError):
    """Invalid or missing configuration."""
