"""The console's words, in Chinese (the default) and English. Written by hand; a key missing
in English falls back to the Chinese, never to the key itself."""

from __future__ import annotations

import importlib
import importlib.util

LANGUAGES = ("zh", "en")

AREAS = ("common", "lists", "public", "applicant", "applicant_form", "authority", "ministry_calls", "ministry",
         "review", "audit", "privacy", "notices")


def _gather() -> dict[str, dict[str, str]]:
    gathered: dict[str, dict[str, str]] = {}
    for area in AREAS:
        name = f"services.console.words.{area}"
        if importlib.util.find_spec(name) is None:
            continue  # an area with no words of its own yet
        module = importlib.import_module(name)
        for key, entry in module.WORDS.items():
            if key in gathered:
                raise ValueError(f"console word {key!r} is defined twice (words/{area}.py and another area)")
            gathered[key] = entry
    return gathered


MESSAGES: dict[str, dict[str, str]] = _gather()


def translate(key: str, lang: str) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["zh"]
