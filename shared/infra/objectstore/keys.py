"""Where things are in the bucket: an evidence file under its SHA-256, a checkpoint under its number."""

from __future__ import annotations

import re

KEY_PREFIX = "sha256/"
CHECKPOINT_PREFIX = "checkpoints/"

_HEX64 = re.compile(r"[0-9a-f]{64}")


def key_for(sha256: str) -> str:
    """The object key of a SHA-256 hex digest (validated: 64 hex digits)."""
    digest = sha256.strip().lower() if isinstance(sha256, str) else ""
    if not _HEX64.fullmatch(digest):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return KEY_PREFIX + digest


def sha256_of_key(key: str) -> str:
    return key[len(KEY_PREFIX):]


def checkpoint_key(seq: int) -> str:
    return f"{CHECKPOINT_PREFIX}{int(seq):012d}.json"
