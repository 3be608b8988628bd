"""Which fields of an application name documents: the one convention every service reads.

An application names a document by SHA-256 in a field called `seal`, `evidence` or
`*_evidence` (a list), at any depth. Intake checks them against the unit's dossier,
documents attaches them to the case, and an audit bundle lists them as evidence, so
the convention lives here, free of every framework (the offline bundle verifier
imports it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def document_references(application: Mapping[str, Any], path: str = "") -> list[tuple[str, str]]:
    """Every (field path, SHA-256) the application names as a document, e.g. ("product.ip_evidence[0]", "ab…")."""
    found: list[tuple[str, str]] = []
    for key, value in application.items():
        here = f"{path}.{key}" if path else key
        if isinstance(value, Mapping):
            found.extend(document_references(value, here))
        elif key == "seal" and isinstance(value, str):
            found.append((here, value))
        elif key == "evidence" or key.endswith("_evidence"):
            found.extend((f"{here}[{i}]", d) for i, d in enumerate(value or []) if isinstance(d, str))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    found.extend(document_references(item, f"{here}[{i}]"))
    return found
