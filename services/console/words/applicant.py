"""Words of the applicant pages."""

WORDS: dict[str, dict[str, str]] = {}
