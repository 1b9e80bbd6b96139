"""Where the raw lake lives: a local folder or an object store bucket, behind one interface.

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
from pathlib import Path, PurePath, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from streamcensus.config import Settings
from streamcensus.errors import StreamcensusError, UserError
from streamcensus.fsutil import (
    PRIVATE_FILE,
    fsync_dir,
    is_temp_file,
    make_private,
    private_dir,
    write_private,
)
from streamcensus.lake.manifest import LakeError
from streamcensus.urls import mask_credentials

SCHEMES = ("s3", "gs")
# One PUT (S3) or one simple upload (GCS) up to this size: larger needs multipart, whose
# parts a killed writer could leave behind. Lake files are a few MB.
SINGLE_PUT_LIMIT = 5 * 2**30
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


def _join(*parts: str) -> str:
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
        """The names of the folders directly under `prefix`, sorted."""

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
            Entry(_join(prefix, p.name), p.stat().st_size)
            for p in sorted(folder.iterdir())
            if p.is_file() and not is_temp_file(p)
        ]

    def list_dirs(self, prefix: str) -> list[str]:
        folder = self.path(prefix)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir())

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


class ObjectStorage(LakeStorage):
    """A lake under `scheme://bucket/prefix` through an fsspec file system (s3fs, gcsfs)."""

    def __init__(self, fs: Any, scheme: str, bucket: str, prefix: str, hint: str) -> None:
        self.fs = fs
        self.scheme = scheme
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.root = PurePosixPath(_join(bucket, self.prefix))
        self.url = f"{scheme}://{_join(bucket, self.prefix)}"
        self.hint = hint  # how to give credentials, for the error line

    def _path(self, key: str) -> str:
        return _join(self.bucket, self.prefix, key)

    def _key(self, path: str) -> str:
        base = _join(self.bucket, self.prefix)
        return path.strip("/")[len(base) :].strip("/")

    def _error(self, exc: BaseException, doing: str, key: str = "") -> StreamcensusError:
        return translate_error(exc, doing, self.describe(key), self.bucket, self.hint)

    def create(self, key: str, data: bytes) -> bool:
        if len(data) >= SINGLE_PUT_LIMIT:
            raise LakeError(f"{self.describe(key)}: {len(data)} bytes is too large for one PUT")
        try:
            self.fs.pipe_file(self._path(key), data, mode="create", chunksize=SINGLE_PUT_LIMIT)
        except FileExistsError:
            # the store refused: a file is there already (If-None-Match / ifGenerationMatch)
            if self.read(key) == data:
                return False
            raise LakeRewriteError(
                f"{self.describe(key)} already exists with other content; lake files are final"
            ) from None
        except Exception as exc:
            raise self._error(exc, "write", key) from None
        return True

    def put(self, key: str, data: bytes) -> None:
        try:
            self.fs.pipe_file(self._path(key), data, chunksize=SINGLE_PUT_LIMIT)
        except Exception as exc:
            raise self._error(exc, "write", key) from None

    def read(self, key: str) -> bytes:
        try:
            data: bytes = self.fs.cat_file(self._path(key))
        except FileNotFoundError:
            raise FileNotFoundError(
                errno.ENOENT, "no such file in the lake", self.describe(key)
            ) from None
        except Exception as exc:
            raise self._error(exc, "read", key) from None
        return data

    def read_many(self, keys: list[str]) -> dict[str, bytes | OSError]:
        if not keys:
            return {}
        paths = {self._path(k): k for k in keys}
        try:  # fsspec fetches these concurrently on its event loop
            got: dict[str, Any] = self.fs.cat(list(paths), on_error="return")
        except Exception as exc:
            raise self._error(exc, "read", keys[0]) from None
        found: dict[str, bytes | OSError] = {}
        for path, key in paths.items():
            value = got.get(path, FileNotFoundError(errno.ENOENT, "missing", key))
            if isinstance(value, bytes | FileNotFoundError):
                found[key] = value
            else:
                raise self._error(value, "read", key)
        return found

    def size(self, key: str) -> int | None:
        try:
            info = self.fs.info(self._path(key))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._error(exc, "read", key) from None
        return int(info["size"]) if info.get("type") == "file" else None

    def _ls(self, prefix: str) -> list[dict[str, Any]]:
        try:
            found: list[dict[str, Any]] = self.fs.ls(self._path(prefix), detail=True)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise self._error(exc, "list", prefix) from None
        return found

    def list_files(self, prefix: str) -> list[Entry]:
        return sorted(
            (
                Entry(self._key(item["name"]), int(item["size"]))
                for item in self._ls(prefix)
                if item.get("type") == "file" and not is_temp_name(item["name"])
            ),
            key=lambda e: e.key,
        )

    def list_dirs(self, prefix: str) -> list[str]:
        return sorted(
            item["name"].rstrip("/").rsplit("/", 1)[-1]
            for item in self._ls(prefix)
            if item.get("type") == "directory"
        )

    def walk(self, prefix: str) -> list[Entry]:
        try:
            found: dict[str, dict[str, Any]] = self.fs.find(self._path(prefix), detail=True)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise self._error(exc, "list", prefix) from None
        return sorted(
            (
                Entry(self._key(name), int(info["size"]))
                for name, info in found.items()
                if info.get("type") == "file"
            ),
            key=lambda e: e.key,
        )

    def delete(self, key: str) -> None:
        try:
            self.fs.rm_file(self._path(key))
        except FileNotFoundError:
            return
        except Exception as exc:
            raise self._error(exc, "delete", key) from None

    def delete_tree(self, prefix: str) -> tuple[int, int]:
        entries = self.walk(prefix)
        if entries:
            try:  # one request per 1,000 keys on S3
                self.fs.rm([self._path(e.key) for e in entries])
            except Exception as exc:
                raise self._error(exc, "delete", prefix) from None
        return len(entries), sum(e.size for e in entries)

    def move(self, source: str, target: str) -> None:
        # no rename on object storage: copy (server side), then delete the source
        try:
            self.fs.copy(self._path(source), self._path(target))
        except Exception as exc:
            raise self._error(exc, "copy", source) from None
        self.delete(source)

    def fetch(self, key: str, scratch: Path) -> tuple[Path, int, str]:
        data = self.read(key)
        local = scratch / key
        write_private(local, data)
        return local, len(data), sha256_bytes(data)

    def check(self) -> None:
        """The bucket exists and these credentials may list the lake's prefix."""
        try:
            self.fs.ls(self._path(""), detail=False)
        except FileNotFoundError:
            try:
                bucket_there = self.fs.exists(self.bucket)
            except Exception as exc:
                raise self._error(exc, "list") from None
            if not bucket_there:
                raise LakeAccessError(
                    f"the lake's bucket {self.scheme}://{self.bucket} does not exist: "
                    "create it, or fix lake_url"
                ) from None
        except Exception as exc:
            raise self._error(exc, "list") from None


def is_temp_name(name: str) -> bool:
    return name.rsplit("/", 1)[-1].startswith(".tmp-")


def translate_error(
    exc: BaseException, doing: str, where: str, bucket: str, hint: str
) -> StreamcensusError:
    """One line for a store's error: final (`LakeAccessError`) or retryable."""
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name in {"NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError"} or (
        name == "RefreshError"
    ):
        return LakeAccessError(f"no credentials to {doing} {where}: {hint}")
    code = getattr(exc, "code", None)
    if isinstance(exc, PermissionError) or text.startswith(("Forbidden", "AccessDenied")):
        return LakeAccessError(
            f"access denied to {doing} {where}: the credentials in use may not {doing} there "
            "(grant them, or use a bucket they may write to)"
        )
    if isinstance(exc, FileNotFoundError) and ("bucket" in text.lower() or doing == "write"):
        return LakeAccessError(
            f"the lake's bucket {bucket} does not exist: create it, or fix lake_url"
        )
    if code == 401 or name in {"InvalidAccessKeyId", "SignatureDoesNotMatch"}:
        return LakeAccessError(f"the credentials were refused to {doing} {where}: {hint}")
    if "InvalidAccessKeyId" in text or "SignatureDoesNotMatch" in text:
        return LakeAccessError(f"the credentials were refused to {doing} {where}: {hint}")
    return LakeUnavailable(f"cannot {doing} {where}: {mask_credentials(text)[:200]}")


def split_lake_url(url: str) -> tuple[str, str, str]:
    """`s3://bucket/prefix` → ("s3", "bucket", "prefix"); a local path → ("", path, "")."""
    parts = urlsplit(url)
    if parts.scheme in SCHEMES:
        if not parts.netloc or "@" in parts.netloc:
            raise UserError(
                f"lake_url {mask_credentials(url)!r} must be {parts.scheme}://bucket/prefix "
                "(credentials come from the environment, never from the URL)"
            )
        return parts.scheme, parts.netloc, parts.path.strip("/")
    if parts.scheme == "file":
        return "", parts.path, ""
    if parts.scheme and len(parts.scheme) > 1:
        raise UserError(
            f"lake_url scheme {parts.scheme!r} is not supported: use a local path, "
            "s3://bucket/prefix or gs://bucket/prefix"
        )
    return "", url, ""


S3_HINT = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance role"
)
GS_HINT = "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run on GCP"


def s3_filesystem(endpoint_url: str) -> Any:
    # imported here: s3fs (aiobotocore) costs a third of a second, which a local lake skips
    import s3fs

    return s3fs.S3FileSystem(
        endpoint_url=endpoint_url or None,  # None: AWS, or $AWS_ENDPOINT_URL (botocore)
        skip_instance_cache=True,
        use_listings_cache=False,  # the lake changes under us: always list afresh
        config_kwargs={
            "connect_timeout": 5,
            "read_timeout": 30,
            "retries": {"max_attempts": 4, "mode": "standard"},
        },
    )


def _gs_filesystem() -> Any:
    # gcsfs.core's file system, not the package's default export: that one probes each
    # bucket's layout over gRPC first (a minute of retries where the API is not there)
    import gcsfs.core

    # with STORAGE_EMULATOR_HOST (a local GCS), Google's clients use no credentials
    token = "anon" if os.environ.get("STORAGE_EMULATOR_HOST") else "google_default"
    return gcsfs.core.GCSFileSystem(
        token=token, skip_instance_cache=True, use_listings_cache=False, requests_timeout=30
    )


def lake_location(lake_url: str, data_dir: Path) -> str:
    """The lake URL in use: the setting, or `<data_dir>/lake`."""
    return lake_url.strip() or str(data_dir / "lake")


def open_storage(lake_url: str, data_dir: Path, s3_endpoint_url: str = "") -> LakeStorage:
    """The storage of a lake URL (a local path, `s3://bucket/prefix`, `gs://bucket/prefix`)."""
    scheme, location, prefix = split_lake_url(lake_location(lake_url, data_dir))
    if not scheme:
        return LocalStorage(Path(location).expanduser())
    hint = S3_HINT if scheme == "s3" else GS_HINT
    try:
        fs = s3_filesystem(s3_endpoint_url) if scheme == "s3" else _gs_filesystem()
    except Exception as exc:
        raise translate_error(exc, "open", f"{scheme}://{location}", location, hint) from None
    return ObjectStorage(fs, scheme, location, prefix, hint)


def open_lake(settings: Settings, *, check: bool = False) -> LakeStorage:
    """The raw lake of `settings.lake_url`; with `check`, fail now if it cannot be listed."""
    storage = open_storage(settings.lake_url, settings.data_dir, settings.s3_endpoint_url)
    if check:
        storage.check()
    return storage


def as_storage(lake: LakeStorage | Path) -> LakeStorage:
    """A storage for a lake given as a storage or as a local folder."""
    return lake if isinstance(lake, LakeStorage) else LocalStorage(Path(lake))
