"""Words of the ministry_calls pages."""

WORDS: dict[str, dict[str, str]] = {}
