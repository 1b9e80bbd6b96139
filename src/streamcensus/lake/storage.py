"""Where the raw lake lives: a local folder or an object store bucket, behind one interface.

This module holds the interface (`LakeStorage`), its errors and the local folder
(`LocalStorage`); `lake/stores.py` the bucket (`ObjectStorage`) and `open_lake`.
`open_lake(settings)` reads `lake_url`: a local path (default `<data_dir>/lake`),
`s3://bucket/prefix` or `gs://bucket/prefix`. Callers (the collector's writer, the
loader, retention, quarantine, `status`) use keys relative to the lake root
(`raw/streams/date=.../<id>.parquet`) and never look at the scheme:

- `create` writes a new file atomically and never replaces one: locally a temp file
  linked into place; on S3 a single PUT with `If-None-Match: *`, on GCS a single upload
  with `ifGenerationMatch=0` (the store refuses a second writer of the same key and
  keeps the first object whole). An object appears whole or not at all, so a killed
  collector leaves nothing half-written.
- listing is by prefix and one level at a time (`list_files`, `list_dirs`), never a
  scan of the bucket; `walk` lists everything below one prefix (retention).
- `move` renames locally; object stores have no rename, so it copies then deletes.
- `fetch` gives a local file with a key's bytes and their SHA-256: the file itself for a
  local lake, a download into a scratch folder for object storage (the warehouse reads
  local files).

Credentials come from the stores' usual provider chains (AWS environment variables,
profile or instance role; `GOOGLE_APPLICATION_CREDENTIALS` or the machine's account)
and never appear in a message. Failures become `LakeAccessError` (final: a missing
bucket, no credentials, access denied) or `LakeUnavailable` (retryable: the store down,
a 5xx, a timeout), each one line naming the lake.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path, PurePath

from streamcensus.errors import StreamcensusError
from streamcensus.fsutil import (
    PRIVATE_FILE,
    fsync_dir,
    is_temp_file,
    make_private,
    private_dir,
    write_private,
)
from streamcensus.lake.manifest import LakeError

_HASH_CHUNK = 1 << 20
_LINK_UNSUPPORTED = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS}


class LakeRewriteError(LakeError, FileExistsError):
    """A lake file already exists with different bytes: raw files are never rewritten."""


class LakeUnavailable(LakeError):
    """The lake's store did not answer as it should (down, 5xx, timeout): try again later."""


class LakeAccessError(StreamcensusError):
    """The lake cannot be used as configured (no bucket, no credentials, access denied).

    Final: a long-running collector stops on it rather than retrying every interval.
    """


@dataclass(frozen=True)
class Entry:
    """A file of the lake: its key (relative to the lake root, `/`-separated) and size."""

    key: str
    size: int

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


def join_key(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class LakeStorage(ABC):
    """The lake's files, by key relative to its root."""

    url: str  # as shown to people: never with credentials
    root: PurePath  # the local folder, or `bucket/prefix`

    @abstractmethod
    def create(self, key: str, data: bytes) -> bool:
        """Write a new file atomically; False if it already holds `data`.

        Raises `LakeRewriteError` if the key exists with other bytes (never replaced).
        """

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Write a file atomically, replacing it if present (notes beside quarantine)."""

    @abstractmethod
    def read(self, key: str) -> bytes:
        """A file's bytes; FileNotFoundError if it is missing."""

    def read_many(self, keys: list[str]) -> dict[str, bytes | OSError]:
        """Several files' bytes (or the error reading each), fetched concurrently where
        the store allows: what `status` and the loader use for a day's manifests."""
        found: dict[str, bytes | OSError] = {}
        for key in keys:
            try:
                found[key] = self.read(key)
            except OSError as exc:
                found[key] = exc
        return found

    @abstractmethod
    def size(self, key: str) -> int | None:
        """A file's size, None if it is missing."""

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    @abstractmethod
    def list_files(self, prefix: str) -> list[Entry]:
        """The files directly under the folder `prefix`, by key (temp files skipped)."""

    @abstractmethod
    def list_dirs(self, prefix: str) -> list[str]:
        """The names of the folders directly under `prefix` that hold a file, sorted (an
        object store has no empty folders; a local one may, after moves)."""

    @abstractmethod
    def walk(self, prefix: str) -> list[Entry]:
        """Every file below `prefix`, at any depth, by key."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete a file (missing is fine)."""

    def delete_tree(self, prefix: str) -> tuple[int, int]:
        """Delete every file below `prefix`; return (files, bytes) deleted."""
        entries = self.walk(prefix)
        for entry in entries:
            self.delete(entry.key)
        return len(entries), sum(e.size for e in entries)

    @abstractmethod
    def move(self, source: str, target: str) -> None:
        """Move a file to a new key (quarantine): rename, or copy then delete."""

    @abstractmethod
    def fetch(self, key: str, scratch: Path) -> tuple[Path, int, str]:
        """A local file with the key's bytes, its size and SHA-256 (hashed as read).

        Object storage downloads into `scratch` (the caller removes it after use).
        """

    def fetch_many(
        self, keys: list[str], scratch: Path
    ) -> dict[str, tuple[Path, int, str] | FileNotFoundError]:
        """`fetch` for several keys (concurrently where the store allows); a key gone
        since it was listed maps to its FileNotFoundError."""
        found: dict[str, tuple[Path, int, str] | FileNotFoundError] = {}
        for key in keys:
            try:
                found[key] = self.fetch(key, scratch)
            except FileNotFoundError as exc:
                found[key] = exc
        return found

    def check(self) -> None:  # noqa: B027 (a local folder needs no check)
        """Fail early, in one line, if the lake cannot be reached or listed."""

    def describe(self, key: str = "") -> str:
        """A key as people see it: the lake URL and the key."""
        return f"{self.url.rstrip('/')}/{key}" if key else self.url


class LocalStorage(LakeStorage):
    """A lake in a local folder: files 0600 in 0700 folders (`fsutil`)."""

    def __init__(self, root: Path) -> None:
        self.folder = Path(root)
        self.root = self.folder
        self.url = str(self.folder)

    def path(self, key: str) -> Path:
        return self.folder / key if key else self.folder

    def create(self, key: str, data: bytes) -> bool:
        return write_new_file(self.path(key), data)

    def put(self, key: str, data: bytes) -> None:
        write_private(self.path(key), data)

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def size(self, key: str) -> int | None:
        try:
            path = self.path(key)
            return path.stat().st_size if path.is_file() else None
        except FileNotFoundError:
            return None

    def list_files(self, prefix: str) -> list[Entry]:
        folder = self.path(prefix)
        if not folder.is_dir():
            return []
        return [
            Entry(join_key(prefix, p.name), p.stat().st_size)
            for p in sorted(folder.iterdir())
            if p.is_file() and not is_temp_file(p)
        ]

    def list_dirs(self, prefix: str) -> list[str]:
        folder = self.path(prefix)
        if not folder.is_dir():
            return []
        return sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and any(f.is_file() and not is_temp_file(f) for f in p.rglob("*"))
        )

    def walk(self, prefix: str) -> list[Entry]:
        folder = self.path(prefix)
        if not folder.is_dir():
            return []
        return [
            Entry(p.relative_to(self.folder).as_posix(), p.stat().st_size)
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        ]

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def delete_tree(self, prefix: str) -> tuple[int, int]:
        entries = self.walk(prefix)
        if entries:
            shutil.rmtree(self.path(prefix))
        with contextlib.suppress(OSError):
            self.path(prefix).rmdir()  # an empty folder
        return len(entries), sum(e.size for e in entries)

    def move(self, source: str, target: str) -> None:
        src, dst = self.path(source), self.path(target)
        private_dir(dst.parent)
        try:
            os.replace(src, dst)
        except OSError:
            shutil.move(str(src), str(dst))
        make_private(dst)
        fsync_dir(dst.parent)

    def fetch(self, key: str, scratch: Path) -> tuple[Path, int, str]:
        del scratch  # the file is already local
        path = self.path(key)
        return path, path.stat().st_size, sha256_file(path)


def write_scratch(path: Path, data: bytes) -> None:
    """A private local copy for one load: no fsync (it is removed after the load, and a
    crash only means downloading it again)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _same_bytes(path: Path, data: bytes) -> bool:
    return path.stat().st_size == len(data) and path.read_bytes() == data


def write_new_file(path: Path, data: bytes) -> bool:
    """Write `data` to a new local file at `path` atomically; False if it already holds
    `data`. Raises `LakeRewriteError` if `path` exists with other bytes.

    The bytes go to a `.tmp-*` file in the same folder, are fsynced, then hard-linked to
    `path`: a link never replaces an existing file, so two writers cannot overwrite each
    other. A killed writer leaves at most the temp file, which every reader ignores.
    """
    if path.exists():
        if _same_bytes(path, data):
            return False
        raise LakeRewriteError(f"{path} already exists with other content; lake files are final")
    private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, PRIVATE_FILE)
        try:
            os.link(tmp, path)
        except FileExistsError:
            if _same_bytes(path, data):
                return False
            raise LakeRewriteError(f"{path} was written concurrently with other content") from None
        except OSError as exc:
            if exc.errno not in _LINK_UNSUPPORTED:
                raise
            if path.exists():  # a file system without hard links: check, then rename
                raise LakeRewriteError(f"{path} already exists; lake files are final") from None
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)
    return True


def is_temp_name(name: str) -> bool:
    return name.rsplit("/", 1)[-1].startswith(".tmp-")


def as_storage(lake: LakeStorage | Path) -> LakeStorage:
    """A storage for a lake given as a storage or as a local folder."""
    return lake if isinstance(lake, LakeStorage) else LocalStorage(Path(lake))
