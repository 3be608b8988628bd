"""The evidence store against a real S3 server (SeaweedFS here, MinIO in deployment).

Each test gets a bucket of its own on the session's server (`s3_settings`, from
tests/conftest.py), so the tests say what the store does for one upload, not what an
earlier test left behind.
"""

from __future__ import annotations

import hashlib
import io
import random
import socket
import time
import tracemalloc
import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
import requests
from minio import Minio
from minio.error import S3Error

from shared.infra.objectstore.errors import EmptyFile, EvidenceNotFound, StoreUnavailable, TooLarge
from shared.infra.objectstore.spooling import spool_stream
from shared.infra.objectstore.store import EvidenceStore

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


@pytest.fixture
def bucket() -> str:
    return f"evidence-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def store(s3_settings, bucket) -> EvidenceStore:
    store = EvidenceStore(
        s3_settings["endpoint"],
        s3_settings["access_key"],
        s3_settings["secret_key"],
        bucket,
        s3_settings["secure"],
    )
    store.ensure_bucket()
    return store


@pytest.fixture
def raw(s3_settings) -> Minio:
    """A plain minio client, for what the store must not (or cannot) do itself."""
    return Minio(
        s3_settings["endpoint"],
        access_key=s3_settings["access_key"],
        secret_key=s3_settings["secret_key"],
        secure=s3_settings["secure"],
    )


class GeneratedStream:
    """`size` deterministic pseudo-random bytes, made as they are read, never all at once.

    It hashes what it hands out, so the test knows the digest without the store's help."""

    def __init__(self, size: int, seed: int = 7):
        self.remaining = size
        self.rng = random.Random(seed)
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            raise AssertionError("the store must read in chunks, not the whole stream")
        n = min(n, self.remaining)
        data = self.rng.randbytes(n)
        self.remaining -= n
        self.sha256.update(data)
        return data


def versions(raw: Minio, bucket: str, key: str) -> list:
    return list(raw.list_objects(bucket, prefix=key, include_version=True))


# --- the bucket ---------------------------------------------------------------------------


def test_the_bucket_is_versioned_and_its_lock_status_is_what_the_server_reports(store, raw, bucket):
    status = store.ensure_bucket()  # a second call changes nothing

    assert status.versioning == "Enabled"
    assert raw.get_bucket_versioning(bucket).status == "Enabled"
    # The store reports object lock as the server has it, not as it asked for it.
    try:
        server_lock = raw.get_object_lock_config(bucket)
    except S3Error as exc:
        assert exc.code.startswith("ObjectLockConfiguration")
        assert status.object_lock is False and store.object_lock is False
        assert store.object_lock_refused  # the server said why at creation
    else:
        assert status.object_lock is True and store.object_lock is True
        assert (server_lock.mode, server_lock.duration, server_lock.duration_unit) == (
            "GOVERNANCE", 3650, "Days",
        )
        assert (status.retention_mode, status.retention_days) == ("GOVERNANCE", 3650)


def test_seaweedfs_supports_object_lock_with_a_default_retention(store, raw, bucket):
    # What was measured on SeaweedFS 4.48; MinIO behaves the same.
    assert store.object_lock is True and store.object_lock_refused is None
    stored = store.put_stream(io.BytesIO(b"retained"), content_type="text/plain", max_bytes=100)

    retention = raw.get_object_retention(bucket, stored.key)
    assert retention.mode == "GOVERNANCE"
    left = retention.retain_until_date - raw.stat_object(bucket, stored.key).last_modified
    assert timedelta(days=3649) < left <= timedelta(days=3651)


# --- uploads ----------------------------------------------------------------------------


def test_an_upload_is_stored_under_its_sha256(store, raw, bucket):
    data = "申报书 evidence\n".encode() * 100

    stored = store.put_stream(io.BytesIO(data), content_type="text/plain", max_bytes=10 * MiB)

    digest = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, stored.key, stored.created) == (
        digest, len(data), f"sha256/{digest}", True,
    )
    assert stored.head == data[: 8 * 1024]
    info = store.stat(digest)
    assert info.size == len(data) and info.etag
    assert info.metadata_sha256 == digest
    assert info.content_type == "text/plain"
    assert store.exists(digest)
    with store.open(digest) as reader:
        assert reader.read() == data
    assert raw.get_object(bucket, stored.key).read() == data


def test_the_same_bytes_twice_are_stored_once(store, raw, bucket):
    data = b"%PDF-1.7 the same evidence twice"

    first = store.put_stream(io.BytesIO(data), content_type="application/pdf", max_bytes=MiB)
    second = store.put_stream(io.BytesIO(data), content_type="application/pdf", max_bytes=MiB)

    assert first.created is True and second.created is False
    assert first.sha256 == second.sha256
    assert len(versions(raw, bucket, first.key)) == 1


def test_a_spooled_upload_can_be_sniffed_before_it_is_stored(store):
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100

    with spool_stream(io.BytesIO(data), max_bytes=MiB) as spooled:
        assert spooled.head.startswith(b"\x89PNG")
        spooled.file.read(100)  # a sniffer that peeked at the file itself
        stored = store.put_spooled(spooled, content_type="image/png")

    assert stored.created and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.sha256_of_stored(stored.sha256) == stored.sha256
    assert store.stat(stored.sha256).content_type == "image/png"


def test_a_stream_over_the_limit_is_refused_and_nothing_is_stored(store, raw, bucket):
    with pytest.raises(TooLarge) as refused:
        store.put_stream(io.BytesIO(b"x" * 1001), content_type="text/plain", max_bytes=1000)

    assert refused.value.limit == 1000
    assert list(raw.list_objects(bucket, recursive=True)) == []


def test_a_stream_of_exactly_the_limit_is_stored(store):
    stored = store.put_stream(io.BytesIO(b"x" * 1000), content_type="text/plain", max_bytes=1000)
    assert stored.size == 1000


def test_an_empty_stream_is_refused(store, raw, bucket):
    with pytest.raises(EmptyFile):
        store.put_stream(io.BytesIO(b""), content_type="text/plain", max_bytes=1000)
    assert list(raw.list_objects(bucket, recursive=True)) == []


def test_64_mib_go_up_as_multipart_without_the_file_in_memory(store):
    stream = GeneratedStream(64 * MiB)

    tracemalloc.start()
    try:
        stored = store.put_stream(stream, content_type="application/octet-stream", max_bytes=100 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.sha256 == stream.sha256.hexdigest()
    assert stored.size == 64 * MiB and stored.created
    # 16 MiB parts: S3 gives a multipart object the ETag "<md5 of the part md5s>-<parts>".
    assert store.stat(stored.sha256).etag.endswith("-4")
    # One part (and the signing copies of it) at a time, never the whole 64 MiB.
    assert peak < 48 * MiB, f"peak Python memory {peak / MiB:.1f} MiB"
    assert store.sha256_of_stored(stored.sha256) == stored.sha256


# --- integrity ----------------------------------------------------------------------------


def test_bytes_changed_behind_the_stores_back_are_detected(store, raw, bucket):
    stored = store.put_stream(io.BytesIO(b"original evidence"), content_type="text/plain", max_bytes=MiB)
    assert store.sha256_of_stored(stored.sha256) == stored.sha256
    original_version = store.stat(stored.sha256).version_id

    try:
        raw.put_object(bucket, stored.key, io.BytesIO(b"forged evidence!!"), 17)
    except S3Error as refused:  # a server whose lock forbids a new version of the key
        assert store.object_lock is True, refused
        assert store.sha256_of_stored(stored.sha256) == stored.sha256
        return

    # SeaweedFS (like S3 and MinIO) accepts a new version under a locked key: the lock
    # protects versions, not keys. The audit sees the key's bytes no longer match ...
    altered = store.sha256_of_stored(stored.sha256)
    assert altered != stored.sha256
    assert altered == hashlib.sha256(b"forged evidence!!").hexdigest()
    # ... and versioning kept the original, which the lock keeps from being deleted.
    assert raw.get_object(bucket, stored.key, version_id=original_version).read() == b"original evidence"
    if store.object_lock:
        with pytest.raises(S3Error) as denied:
            raw.remove_object(bucket, stored.key, version_id=original_version)
        assert denied.value.code == "AccessDenied"


def test_the_store_has_no_way_to_delete():
    assert not [name for name in dir(EvidenceStore) if "delete" in name or "remove" in name]


def test_missing_evidence(store):
    digest = hashlib.sha256(b"never stored").hexdigest()
    assert store.exists(digest) is False
    assert store.stat(digest) is None
    with pytest.raises(EvidenceNotFound):
        store.open(digest)
    with pytest.raises(EvidenceNotFound):
        store.sha256_of_stored(digest)


# --- downloads ------------------------------------------------------------------------------


def test_a_presigned_url_downloads_the_bytes_under_the_chinese_file_name(store):
    data = b"%PDF-1.7 signed task book"
    stored = store.put_stream(io.BytesIO(data), content_type="application/pdf", max_bytes=MiB)

    url = store.presigned_get(stored.sha256, timedelta(minutes=5), filename="任务书 2024.pdf")
    response = requests.get(url, timeout=10)

    assert response.status_code == 200
    assert response.content == data
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('任务书 2024.pdf')}" in disposition


def test_a_presigned_url_is_refused_once_expired(store):
    stored = store.put_stream(io.BytesIO(b"short-lived"), content_type="text/plain", max_bytes=MiB)

    url = store.presigned_get(stored.sha256, timedelta(seconds=1))
    time.sleep(2.5)  # the one sleep: the URL must outlive its expiry
    response = requests.get(url, timeout=10)

    assert response.status_code == 403
    assert b"expired" in response.content.lower()


def test_a_url_without_a_signature_is_refused(store):
    stored = store.put_stream(io.BytesIO(b"private"), content_type="text/plain", max_bytes=MiB)
    url = store.presigned_get(stored.sha256, timedelta(minutes=5)).split("?")[0]
    assert requests.get(url, timeout=10).status_code == 403


# --- an unreachable store ------------------------------------------------------------------


def test_a_store_that_is_down_says_so(s3_settings):
    store = EvidenceStore(
        f"127.0.0.1:{_closed_port()}",
        s3_settings["access_key"],
        s3_settings["secret_key"],
        "evidence",
        False,
    )
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="unreachable"):
        store.put_stream(io.BytesIO(b"data"), content_type="text/plain", max_bytes=MiB)
    assert time.monotonic() - started < 5


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once the socket is closed
