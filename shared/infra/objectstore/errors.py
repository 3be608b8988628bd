"""What the evidence store refuses (an upload too large, empty or cut short) and how it fails
(unreachable, or refusing a request); `translated` turns the S3 client's errors into these."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import urllib3
from minio.error import InvalidResponseError, S3Error, ServerError

from shared.domain.errors import NotFound, PlatformError


class TooLarge(PlatformError):
    """The upload is larger than the limit; reading stopped one byte past it."""

    def __init__(self, limit: int):
        rule = f"the file is larger than the limit of {limit} bytes ({_human(limit)})"
        super().__init__(rule, {"file": [rule]})
        self.limit = limit


class EmptyFile(PlatformError):
    def __init__(self):
        rule = "the file is empty"
        super().__init__(rule, {"file": [rule]})


class IncompleteUpload(PlatformError):
    """The body ended before the length it declared, or its chunked framing broke off.

    Without this check a client that disconnects half-way would leave a truncated
    file stored and attached as if it were the whole document."""

    def __init__(self, rule: str):
        super().__init__(rule, {"file": [rule]})


class EvidenceNotFound(NotFound):
    def __init__(self, sha256: str):
        super().__init__(f"no stored evidence file has SHA-256 {sha256}", {"sha256": ["not stored"]})
        self.sha256 = sha256


class StoreUnavailable(PlatformError):
    """The object store cannot be reached, or answers with a server error."""


class StoreError(PlatformError):
    """The object store refused a request (credentials, permissions, configuration)."""

    def __init__(self, message: str, s3_code: str | None = None):
        super().__init__(message)
        self.s3_code = s3_code


@contextmanager
def translated(where: str, doing: str) -> Iterator[None]:
    """The S3 client's errors while `doing` something with the store at `where`, as the store's own."""
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


def _human(size: int) -> str:
    n = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.4g} {unit}"
        n /= 1024
    return str(n)
