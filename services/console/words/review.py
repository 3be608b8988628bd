"""Words of the review pages."""

WORDS: dict[str, dict[str, str]] = {}
