"""The evidence store's own logic, without a server.

`spool_stream` is the reading half of `put_stream`: chunked, hashed, bounded, spooled.
What the store asks of the bucket (object lock, or a plain bucket when the server
refuses it) is checked with a small in-memory stand-in for the S3 client, because no
test server here refuses object lock; everything the server itself does is tested in
tests/integration/test_objectstore.py.
"""

from __future__ import annotations

import hashlib
import io
import socket
from types import SimpleNamespace

import pytest
from minio.error import S3Error
from minio.objectlockconfig import ObjectLockConfig
from minio.versioningconfig import VersioningConfig

from shared.infra.objectstore.errors import EmptyFile, IncompleteUpload, StoreUnavailable, TooLarge
from shared.infra.objectstore.keys import key_for
from shared.infra.objectstore.reading import content_disposition
from shared.infra.objectstore.spooling import CHUNK_SIZE, HEAD_SIZE, spool_stream
from shared.infra.objectstore.store import EvidenceStore
from shared.infra.web.errors import refusal_of

MiB = 1024 * 1024


class CountingStream:
    """An endless stream that records every read: how many bytes, in what sizes."""

    def __init__(self, byte: bytes = b"a"):
        self.byte = byte
        self.requests: list[int] = []
        self.delivered = 0

    def read(self, n: int = -1) -> bytes:
        assert n is not None and n > 0, "reads must be bounded"
        self.requests.append(n)
        self.delivered += n
        return self.byte * n


class TrickleStream(io.RawIOBase):
    """Hands out at most `step` bytes per read, as a socket may."""

    def __init__(self, data: bytes, step: int):
        self.data, self.pos, self.step = data, 0, step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.step if n is None or n < 0 else min(n, self.step)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk


# --- spool_stream --------------------------------------------------------------------


def test_the_digest_size_and_head_are_those_of_the_bytes():
    data = bytes(range(256)) * 300  # 76,800 bytes

    with spool_stream(io.BytesIO(data), max_bytes=MiB) as spooled:
        assert spooled.sha256 == hashlib.sha256(data).hexdigest()
        assert spooled.size == len(data)
        assert spooled.head == data[:HEAD_SIZE]
        assert spooled.file.read() == data  # positioned at the start for the upload


def test_short_reads_are_followed_to_the_end():
    data = b"0123456789" * 2000

    with spool_stream(TrickleStream(data, step=7), max_bytes=MiB) as spooled:
        assert spooled.sha256 == hashlib.sha256(data).hexdigest()
        assert spooled.head == data[:HEAD_SIZE]


def test_a_file_shorter_than_the_head_is_its_own_head():
    with spool_stream(io.BytesIO(b"%PDF-1.7"), max_bytes=100) as spooled:
        assert spooled.head == b"%PDF-1.7"


def test_the_stream_is_read_in_chunks_of_at_most_one_mib():
    stream = CountingStream()
    with pytest.raises(TooLarge):
        spool_stream(stream, max_bytes=5 * MiB)
    assert max(stream.requests) == CHUNK_SIZE == MiB


def test_reading_stops_at_the_first_byte_past_the_limit():
    stream = CountingStream()  # endless: only the limit stops it

    with pytest.raises(TooLarge) as refused:
        spool_stream(stream, max_bytes=3 * MiB + 5)

    assert refused.value.limit == 3 * MiB + 5
    assert stream.delivered == 3 * MiB + 6
    assert refusal_of(refused.value).status == 413
    assert "3145733 bytes" in refused.value.message


def test_a_stream_of_exactly_the_limit_is_accepted():
    with spool_stream(io.BytesIO(b"x" * 1000), max_bytes=1000) as spooled:
        assert spooled.size == 1000


def test_an_empty_stream_is_refused():
    with pytest.raises(EmptyFile) as refused:
        spool_stream(io.BytesIO(b""), max_bytes=1000)
    assert refusal_of(refused.value).status == 400


def test_small_files_stay_in_memory_and_large_ones_go_to_disk():
    with spool_stream(io.BytesIO(b"s" * 1000), max_bytes=MiB, spool_max_size=4096) as small:
        assert not small.file._rolled
    with spool_stream(io.BytesIO(b"l" * 5000), max_bytes=MiB, spool_max_size=4096) as large:
        assert large.file._rolled
        assert large.file.read() == b"l" * 5000


def test_a_refused_stream_leaves_no_temporary_file_open(monkeypatch):
    opened = []
    real = __import__("tempfile").SpooledTemporaryFile

    def tracking(*args, **kwargs):
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr("shared.infra.objectstore.spooling.tempfile.SpooledTemporaryFile", tracking)
    with pytest.raises(TooLarge):
        spool_stream(io.BytesIO(b"x" * 50), max_bytes=10)
    assert opened and opened[0].closed


class BrokenStream:
    """Delivers `data`, then fails as eventlet's chunked reader does when the client goes away."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, n: int) -> bytes:
        if self.data:
            chunk, self.data = self.data[:n], self.data[n:]
            return chunk
        raise OSError("unexpected end of file while parsing chunked data")


def test_a_body_shorter_than_its_declared_length_is_refused_not_stored_truncated():
    with pytest.raises(IncompleteUpload) as refused:
        spool_stream(io.BytesIO(b"%PDF-1.7 half"), max_bytes=MiB, expected_size=1000)
    assert refusal_of(refused.value).status == 400
    assert refusal_of(refused.value).code == "incomplete_upload"
    assert refused.value.fields == {"file": ["the body ended after 13 of the 1000 bytes its Content-Length declared"]}
    with spool_stream(io.BytesIO(b"x" * 1000), max_bytes=MiB, expected_size=1000) as whole:
        assert whole.size == 1000


def test_a_stream_that_breaks_off_is_an_incomplete_upload_naming_the_bytes_received():
    with pytest.raises(IncompleteUpload) as refused:
        spool_stream(BrokenStream(b"y" * 3000), max_bytes=MiB, chunk_size=1024)
    assert "after 3000 bytes" in refused.value.message
    assert "unexpected end of file" in refused.value.message
    assert list(refused.value.fields) == ["file"]


# --- keys and download names ------------------------------------------------------------


def test_keys_are_content_addresses():
    digest = hashlib.sha256(b"x").hexdigest()
    assert key_for(digest) == f"sha256/{digest}"
    assert key_for(digest.upper()) == f"sha256/{digest}"
    for bad in ("", "abc", digest[:-1] + "g", "../" + digest[3:], digest + "0"):
        with pytest.raises(ValueError):
            key_for(bad)


def test_a_chinese_file_name_is_encoded_per_rfc_5987():
    value = content_disposition("申报书（2024）.pdf")
    assert value == (
        'attachment; filename="____2024_.pdf"; '
        "filename*=UTF-8''%E7%94%B3%E6%8A%A5%E4%B9%A6%EF%BC%882024%EF%BC%89.pdf"
    )
    assert value.isascii()


def test_a_file_name_cannot_break_the_header():
    value = content_disposition('..\\evil"\r\nSet-Cookie: x=1;.pdf')
    assert "\r" not in value and "\n" not in value
    assert value.startswith('attachment; filename="evil_Set-Cookie: x=1_.pdf";')


# --- what the store asks of the bucket ---------------------------------------------------


def s3_error(code: str) -> S3Error:
    return S3Error(None, code, f"{code} (refused by the stand-in)", "/", "req", "host")


class InMemoryS3:
    """The few calls the store makes, with a switch for a server without object lock."""

    def __init__(self, supports_object_lock: bool = True):
        self.supports_object_lock = supports_object_lock
        self.buckets: dict[str, dict] = {}
        self.objects: dict[tuple[str, str], bytes] = {}
        self.calls: list[str] = []

    def bucket_exists(self, bucket):
        return bucket in self.buckets

    def make_bucket(self, bucket, object_lock=False):
        self.calls.append(f"make_bucket(object_lock={object_lock})")
        if object_lock and not self.supports_object_lock:
            raise s3_error("NotImplemented")
        self.buckets[bucket] = {
            "lock": ObjectLockConfig(None, None, None) if object_lock else None,
            "versioning": None,
        }

    def get_object_lock_config(self, bucket):
        if self.buckets[bucket]["lock"] is None:
            raise s3_error("ObjectLockConfigurationNotFoundError")
        return self.buckets[bucket]["lock"]

    def set_object_lock_config(self, bucket, config):
        self.calls.append(f"set_object_lock_config({config.mode}, {config.duration})")
        self.buckets[bucket]["lock"] = config

    def get_bucket_versioning(self, bucket):
        return VersioningConfig(self.buckets[bucket]["versioning"])

    def set_bucket_versioning(self, bucket, config):
        self.calls.append("set_bucket_versioning")
        self.buckets[bucket]["versioning"] = config.status

    def stat_object(self, bucket, key):
        if (bucket, key) not in self.objects:
            raise s3_error("NoSuchKey")
        data = self.objects[bucket, key]
        return SimpleNamespace(
            size=len(data), etag="etag", version_id=None, content_type=None,
            last_modified=None, metadata={},
        )

    def put_object(self, bucket, key, data, length, **kwargs):
        self.calls.append(f"put_object({key}, {length}, {sorted(kwargs.items())})")
        self.objects[bucket, key] = data.read(length)


def store_on(client: InMemoryS3, **kwargs) -> EvidenceStore:
    return EvidenceStore("s3.invalid:9000", "key", "secret", "evidence", client=client, **kwargs)


def test_a_new_bucket_gets_object_lock_versioning_and_a_governance_retention():
    client = InMemoryS3()
    status = store_on(client, retention_days=30).ensure_bucket()

    assert client.calls == [
        "make_bucket(object_lock=True)",
        "set_bucket_versioning",
        "set_object_lock_config(GOVERNANCE, 30)",
    ]
    assert (status.object_lock, status.versioning, status.retention_mode, status.retention_days) == (
        True, "Enabled", "GOVERNANCE", 30,
    )


def test_a_server_that_refuses_object_lock_gets_a_plain_versioned_bucket():
    client = InMemoryS3(supports_object_lock=False)
    store = store_on(client)

    status = store.ensure_bucket()

    assert client.calls == [
        "make_bucket(object_lock=True)",
        "make_bucket(object_lock=False)",
        "set_bucket_versioning",
    ]
    assert store.object_lock is False and status.object_lock is False
    assert "NotImplemented" in store.object_lock_refused
    assert status.versioning == "Enabled" and status.retention_mode is None


def test_ensure_bucket_twice_changes_nothing_the_second_time():
    client = InMemoryS3()
    store = store_on(client)
    store.ensure_bucket()
    client.calls.clear()

    store.ensure_bucket()

    assert client.calls == []


def test_known_bytes_are_not_uploaded_again():
    client = InMemoryS3()
    store = store_on(client)
    store.ensure_bucket()
    client.calls.clear()
    data = b"x" * 100

    first = store.put_stream(io.BytesIO(data), content_type="text/plain", max_bytes=1000)
    second = store.put_stream(io.BytesIO(data), content_type="text/plain", max_bytes=1000)

    assert (first.created, second.created) == (True, False)
    digest = hashlib.sha256(data).hexdigest()
    assert client.calls == [
        f"put_object(sha256/{digest}, 100, [('content_type', 'text/plain'), "
        f"('metadata', {{'x-amz-meta-sha256': '{digest}'}}), "
        f"('num_parallel_uploads', 1), ('part_size', {16 * MiB})])"
    ]


# --- a store that is down -------------------------------------------------------------------


def test_connection_refused_is_store_unavailable_with_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = EvidenceStore(f"127.0.0.1:{port}", "key", "secret", "evidence", False)

    with pytest.raises(StoreUnavailable) as down:
        store.exists(hashlib.sha256(b"x").hexdigest())

    assert f"http://127.0.0.1:{port}" in down.value.message
    assert "unreachable" in down.value.message
    assert refusal_of(down.value).status == 503
