"""What every part of a form shares: the base schema, and how its conditional rules report.

A conditional rule ("required when …") runs after the fields have loaded; all of a
part's rules are judged, and their errors raised together, so the applicant sees every
failing field at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError

from shared.domain.forms.messages import MUST_BE_OBJECT, UNKNOWN_FIELD


class FormSection(Schema):
    """Base of every part of a form: bilingual schema-level messages, unknown fields refused."""

    error_messages: ClassVar[dict[str, str]] = {"type": MUST_BE_OBJECT, "unknown": UNKNOWN_FIELD}  # type: ignore[misc]  # marshmallow merges it class by class, types it per instance


class RuleErrors:
    """Collects the errors of a schema's conditional rules, to raise them all at once.

    `add("unit_nature_other", REQUIRED)`, or a nested path as a tuple:
    `add(("ip_items", 2, "granted_on"), ...)` gives `{"ip_items": {2: {"granted_on": [...]}}}`.
    Messages of a list or section itself and of its entries go together as marshmallow
    nests them: `{"members": {"_schema": [...], 3: {...}}}`.
    """

    def __init__(self) -> None:
        self.messages: dict[str | int, Any] = {}

    def add(self, path: str | tuple[str | int, ...], message: str) -> None:
        keys = path if isinstance(path, tuple) else (path,)
        node = self.messages
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if isinstance(child, list):
                child = node[key] = {"_schema": child}
            node = child
        leaf = node.setdefault(keys[-1], [])
        if isinstance(leaf, dict):
            leaf = leaf.setdefault("_schema", [])
        leaf.append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def is_blank(data: Mapping[str, Any], key: str) -> bool:
    """The field loaded as empty (None, or an empty list).

    A field that failed its own rules is absent from `data`: it is not blank, its own
    error already names it, and a conditional rule must not report it a second time.
    """
    return key in data and data[key] in (None, [], "")

