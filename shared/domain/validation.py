"""Loading input through marshmallow schemas into the platform's error shape (no HTTP here).

Every failing field at once, each under its path: `product.ip_items[2].granted_on`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError

from shared.domain.errors import ValidationFailed


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as one level of paths: `product.ip_items[2].granted_on`."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_body": list(messages)}
    if isinstance(messages, str):
        return {prefix or "_body": [messages]}
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "_body"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for p, msgs in flatten_messages(value, path).items():
                flat.setdefault(p, []).extend(msgs)
    return flat


def load(schema: Schema, data: Any) -> Any:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(flatten_messages(exc.messages)) from None
