"""Words of the audit pages."""

WORDS: dict[str, dict[str, str]] = {}
