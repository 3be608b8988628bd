"""What the evidence store answers: a file stored, a file's details and versions, the bucket's set-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
