"""`EvidenceStore`: content-addressed, write-once evidence files (and the ledger's signed
checkpoints, in a bucket of their own when `checkpoint_bucket` names one) in S3, and the
buckets' set-up (versioning, object lock).

The package's docstring (`shared.infra.objectstore`) says what the store promises.
"""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta
from typing import BinaryIO, cast

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import GOVERNANCE
from minio.error import S3Error
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.versioningconfig import ENABLED, VersioningConfig

from shared.infra.objectstore.errors import EvidenceNotFound, StoreError, translated
from shared.infra.objectstore.keys import CHECKPOINT_PREFIX, checkpoint_key, key_for, sha256_of_key
from shared.infra.objectstore.reading import ObjectReader, content_disposition
from shared.infra.objectstore.results import BucketStatus, ObjectInfo, ObjectVersion, StoredObject
from shared.infra.objectstore.spooling import Spooled, spool_stream

PART_SIZE = 16 * 1024 * 1024  # files larger than this go up as multipart
DEFAULT_RETENTION_DAYS = 3650
SHA256_METADATA = "x-amz-meta-sha256"

_MISSING_CODES = {"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound"}
_NO_LOCK_CONFIG_CODES = {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound"}
_BUCKET_EXISTS_CODES = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


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
        checkpoint_bucket: str | None = None,
    ):
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.endpoint = endpoint
        self.bucket = bucket
        self.checkpoint_bucket = checkpoint_bucket or bucket
        self.secure = secure
        self._address = f"{'https' if secure else 'http'}://{endpoint}"  # what its errors name
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
            checkpoint_bucket=getattr(settings, "s3_checkpoint_bucket", "") or None,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"EvidenceStore({self.endpoint!r}, bucket={self.bucket!r}, object_lock={self.object_lock})"

    # -- the bucket

    def ensure_bucket(self) -> BucketStatus:
        """Create the bucket if absent (object lock on where the server allows it),
        enable versioning, and set the default retention when object lock is on.
        Safe to call at every start-up; returns what the server then reports (of the
        evidence bucket; the checkpoints' own, where there is one, is set up the same way)."""
        if self.checkpoint_bucket != self.bucket:
            self._ensure(self.checkpoint_bucket)
        self.object_lock = self._ensure(self.bucket)
        self.versioning = True
        return self.bucket_status()

    def _ensure(self, bucket: str) -> bool:
        """Set up one bucket; whether it has object lock."""
        with translated(self._address, f"setting up bucket {bucket}"):
            if not self.client.bucket_exists(bucket):
                self._create_bucket(bucket)
            lock = self._lock_config(bucket)
            if self.client.get_bucket_versioning(bucket).status != ENABLED:
                self.client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
            if lock is not None and (
                lock.mode != GOVERNANCE
                or lock.duration != self.retention_days
                or lock.duration_unit != DAYS
            ):
                self.client.set_object_lock_config(
                    bucket, ObjectLockConfig(GOVERNANCE, self.retention_days, DAYS)
                )
        return lock is not None

    def _create_bucket(self, bucket: str) -> None:
        try:
            self.client.make_bucket(bucket, object_lock=True)
            return
        except S3Error as exc:
            if exc.code in _BUCKET_EXISTS_CODES:  # another process created it first
                return
            if exc.code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                raise
            self.object_lock_refused = f"{exc.code}: {exc.message}"
        try:
            self.client.make_bucket(bucket)
        except S3Error as exc:
            if exc.code not in _BUCKET_EXISTS_CODES:
                raise

    def _lock_config(self, bucket: str | None = None) -> ObjectLockConfig | None:
        try:
            config = self.client.get_object_lock_config(bucket or self.bucket)
        except S3Error as exc:
            if exc.code in _NO_LOCK_CONFIG_CODES or exc.code == "NotImplemented":
                return None
            raise
        return config

    def bucket_status(self) -> BucketStatus:
        """Ask the server how the bucket is configured."""
        with translated(self._address, f"reading the configuration of bucket {self.bucket}"):
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
            with translated(self._address, f"uploading {key}"):
                self.client.put_object(
                    self.bucket,
                    key,
                    cast(BinaryIO, spooled.file),  # a spooled temporary file: binary, read from 0
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
        with translated(self._address, f"looking up {key}"):
            try:
                obj = self.client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING_CODES:
                    return None
                raise
        if obj.size is None or obj.etag is None:
            raise StoreError(f"the object store described {key} without its size or ETag")
        metadata = {k.lower(): v for k, v in (obj.metadata or {}).items()}
        return ObjectInfo(
            sha256=sha256_of_key(key),
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
        with translated(self._address, f"listing the versions of {key}"):
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
        with translated(self._address, f"reading {key}"):
            try:
                response = self.client.get_object(self.bucket, key, version_id=version_id)
            except S3Error as exc:
                if exc.code in _MISSING_CODES:
                    raise EvidenceNotFound(sha256_of_key(key)) from exc
                raise
        return ObjectReader(response, sha256_of_key(key), self._address)

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
        response_headers: dict[str, str | list[str] | tuple[str]] | None = (
            {"response-content-disposition": content_disposition(filename)} if filename else None
        )
        with translated(self._address, f"signing a download URL for {key}"):
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
        with translated(self._address, f"uploading {key}"):
            self.client.put_object(self.checkpoint_bucket, key, io.BytesIO(data), length=len(data),
                                   content_type="application/json")
        return key

    def get_checkpoint(self, seq: int) -> bytes | None:
        key = checkpoint_key(seq)
        with translated(self._address, f"reading {key}"):
            try:
                response = self.client.get_object(self.checkpoint_bucket, key)
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
        with translated(self._address, f"listing {CHECKPOINT_PREFIX}"):
            names = [o.object_name for o in self.client.list_objects(self.checkpoint_bucket, prefix=CHECKPOINT_PREFIX)]
        seqs = []
        for name in names:
            stem = name[len(CHECKPOINT_PREFIX):].removesuffix(".json")
            if stem.isdigit():
                seqs.append(int(stem))
        return sorted(seqs)
