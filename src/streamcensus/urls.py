"""URLs as they may be shown or stored: never with the credentials they may carry.

A base URL such as `https://user:secret@host/helix` works for HTTP clients, but its
user part must not reach a manifest, a log or `streamcensus config` (P5).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def _host(netloc: str) -> str:
    return netloc.rsplit("@", 1)[-1]


def without_credentials(url: str) -> str:
    """Scheme, host and path only: what a manifest keeps of the server it asked."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, _host(parts.netloc), parts.path, "", ""))


def mask_credentials(url: str) -> str:
    """The URL with any user and password replaced by `***`, for display."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(
        (parts.scheme, f"***@{_host(parts.netloc)}", parts.path, parts.query, parts.fragment)
    )
