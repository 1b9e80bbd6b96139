"""File-system helpers: atomic writes, and the one place that decides file modes.

Everything under the data directory (lake, curated zone, quarantine, warehouse, state,
logs) is private to the account that runs streamcensus: directories 0700 and files 0600,
whatever the umask, because pseudonymous presence data and keys must not be readable by
other local users. Writers create directories with `private_dir`, write files with
`atomic_write_bytes` / `write_private`, tighten files a library wrote with `make_private`,
and hold `private_umask()` while a library (DuckDB and its WAL) creates files on its own.
The static export is the one published output: `write_public` (0644 in 0755 directories).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
PUBLIC_DIR = 0o755
PUBLIC_FILE = 0o644
PRIVATE_UMASK = 0o077  # what a library's 0666 / 0777 becomes: 0600 / 0700
TEMP_PREFIX = ".tmp-"


def ensure_dir(path: Path, mode: int = PRIVATE_DIR) -> Path:
    """`mkdir -p path`; every directory this creates gets `mode` whatever the umask.

    Directories that already exist are left as they are (a data directory the user made
    keeps its mode; what streamcensus makes inside it is private).
    """
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue  # made concurrently by another writer, which sets its mode too
        os.chmod(directory, mode)
    return path


def private_dir(path: Path) -> Path:
    """`mkdir -p path` with every directory created 0700."""
    return ensure_dir(path, PRIVATE_DIR)


def make_private(path: Path) -> None:
    """Tighten a file to 0600 (a directory to 0700) that a library or an older version wrote."""
    with contextlib.suppress(FileNotFoundError):
        mode = PRIVATE_DIR if path.is_dir() else PRIVATE_FILE
        if stat.S_IMODE(path.stat().st_mode) != mode:
            os.chmod(path, mode)


def private_file(path: Path) -> Path:
    """Create `path` empty if missing, 0600 either way: for files others open to append (logs)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path


def atomic_write_bytes(
    path: Path, data: bytes, mode: int = PRIVATE_FILE, dir_mode: int = PRIVATE_DIR
) -> None:
    """Write `data` to `path` so readers see either nothing or the whole file.

    The bytes go to a temporary file in the same directory (so the rename stays on one
    file system), are flushed to disk, and the file is renamed over `path`. A process
    killed half-way leaves only a `.tmp-*` file, which readers ignore. The file gets
    `mode` (private unless asked) and missing directories `dir_mode`, whatever the umask.
    """
    ensure_dir(path.parent, dir_mode)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
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
    """Atomically write a file readable by its owner only (0600, directories 0700)."""
    atomic_write_bytes(path, data, PRIVATE_FILE, PRIVATE_DIR)


def write_public(path: Path, data: bytes) -> None:
    """Atomically write a file meant to be published (0644, directories 0755): the export."""
    atomic_write_bytes(path, data, PUBLIC_FILE, PUBLIC_DIR)


class _UmaskHold:
    """A process-wide umask of 077 while at least one holder is inside (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = 0

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._saved = os.umask(PRIVATE_UMASK)
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    os.umask(self._saved)


_UMASK = _UmaskHold()


def private_umask() -> contextlib.AbstractContextManager[None]:
    """Files and directories a library creates while this is held are 0600 / 0700.

    For writers that create files themselves at times we do not choose: DuckDB creates
    its WAL at the first write and deletes it at each checkpoint, with mode 0666 minus
    the umask. The umask is per process, so other threads' files are private meanwhile
    too, which is what every writer of the data directory wants.
    """
    return _UMASK.hold()


def is_temp_file(path: Path) -> bool:
    """True for the temporary files `atomic_write_bytes` leaves behind when killed."""
    return path.name.startswith(TEMP_PREFIX)
