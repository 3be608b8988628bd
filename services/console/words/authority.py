"""Words of the authority pages."""

WORDS: dict[str, dict[str, str]] = {}
