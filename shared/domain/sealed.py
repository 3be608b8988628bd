"""A personal value as the ledger holds it: sealed under a key of its own data subject (issue #21).

Every personal field of an application (shared.domain.personal says which) is stored as

    sealed:v1:<key id>:<base64url(nonce || AES-GCM ciphertext)>

a string where the value was, so documents keep their shape and every reader that does not
open it sees an opaque text. The key belongs to one data subject of one case (a contact, the
legal representative) and lives in a key store apart from the ledger; destroying it erases
the person's data from every event, snapshot, read model, message and backup that holds the
sealed text, while the hash chain, which covers the stored text, still verifies.

This module only reads and writes the format and walks documents; the cipher and the keys
are infrastructure's (shared.infra.personal).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PREFIX = "sealed:v1:"
ERASED = "〔已删除 erased〕"
"""Shown where a value was whose data subject's key is destroyed."""
SEALED = "〔个人信息 sealed〕"
"""Shown where a value is that this reader does not open (a bundle's history, another case's value)."""

_KEY_ID = re.compile(r"[0-9a-f]{32}")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]+={0,2}")


@dataclass(frozen=True)
class Sealed:
    key_id: str
    token: str


def seal_text(key_id: str, token: str) -> str:
    return f"{PREFIX}{key_id}:{token}"


def parse(value: Any) -> Sealed | None:
    """The sealed value `value` is, or None for anything else."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    key_id, _, token = value[len(PREFIX):].partition(":")
    if not _KEY_ID.fullmatch(key_id) or not _TOKEN.fullmatch(token):
        return None
    return Sealed(key_id, token)


def looks_sealed(value: str) -> bool:
    """Text that starts like a sealed value: refused as input, so nobody can plant another case's
    sealed value in a field where a view would open it."""
    return value.lstrip().lower().startswith("sealed:v")


def map_sealed(document: Any, replace: Callable[[Sealed], Any]) -> Any:
    """`document` with every sealed value replaced by `replace(sealed)`; the rest unchanged."""
    if isinstance(document, str):
        found = parse(document)
        return replace(found) if found is not None else document
    if isinstance(document, dict):
        return {k: map_sealed(v, replace) for k, v in document.items()}
    if isinstance(document, list):
        return [map_sealed(v, replace) for v in document]
    return document


def sealed_keys(document: Any) -> set[str]:
    """The key ids of every sealed value in `document`."""
    found: set[str] = set()

    def collect(sealed: Sealed) -> str:
        found.add(sealed.key_id)
        return ""

    map_sealed(document, collect)
    return found


def set_at(document: dict[str, Any], path: str, value: Any) -> None:
    """Puts `value` at the dotted `path` ("cover.contact_1.mobile", "members.0.name") of `document`."""
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def get_at(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def sealed_values(document: Any, prefix: str = "") -> list[tuple[str, Sealed]]:
    """Every sealed value in `document` with its dotted path."""
    if isinstance(document, str):
        found = parse(document)
        return [(prefix, found)] if found is not None else []
    if isinstance(document, dict):
        items = [(str(k), v) for k, v in document.items()]
    elif isinstance(document, list):
        items = [(str(i), v) for i, v in enumerate(document)]
    else:
        return []
    return [pair for k, v in items for pair in sealed_values(v, f"{prefix}.{k}" if prefix else k)]
