"""The applicant's case page without JSON: an application's values as one form field per
value, and back.

A value's field is named by its path as the services name a refused field
(`members[0].name`, `targets[1]`), so a refusal lands next to the field it is about. The
amended application is the case's current one with the sent values put in place, each
kept as the type it had (a number stays a number, yes/no a boolean): a value the person
could not turn into that type is sent as typed, and the service's refusal names it."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "app:"
DIGEST = re.compile(r"^[0-9a-f]{64}$")
STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
LONG_TEXT = 40  # characters: a longer value gets a text area


@dataclass(frozen=True)
class Value:
    path: str
    value: Any

    @property
    def kind(self) -> str:
        if isinstance(self.value, bool):
            return "yesno"
        if isinstance(self.value, (int, float)):
            return "number"
        return "long" if len(str(self.value)) > LONG_TEXT else "text"


def values(application: Mapping[str, Any], prefix: str = "") -> Iterator[Value]:
    """Every value a person may amend, in the form's order. The document references (SHA-256
    digests) stay as filed: a file is changed by uploading its correction, not by typing."""
    for key, value in application.items():
        yield from _values_at(value, f"{prefix}.{key}" if prefix else str(key))


def _values_at(value: Any, path: str) -> Iterator[Value]:
    if isinstance(value, Mapping):
        yield from values(value, path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _values_at(item, f"{path}[{i}]")
    elif value is not None and not (isinstance(value, str) and DIGEST.match(value)):
        yield Value(path, value)


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in STEP.findall(path)]


def _typed(sent: str, before: Any) -> Any:
    if isinstance(before, bool):
        return sent == "true"
    if isinstance(before, (int, float)):
        try:
            return type(before)(sent.strip())
        except ValueError:
            return sent
    return sent


def amended(application: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """`application` with the form's `app:<path>` values put in place; unknown paths are ignored
    (only values the application has can be amended here)."""
    result = copy.deepcopy(dict(application))
    known = {v.path: v.value for v in values(application)}
    for name, sent in form.items():
        path = name.removeprefix(PREFIX)
        if not name.startswith(PREFIX) or path not in known:
            continue
        *parents, last = _steps(path)
        holder: Any = result
        for step in parents:
            holder = holder[step]
        holder[last] = _typed(sent, known[path])
    return result
