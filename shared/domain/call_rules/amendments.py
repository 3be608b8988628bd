"""Amending a call: a call is never edited in place.

`amend(previous, changes)` returns the next version's definition and leaves the
previous one untouched, so a case filed under version N is judged by version N's
rules for its whole life.
"""

from __future__ import annotations

import copy
from typing import Any

from shared.domain.call_rules.schema import load_call, to_json
from shared.domain.errors import ValidationFailed

#: Fields an amendment may not touch: they identify the call and its lineage.
IMMUTABLE_ON_AMEND = ("call_id", "program", "version", "amended_from")


def _merge(base: Any, changes: Any) -> Any:
    """Objects merge key by key; anything else (lists, scalars, null) replaces."""
    if isinstance(base, dict) and isinstance(changes, dict):
        merged = {k: copy.deepcopy(v) for k, v in base.items()}
        for key, value in changes.items():
            merged[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(changes)


def amend(previous: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The next version of `previous` with `changes` applied, validated; `previous` is not touched.

    `changes` is a partial definition: objects merge key by key, lists and scalars
    replace. The call's identity and lineage (call_id, program, version,
    amended_from) cannot be changed; the new version is previous + 1.
    """
    forbidden = {k: ["an amendment cannot change this field"] for k in IMMUTABLE_ON_AMEND if k in changes}
    if forbidden:
        raise ValidationFailed(forbidden, "an amendment may not change the call's identity")
    base = to_json(previous)
    merged = _merge(base, changes)
    merged["version"] = base["version"] + 1
    merged["amended_from"] = base["version"]
    return load_call(merged)
