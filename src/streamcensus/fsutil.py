"""File-system helpers: atomic writes (temp file, fsync, rename) and private 0600 files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` so readers see either nothing or the whole file.

    The bytes go to a temporary file in the same directory (so the rename stays on one
    file system), are flushed to disk, and the file is renamed over `path`. A process
    killed half-way leaves only a `.tmp-*` file, which readers ignore.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries (a new or renamed file) to disk; best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Atomically write a secret file readable by its owner only (P5)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_bytes(path, data, mode=0o600)


def is_temp_file(path: Path) -> bool:
    """True for the temporary files `atomic_write_bytes` leaves behind when killed."""
    return path.name.startswith(".tmp-")
