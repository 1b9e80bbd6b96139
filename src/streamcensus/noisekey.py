"""The noise key (P3, P5): the secret that seeds the noise of every published people count.

One 32-byte key in `key_dir/noise_key.json` (mode 0600), beside the pseudonym keys, made
once and never rotated: a figure's noise is drawn from a keyed PRF of the figure's identity,
so the same figure always reads the same, and a new key would draw fresh noise for figures
recomputed later (a reload), which an attacker could average. Whoever holds the key can
subtract the noise: keep it out of backups that leave the operator's hands. Used by
`load` (the runs of the models), below `transform`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from streamcensus.errors import ConfigError
from streamcensus.fsutil import write_private

NOISE_KEY_FILE = "noise_key.json"
NOISE_KEY_BYTES = 32


def load_or_create(key_dir: Path) -> bytes:
    """The noise key in `key_dir`, made (0600) on first use."""
    path = key_dir / NOISE_KEY_FILE
    with _locked(key_dir):
        key = _load(path)
        if key is None:
            key = secrets.token_bytes(NOISE_KEY_BYTES)
            write_private(path, json.dumps({"version": 1, "secret": key.hex()}).encode())
        return key


def _load(path: Path) -> bytes | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise ConfigError(f"{path} must be readable by its owner only: run `chmod 600 {path}`")
    try:
        secret = bytes.fromhex(str(json.loads(path.read_bytes())["secret"]))
    except (ValueError, KeyError, TypeError):
        secret = b""
    if len(secret) != NOISE_KEY_BYTES:
        # The message names the file only: its content is secret.
        raise ConfigError(
            f"{path} is not a valid noise key file: restore it from a backup (a new key "
            "would draw new noise for figures recomputed later)"
        )
    return secret


@contextlib.contextmanager
def _locked(key_dir: Path) -> Iterator[None]:
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(key_dir / (NOISE_KEY_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
