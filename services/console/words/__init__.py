"""The console's words, one module per area so each area's pages keep theirs together:
`WORDS = {key: {"zh": ..., "en": ...}}`. i18n.MESSAGES is their union; a key defined twice
is an error at import (tests/unit/test_console.py)."""
