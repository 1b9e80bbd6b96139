"""The pseudonym key store (P2, P5): keys in one 0600 file, rotated and purged.

Used by `collect` (to pseudonymise with the current key) and by `load` (to purge keys
whose data has expired), so it lives below both. The file sits in `key_dir` (by default
`<data_dir>/state`; it may live outside the data directory, so a backup of the data does
not carry the key that links its pseudonyms). Keys start at UTC midnight, rotate every
`rotation_days` and are deleted once nothing they made is kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamcensus.clock import Clock
from streamcensus.errors import ConfigError
from streamcensus.fsutil import write_private
from streamcensus.timeutil import UTC, parse_utc

KEYS_FILE = "pseudonym_keys.json"
KEY_BYTES = 32


@dataclass(frozen=True)
class PseudonymKey:
    """One pseudonym key. `secret` is left out of repr so it never lands in a log."""

    key_id: str
    created_at: dt.datetime
    secret: bytes = field(repr=False)

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.created_at


class KeyStore:
    """Pseudonym keys in `key_dir/pseudonym_keys.json` (mode 0600), rotated and purged.

    Keys are read from the file on every call, so several processes (`collect`, `run`)
    share one key; a lock file serialises the read-modify-write of rotation and purge.
    """

    def __init__(self, key_dir: Path, rotation_days: int, clock: Clock) -> None:
        if rotation_days < 1:
            raise ValueError("rotation_days must be at least 1")
        self.key_dir = key_dir
        self.path = key_dir / KEYS_FILE
        self.rotation = dt.timedelta(days=rotation_days)
        self._clock = clock

    def current(self, now: dt.datetime | None = None) -> PseudonymKey:
        """The key to pseudonymise with at `now`; a new one when the newest has expired."""
        moment = self._now(now)
        with self._locked():
            keys = self._load()
            newest = max(keys, key=lambda k: k.created_at, default=None)
            if newest is not None and moment - newest.created_at < self.rotation:
                return newest
            # keys start at UTC midnight, so a rotation never splits a day's audience
            fresh = _new_key(dt.datetime.combine(moment.date(), dt.time(), tzinfo=UTC))
            self._save([*keys, fresh])
            return fresh

    def list_keys(self) -> list[PseudonymKey]:
        """All stored keys, oldest first."""
        with self._locked():
            return sorted(self._load(), key=lambda k: k.created_at)

    def purge_expired(self, now: dt.datetime | None = None, keep_days: int = 30) -> list[str]:
        """Delete keys older than rotation + `keep_days` (the retention); return their ids.

        Data made with a key lives at most `keep_days` after the key's last use, so once
        the key is that old nothing it made is kept and deleting it unlinks the pseudonyms.
        """
        if keep_days < 0:
            raise ValueError("keep_days must be >= 0")
        moment = self._now(now)
        horizon = moment - self.rotation - dt.timedelta(days=keep_days)
        with self._locked():
            keys = self._load()
            kept = [k for k in keys if k.created_at > horizon]
            purged = [k.key_id for k in keys if k.created_at <= horizon]
            if purged:
                self._save(kept)
            return purged

    def _now(self, now: dt.datetime | None) -> dt.datetime:
        moment = self._clock.now() if now is None else now
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time")
        return moment.astimezone(UTC)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.key_dir / (KEYS_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _load(self) -> list[PseudonymKey]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return []
        if stat.S_IMODE(st.st_mode) & 0o077:
            raise ConfigError(
                f"{self.path} must be readable by its owner only: run `chmod 600 {self.path}`"
            )
        try:
            doc = json.loads(self.path.read_bytes())
            return [
                PseudonymKey(
                    key_id=str(item["id"]),
                    created_at=parse_utc(str(item["created_at"])),
                    secret=bytes.fromhex(str(item["secret"])),
                )
                for item in doc["keys"]
            ]
        except (ValueError, KeyError, TypeError):
            # The message names the file only: its content is secret.
            raise ConfigError(
                f"{self.path} is not a valid pseudonym key file: restore it or delete it "
                "(a new key will be made, and new pseudonyms will not match old ones)"
            ) from None

    def _save(self, keys: list[PseudonymKey]) -> None:
        doc: dict[str, Any] = {
            "version": 1,
            "keys": [
                {"id": k.key_id, "created_at": k.created_at.isoformat(), "secret": k.secret.hex()}
                for k in sorted(keys, key=lambda k: k.created_at)
            ],
        }
        write_private(self.path, json.dumps(doc, indent=1).encode())


def _new_key(now: dt.datetime) -> PseudonymKey:
    key_id = f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
    return PseudonymKey(key_id=key_id, created_at=now, secret=secrets.token_bytes(KEY_BYTES))
