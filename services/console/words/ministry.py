"""Words of the ministry pages."""

WORDS: dict[str, dict[str, str]] = {}
