"""Reading an upload to its end without holding it in memory: chunked, bounded, hashed, spooled.

This is the reading half of `EvidenceStore.put_stream`, and needs no server.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from typing import IO, BinaryIO

from shared.infra.objectstore.errors import EmptyFile, IncompleteUpload, TooLarge

CHUNK_SIZE = 1024 * 1024  # read from the caller's stream 1 MiB at a time
SPOOL_MAX_SIZE = 8 * 1024 * 1024  # beyond this the temporary file moves to disk
HEAD_SIZE = 8 * 1024  # bytes handed back for type sniffing


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
    # Not a `with`: on success the file is handed to the caller inside `Spooled`, which closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=spool_max_size, prefix="evidence-")  # noqa: SIM115
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
