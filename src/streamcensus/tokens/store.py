"""The token store: one 0600 JSON file per user token under `<data_dir>/state/tokens/`.

A record holds the access token, its refresh token, whose it is (user id and login), its
role (`operator`: reads the chat lists of the channels its user moderates;
`broadcaster`: a broadcaster's consent, read for their own channel only), the client id
and auth host that issued it, its scopes and when it expires. Files are replaced
atomically (temp file, fsync, rename), so a refresh token that rotates is never half
written. A file readable by others, or one that is not a token record, is refused with
one line naming the file and the fix. Token values never appear in a `repr`, a log or
`TokenRecord.public()` (P5).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from streamcensus.errors import UserError
from streamcensus.fsutil import write_private
from streamcensus.timeutil import UTC, isoformat_z

Role = Literal["operator", "broadcaster"]
ROLES: tuple[Role, ...] = ("operator", "broadcaster")
TOKENS_DIR = "tokens"
RECORD_VERSION = 1
_USER_ID = re.compile(r"^[0-9A-Za-z_]{1,40}$")


class TokenFileError(UserError):
    """A token file that cannot be used: wrong permissions or not a token record."""


class TokenRecord(BaseModel):
    """One stored user token (the declaration the file format derives from)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = RECORD_VERSION
    user_id: str
    login: str
    role: Role
    client_id: str
    auth_url: str
    scopes: tuple[str, ...]
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: dt.datetime | None = None  # aware UTC; None: the server gave no lifetime
    obtained_at: dt.datetime
    validated_at: dt.datetime | None = None

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        if not _USER_ID.match(value):
            raise ValueError(f"not a Twitch user id: {value!r}")
        return value

    @field_validator("expires_at", "obtained_at", "validated_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("times must carry a time zone (UTC)")
        return value.astimezone(UTC) if value is not None else None

    @property
    def refreshable(self) -> bool:
        return self.refresh_token is not None and bool(self.refresh_token.get_secret_value())

    def expires_in(self, now: dt.datetime) -> float | None:
        """Seconds left before expiry (negative once expired), None when unknown."""
        return None if self.expires_at is None else (self.expires_at - now).total_seconds()

    def to_bytes(self) -> bytes:
        """The file content, secrets included: only ever written to a 0600 file."""
        doc = self.model_dump(mode="json")
        doc["access_token"] = self.access_token.get_secret_value()
        doc["refresh_token"] = (
            self.refresh_token.get_secret_value() if self.refresh_token is not None else None
        )
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()

    def public(self) -> dict[str, Any]:
        """What `auth status` may show: everything but the tokens."""
        return {
            "user_id": self.user_id,
            "login": self.login,
            "role": self.role,
            "client_id": self.client_id,
            "auth_url": self.auth_url,
            "scopes": list(self.scopes),
            "refreshable": self.refreshable,
            "expires_at": isoformat_z(self.expires_at) if self.expires_at else None,
            "obtained_at": isoformat_z(self.obtained_at),
            "validated_at": isoformat_z(self.validated_at) if self.validated_at else None,
        }


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "record"
    return f"{where}: {err['msg']}"


class TokenStore:
    """The token files of one data directory."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / TOKENS_DIR

    def path(self, user_id: str) -> Path:
        if not _USER_ID.match(user_id):
            raise ValueError(f"not a Twitch user id: {user_id!r}")
        return self.dir / f"{user_id}.json"

    def read(self, path: Path) -> TokenRecord:
        """One token file; `TokenFileError` naming the file and the fix when unusable."""
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            raise TokenFileError(f"token file {path} is missing") from None
        if mode & 0o077:
            raise TokenFileError(
                f"token file {path} is readable by others (mode {mode:o}): "
                f"run `chmod 600 {path}`, or delete it and run `streamcensus auth login` again"
            )
        try:
            record = TokenRecord.model_validate(json.loads(path.read_bytes()))
        except (ValueError, UnicodeDecodeError) as exc:
            why = _first_error(exc) if isinstance(exc, ValidationError) else "not valid JSON"
            raise TokenFileError(
                f"token file {path} is not a token record ({why}): "
                "delete it and run `streamcensus auth login` again"
            ) from None
        if path.name != f"{record.user_id}.json":
            raise TokenFileError(
                f"token file {path} holds the token of user {record.user_id}: "
                "delete it and run `streamcensus auth login` again"
            )
        return record

    def records(self) -> list[TokenRecord]:
        """Every stored token, by user id (a bad file raises `TokenFileError`)."""
        if not self.dir.is_dir():
            return []
        paths = sorted(p for p in self.dir.glob("*.json") if not p.name.startswith("."))
        return [self.read(p) for p in paths]

    def get(self, user_id: str) -> TokenRecord | None:
        path = self.path(user_id)
        return self.read(path) if path.exists() else None

    def put(self, record: TokenRecord) -> Path:
        """Write (or atomically replace) a record's file, mode 0600."""
        path = self.path(record.user_id)
        write_private(path, record.to_bytes())
        return path

    def delete(self, user_id: str) -> bool:
        """Remove a record's file; False when there was none."""
        try:
            self.path(user_id).unlink()
        except FileNotFoundError:
            return False
        return True
