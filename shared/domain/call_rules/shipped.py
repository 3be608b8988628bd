"""The calls the platform ships: the two real notices, as definitions in shared/domain/calls/*.json."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from shared.domain.call_rules.schema import load_call
from shared.domain.errors import ValidationFailed


def load_shipped() -> list[dict[str, Any]]:
    """The calls shipped in shared/domain/calls/*.json, validated and loaded, in file-name order."""
    folder = resources.files("shared.domain").joinpath("calls")
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
    calls = []
    for entry in entries:
        raw = json.loads(entry.read_text(encoding="utf-8"))
        try:
            calls.append(load_call(raw))
        except ValidationFailed as exc:
            raise ValidationFailed(exc.fields, f"shipped call {entry.name} is invalid") from exc
    return calls

