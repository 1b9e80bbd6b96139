"""The lake in a bucket: `ObjectStorage` over an fsspec file system (s3fs, gcsfs), and
`open_lake`, which reads `lake_url` and gives the storage (a local folder or a bucket).

Writes are single requests that never replace an object: `pipe_file(mode="create")`
sends S3's `If-None-Match: *` or GCS's `ifGenerationMatch=0`, and the store refuses a
second writer of a key (412, seen as `FileExistsError`). Objects up to `SINGLE_PUT_LIMIT`
go in one PUT, so there is never a multipart upload for a killed writer to leave behind.
Listings are delimited, one prefix level at a time; the file systems' listing caches are
off, since other processes change the lake. Errors become one line
(`translate_error`): final (`LakeAccessError`) or retryable (`LakeUnavailable`).
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from streamcensus.config import Settings
from streamcensus.errors import StreamcensusError, UserError
from streamcensus.lake.manifest import LakeError
from streamcensus.lake.storage import (
    Entry,
    LakeAccessError,
    LakeRewriteError,
    LakeStorage,
    LakeUnavailable,
    LocalStorage,
    is_temp_name,
    join_key,
    sha256_bytes,
    write_scratch,
)
from streamcensus.urls import mask_credentials

SCHEMES = ("s3", "gs")
# One PUT (S3) or one simple upload (GCS) up to this size: larger needs multipart, whose
# parts a killed writer could leave behind. Lake files are a few MB.
SINGLE_PUT_LIMIT = 5 * 2**30
FETCH_BATCH = 32  # files downloaded concurrently by `load` (a few MB each)
_URL_USER = re.compile(r"(\w+://)[^/@\s]+@")  # credentials inside a URL in a message


class ObjectStorage(LakeStorage):
    """A lake under `scheme://bucket/prefix` through an fsspec file system (s3fs, gcsfs)."""

    def __init__(self, fs: Any, scheme: str, bucket: str, prefix: str, hint: str) -> None:
        self.fs = fs
        self.scheme = scheme
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.root = PurePosixPath(join_key(bucket, self.prefix))
        self.url = f"{scheme}://{join_key(bucket, self.prefix)}"
        self.hint = hint  # how to give credentials, for the error line

    def _path(self, key: str) -> str:
        return join_key(self.bucket, self.prefix, key)

    def _key(self, path: str) -> str:
        base = join_key(self.bucket, self.prefix)
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
        write_scratch(local, data)
        return local, len(data), sha256_bytes(data)

    def fetch_many(
        self, keys: list[str], scratch: Path
    ) -> dict[str, tuple[Path, int, str] | FileNotFoundError]:
        found: dict[str, tuple[Path, int, str] | FileNotFoundError] = {}
        for start in range(0, len(keys), FETCH_BATCH):  # bounded memory: a batch at a time
            for key, data in self.read_many(keys[start : start + FETCH_BATCH]).items():
                if isinstance(data, FileNotFoundError):
                    found[key] = data
                    continue
                if isinstance(data, OSError):
                    raise self._error(data, "read", key)
                write_scratch(scratch / key, data)
                found[key] = (scratch / key, len(data), sha256_bytes(data))
        return found

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
    shown = _URL_USER.sub(r"\1***@", text)[:200]
    return LakeUnavailable(f"cannot {doing} {where}: {shown}")


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
