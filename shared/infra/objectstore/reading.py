"""A stored file read back: as a stream from the store, or downloaded under a name of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import quote

from shared.infra.objectstore.errors import translated
from shared.infra.objectstore.spooling import CHUNK_SIZE


class ObjectReader:
    """A stored file's body as a stream. Close it (or use `with`) to free the connection."""

    def __init__(self, response, sha256: str, where: str):
        self._response = response
        self._where = where  # the store's address, for what a failed read says
        self.sha256 = sha256
        length = response.headers.get("Content-Length")
        self.size = int(length) if length is not None else None
        self.content_type = response.headers.get("Content-Type")

    def read(self, amt: int | None = None) -> bytes:
        with translated(self._where, f"reading evidence {self.sha256}"):
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
