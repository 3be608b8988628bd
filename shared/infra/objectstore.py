"""Evidence files in an S3 object store (MinIO in deployment, SeaweedFS in tests).

Every file is stored under its content's SHA-256 (`sha256/<hex>`) and is never
overwritten: the same bytes uploaded twice are stored once, and the store has no
delete method. The bucket is created with object lock where the server allows it
(every version is then kept under a GOVERNANCE default retention), and always with
versioning, so even a write made behind the store's back leaves the original
version in place, and `sha256_of_stored` shows that the latest one no longer
matches its key.

Uploads are read in chunks into a spooled temporary file (memory up to 8 MiB, then
disk) while they are hashed, so a file is never held whole in memory; the upload
to the server goes in 16 MiB parts, one at a time.

No nameko and no HTTP framework here: a service's DependencyProvider builds one
`EvidenceStore.from_settings(settings)` in `setup()` and calls `ensure_bucket()`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, BinaryIO, Iterator
from urllib.parse import quote

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import GOVERNANCE
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.versioningconfig import ENABLED, VersioningConfig

from shared.domain.errors import NotFound, PlatformError

CHUNK_SIZE = 1024 * 1024  # read from the caller's stream 1 MiB at a time
SPOOL_MAX_SIZE = 8 * 1024 * 1024  # beyond this the temporary file moves to disk
PART_SIZE = 16 * 1024 * 1024  # files larger than this go up as multipart
HEAD_SIZE = 8 * 1024  # bytes handed back for type sniffing
DEFAULT_RETENTION_DAYS = 3650
KEY_PREFIX = "sha256/"
SHA256_METADATA = "x-amz-meta-sha256"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_MISSING_CODES = {"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound"}
_NO_LOCK_CONFIG_CODES = {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound"}
_BUCKET_EXISTS_CODES = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


# --- errors -----------------------------------------------------------------------


class TooLarge(PlatformError):
    """The upload is larger than the limit; reading stopped one byte past it."""

    status = 413
    code = "file_too_large"

    def __init__(self, limit: int):
        rule = f"the file is larger than the limit of {limit} bytes ({_human(limit)})"
        super().__init__(rule, {"file": [rule]})
        self.limit = limit


class EmptyFile(PlatformError):
    status = 400
    code = "empty_file"

    def __init__(self):
        rule = "the file is empty"
        super().__init__(rule, {"file": [rule]})


class IncompleteUpload(PlatformError):
    """The body ended before the length it declared, or its chunked framing broke off.

    Without this check a client that disconnects half-way would leave a truncated
    file stored and attached as if it were the whole document."""

    status = 400
    code = "incomplete_upload"

    def __init__(self, rule: str):
        super().__init__(rule, {"file": [rule]})


class EvidenceNotFound(NotFound):
    code = "evidence_not_found"

    def __init__(self, sha256: str):
        super().__init__(f"no stored evidence file has SHA-256 {sha256}", {"sha256": ["not stored"]})
        self.sha256 = sha256


class StoreUnavailable(PlatformError):
    """The object store cannot be reached, or answers with a server error."""

    status = 503
    code = "store_unavailable"


class StoreError(PlatformError):
    """The object store refused a request (credentials, permissions, configuration)."""

    status = 502
    code = "object_store_error"

    def __init__(self, message: str, s3_code: str | None = None):
        super().__init__(message)
        self.s3_code = s3_code


# --- results ----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredObject:
    sha256: str
    size: int
    key: str
    created: bool  # False: these bytes were already stored, nothing was uploaded
    head: bytes = field(default=b"", repr=False)  # first up to 8 KiB, for type sniffing


@dataclass(frozen=True)
class ObjectInfo:
    sha256: str
    key: str
    size: int
    etag: str
    version_id: str | None
    content_type: str | None
    last_modified: datetime | None
    metadata_sha256: str | None  # what the uploader recorded in x-amz-meta-sha256


@dataclass(frozen=True)
class ObjectVersion:
    """One stored version of a key (versioning keeps every write and delete)."""

    version_id: str | None
    size: int | None
    last_modified: datetime | None
    is_latest: bool
    is_delete_marker: bool


@dataclass(frozen=True)
class BucketStatus:
    """What the server says about the bucket, not what was asked for."""

    bucket: str
    versioning: str | None  # "Enabled", "Suspended" or None (never enabled)
    object_lock: bool
    retention_mode: str | None
    retention_days: int | None


@dataclass
class Spooled:
    """An upload read to its end: the temporary file (at position 0) and its digest."""

    file: IO[bytes]
    sha256: str
    size: int
    head: bytes

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Spooled:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- the streaming part, without a server --------------------------------------------


def spool_stream(
    stream: BinaryIO,
    *,
    max_bytes: int,
    chunk_size: int = CHUNK_SIZE,
    spool_max_size: int = SPOOL_MAX_SIZE,
    head_size: int = HEAD_SIZE,
    expected_size: int | None = None,
) -> Spooled:
    """Read `stream` to its end in chunks, hashing it into a spooled temporary file.

    Never reads more than `max_bytes + 1` bytes: the byte past the limit raises
    `TooLarge`. An empty stream raises `EmptyFile`; a stream that breaks off, or
    ends short of `expected_size` (a declared Content-Length), raises
    `IncompleteUpload`. The caller closes the result.
    """
    if max_bytes < 1:
        raise ValueError("max_bytes must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    spool = tempfile.SpooledTemporaryFile(max_size=spool_max_size, prefix="evidence-")
    try:
        while True:
            try:
                chunk = stream.read(min(chunk_size, max_bytes + 1 - size))
            except (OSError, ValueError) as exc:  # the client's side: a broken chunked body, a reset
                raise IncompleteUpload(f"the upload broke off after {size} bytes ({exc})") from exc
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(max_bytes)
            digest.update(chunk)
            if len(head) < head_size:
                head += chunk[: head_size - len(head)]
            spool.write(chunk)
        if size == 0:
            raise EmptyFile()
        if expected_size is not None and size != expected_size:
            raise IncompleteUpload(
                f"the body ended after {size} of the {expected_size} bytes its Content-Length declared"
            )
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return Spooled(file=spool, sha256=digest.hexdigest(), size=size, head=bytes(head))


def key_for(sha256: str) -> str:
    """The object key of a SHA-256 hex digest (validated: 64 hex digits)."""
    digest = sha256.strip().lower() if isinstance(sha256, str) else ""
    if not _HEX64.fullmatch(digest):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return KEY_PREFIX + digest


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A Content-Disposition value for any file name (RFC 6266 with RFC 5987 `filename*`).

    The plain `filename` is an ASCII stand-in for old clients; `filename*` carries the
    real name (Chinese included) percent-encoded as UTF-8.
    """
    name = os.path.basename(filename.replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "download"
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\;%' else "_" for ch in name)
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.4g} {unit}"
        n /= 1024
    return str(n)


def _default_http_client(secure: bool, connect_timeout: float, read_timeout: float) -> urllib3.PoolManager:
    # minio's own default waits 5 minutes to connect and retries 5 times: a service
    # would hang on a store that is down. Fail in seconds instead.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=10,
        cert_reqs="CERT_REQUIRED" if secure else "CERT_NONE",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=3, connect=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
        ),
    )


# --- reading a stored file ----------------------------------------------------------


class ObjectReader:
    """A stored file's body as a stream. Close it (or use `with`) to free the connection."""

    def __init__(self, response, store: EvidenceStore, sha256: str):
        self._response = response
        self._store = store
        self.sha256 = sha256
        length = response.headers.get("Content-Length")
        self.size = int(length) if length is not None else None
        self.content_type = response.headers.get("Content-Type")

    def read(self, amt: int | None = None) -> bytes:
        with self._store._translate(f"reading evidence {self.sha256}"):
            return self._response.read(amt)

    def stream(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        while True:
            chunk = self.read(chunk_size)
            if not chunk:
                return
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        return self.stream()

    def close(self) -> None:
        try:
            self._response.close()
        finally:
            self._response.release_conn()

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- the store -----------------------------------------------------------------------


class EvidenceStore:
    """Content-addressed, write-once evidence files in one S3 bucket."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        region: str | None = None,
        public_endpoint: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        upload_parallelism: int = 1,
        http_client: urllib3.PoolManager | None = None,
        client: Minio | None = None,
    ):
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.endpoint = endpoint
        self.bucket = bucket
        self.secure = secure
        self.retention_days = retention_days
        # One part in memory at a time: parallel uploads hold N parts of 16 MiB each.
        self.upload_parallelism = upload_parallelism
        self.client = client or Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http_client or _default_http_client(secure, connect_timeout, read_timeout),
        )
        # Presigned URLs name the host the browser will reach; signing is local when
        # the region is known, so the public host need not be reachable from here.
        if public_endpoint and public_endpoint != endpoint:
            self._presigner = Minio(
                public_endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                region=region or "us-east-1",
            )
        else:
            self._presigner = self.client
        # What ensure_bucket learned: None until it runs.
        self.object_lock: bool | None = None
        self.object_lock_refused: str | None = None  # the server's reason, when it refused
        self.versioning: bool | None = None

    @classmethod
    def from_settings(cls, settings, **kwargs) -> EvidenceStore:
        return cls(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key,
            settings.s3_bucket,
            settings.s3_secure,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"EvidenceStore({self.endpoint!r}, bucket={self.bucket!r}, object_lock={self.object_lock})"

    # -- errors

    @contextmanager
    def _translate(self, doing: str):
        where = f"{'https' if self.secure else 'http'}://{self.endpoint}"
        try:
            yield
        except S3Error as exc:
            raise StoreError(
                f"object store at {where} refused {doing}: {exc.code}: {exc.message}", exc.code
            ) from exc
        except ServerError as exc:
            raise StoreUnavailable(
                f"object store at {where} failed while {doing} (HTTP {exc.status_code})"
            ) from exc
        except InvalidResponseError as exc:
            raise StoreUnavailable(
                f"object store at {where} gave a response that is not S3 while {doing}: {exc}"
            ) from exc
        except (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise StoreUnavailable(
                f"object store at {where} is unreachable while {doing}: {reason}"
            ) from exc

    # -- the bucket

    def ensure_bucket(self) -> BucketStatus:
        """Create the bucket if absent (object lock on where the server allows it),
        enable versioning, and set the default retention when object lock is on.
        Safe to call at every start-up; returns what the server then reports."""
        with self._translate(f"setting up bucket {self.bucket}"):
            if not self.client.bucket_exists(self.bucket):
                self._create_bucket()
            lock = self._lock_config()
            self.object_lock = lock is not None
            if self.client.get_bucket_versioning(self.bucket).status != ENABLED:
                self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
            self.versioning = True
            if lock is not None and (
                lock.mode != GOVERNANCE
                or lock.duration != self.retention_days
                or lock.duration_unit != DAYS
            ):
                self.client.set_object_lock_config(
                    self.bucket, ObjectLockConfig(GOVERNANCE, self.retention_days, DAYS)
                )
        return self.bucket_status()

    def _create_bucket(self) -> None:
        try:
            self.client.make_bucket(self.bucket, object_lock=True)
            return
        except S3Error as exc:
            if exc.code in _BUCKET_EXISTS_CODES:  # another process created it first
                return
            if exc.code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                raise
            self.object_lock_refused = f"{exc.code}: {exc.message}"
        try:
            self.client.make_bucket(self.bucket)
        except S3Error as exc:
            if exc.code not in _BUCKET_EXISTS_CODES:
                raise

    def _lock_config(self) -> ObjectLockConfig | None:
        try:
            config = self.client.get_object_lock_config(self.bucket)
        except S3Error as exc:
            if exc.code in _NO_LOCK_CONFIG_CODES or exc.code == "NotImplemented":
                return None
            raise
        return config

    def bucket_status(self) -> BucketStatus:
        """Ask the server how the bucket is configured."""
        with self._translate(f"reading the configuration of bucket {self.bucket}"):
            versioning = self.client.get_bucket_versioning(self.bucket).status
            lock = self._lock_config()
        return BucketStatus(
            bucket=self.bucket,
            versioning=versioning,
            object_lock=lock is not None,
            retention_mode=lock.mode if lock is not None else None,
            retention_days=(
                lock.duration if lock is not None and lock.duration_unit == DAYS else None
            ),
        )

    # -- writing

    def put_stream(
        self, stream: BinaryIO, *, content_type: str, max_bytes: int
    ) -> StoredObject:
        """Store the file read from `stream` under its SHA-256, unless already stored."""
        with spool_stream(stream, max_bytes=max_bytes) as spooled:
            return self.put_spooled(spooled, content_type=content_type)

    def put_spooled(self, spooled: Spooled, *, content_type: str) -> StoredObject:
        """Store a file already read by `spool_stream` (e.g. after sniffing its head).

        Nothing is uploaded when the key already exists: evidence is never overwritten."""
        key = key_for(spooled.sha256)
        created = not self.exists(spooled.sha256)
        if created:
            spooled.file.seek(0)
            with self._translate(f"uploading {key}"):
                self.client.put_object(
                    self.bucket,
                    key,
                    spooled.file,
                    length=spooled.size,
                    content_type=content_type or "application/octet-stream",
                    metadata={SHA256_METADATA: spooled.sha256},
                    part_size=PART_SIZE,
                    num_parallel_uploads=self.upload_parallelism,
                )
        return StoredObject(
            sha256=spooled.sha256,
            size=spooled.size,
            key=key,
            created=created,
            head=spooled.head,
        )

    # -- reading

    def stat(self, sha256: str) -> ObjectInfo | None:
        key = key_for(sha256)
        with self._translate(f"looking up {key}"):
            try:
                obj = self.client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING_CODES:
                    return None
                raise
        metadata = {k.lower(): v for k, v in (obj.metadata or {}).items()}
        return ObjectInfo(
            sha256=key[len(KEY_PREFIX):],
            key=key,
            size=obj.size,
            etag=obj.etag,
            version_id=obj.version_id,
            content_type=obj.content_type,
            last_modified=obj.last_modified,
            metadata_sha256=metadata.get(SHA256_METADATA),
        )

    def exists(self, sha256: str) -> bool:
        return self.stat(sha256) is not None

    def versions(self, sha256: str) -> list[ObjectVersion]:
        """Every version the server keeps under the key, oldest first (delete markers included)."""
        key = key_for(sha256)
        with self._translate(f"listing the versions of {key}"):
            found = [
                ObjectVersion(
                    version_id=obj.version_id,
                    size=obj.size,
                    last_modified=obj.last_modified,
                    is_latest=str(obj.is_latest).lower() == "true",
                    is_delete_marker=bool(obj.is_delete_marker),
                )
                for obj in self.client.list_objects(self.bucket, prefix=key, include_version=True)
                if obj.object_name == key
            ]
        return sorted(found, key=lambda v: v.last_modified.timestamp() if v.last_modified else 0.0)

    def open(self, sha256: str, version_id: str | None = None) -> ObjectReader:
        """The stored file (its latest version, or `version_id`) as a stream; the caller closes it."""
        key = key_for(sha256)
        with self._translate(f"reading {key}"):
            try:
                response = self.client.get_object(self.bucket, key, version_id=version_id)
            except S3Error as exc:
                if exc.code in _MISSING_CODES:
                    raise EvidenceNotFound(key[len(KEY_PREFIX):]) from exc
                raise
        return ObjectReader(response, self, key[len(KEY_PREFIX):])

    def sha256_of_stored(self, sha256: str, version_id: str | None = None) -> str:
        """Re-read the stored file in chunks and hash it (the integrity audit).

        A result different from `sha256` means the bytes under that key changed."""
        digest = hashlib.sha256()
        with self.open(sha256, version_id) as reader:
            for chunk in reader.stream():
                digest.update(chunk)
        return digest.hexdigest()

    def presigned_get(
        self, sha256: str, expires: timedelta, filename: str | None = None
    ) -> str:
        """A URL that downloads the file without credentials until `expires` has passed.

        With `filename`, the download is offered under that name (any script)."""
        key = key_for(sha256)
        response_headers = (
            {"response-content-disposition": content_disposition(filename)} if filename else None
        )
        with self._translate(f"signing a download URL for {key}"):
            return self._presigner.presigned_get_object(
                self.bucket, key, expires=expires, response_headers=response_headers
            )

    # -- signed checkpoints of the ledger (issue #8): small write-once JSON objects

    def put_checkpoint(self, seq: int, data: bytes) -> str:
        """Store checkpoint `seq` under `checkpoints/`; an existing one is never overwritten
        (the same bytes again is a no-op, different bytes are refused)."""
        key = checkpoint_key(seq)
        existing = self.get_checkpoint(seq)
        if existing is not None:
            if existing != data:
                raise StoreError(f"checkpoint {seq} is already stored at {key} with other content; "
                                 "checkpoints are never overwritten")
            return key
        with self._translate(f"uploading {key}"):
            self.client.put_object(self.bucket, key, io.BytesIO(data), length=len(data),
                                   content_type="application/json")
        return key

    def get_checkpoint(self, seq: int) -> bytes | None:
        key = checkpoint_key(seq)
        with self._translate(f"reading {key}"):
            try:
                response = self.client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING_CODES:
                    return None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def list_checkpoints(self) -> list[int]:
        """The sequence numbers of the checkpoints stored, in order."""
        with self._translate(f"listing {CHECKPOINT_PREFIX}"):
            names = [o.object_name for o in self.client.list_objects(self.bucket, prefix=CHECKPOINT_PREFIX)]
        seqs = []
        for name in names:
            stem = name[len(CHECKPOINT_PREFIX):].removesuffix(".json")
            if stem.isdigit():
                seqs.append(int(stem))
        return sorted(seqs)


CHECKPOINT_PREFIX = "checkpoints/"


def checkpoint_key(seq: int) -> str:
    return f"{CHECKPOINT_PREFIX}{int(seq):012d}.json"
