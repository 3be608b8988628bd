"""Every word the console's templates and pages name literally exists in both languages, and every
words module is one the console loads (a page area added without its words showed its keys)."""

from __future__ import annotations

import re
from pathlib import Path

from services.console import i18n

CONSOLE = Path(__file__).resolve().parents[2] / "services" / "console"
# t('key') in a template, t("key") / word("key") / notify("key") / done("key", ...) in a page.
LITERAL = re.compile(r"""\b(?:t|word|notify|done|message)\(\s*['"]([a-z_]+\.[a-z0-9_.]+)['"]""")


def _named() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in [*CONSOLE.glob("templates/**/*.html"), *CONSOLE.glob("pages/*.py")]:
        for key in LITERAL.findall(path.read_text(encoding="utf-8")):
            if key.endswith("."):
                continue  # the start of a composed name ('role.' ~ role): its words are checked where listed
            found.setdefault(key, set()).add(str(path.relative_to(CONSOLE)))
    return found


def test_every_words_module_is_loaded():
    modules = {p.stem for p in (CONSOLE / "words").glob("*.py") if p.stem != "__init__"}
    assert modules == set(i18n.AREAS)


def test_every_word_named_literally_exists_in_both_languages():
    named = _named()
    assert len(named) > 100  # the pattern finds the console's words, not nothing
    missing = {key: sorted(where) for key, where in named.items() if key not in i18n.MESSAGES}
    assert missing == {}
    assert all(set(i18n.MESSAGES[key]) == {"zh", "en"} for key in named)
