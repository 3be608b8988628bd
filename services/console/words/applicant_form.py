"""Words of the applicant_form pages."""

WORDS: dict[str, dict[str, str]] = {}
