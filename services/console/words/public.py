"""Words of the public pages."""

WORDS: dict[str, dict[str, str]] = {}
