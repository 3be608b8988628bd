"""The rule every erasure of personal data follows (个人信息保护法 第四十七条), on whichever stream holds
the data: a case (its application's people, its task book's signatories) or a panel (its experts).

An erasure names data subjects the stream's documents hold, by their paths ("cover.contact_1",
"experts.2"), and destroys the keys their values are sealed under. It is refused when it names
nobody, names someone the stream never held, or would destroy no key that is not already destroyed.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.domain.errors import DomainRuleViolation


def keys_to_erase(*, subjects: Iterable[str], held: Iterable[str], keys: Iterable[str],
                  erased: Iterable[str], what: str = "the case") -> list[str]:
    """The keys of `keys` (the live keys of `subjects`) not yet recorded as erased; refused if
    `subjects` names a subject `held` does not hold, or if every one of them is already erased."""
    subjects, held = sorted(set(subjects)), set(held)
    unknown = [s for s in subjects if s not in held]
    if unknown:
        known = ", ".join(sorted(held)) or "none"
        raise DomainRuleViolation(
            "subjects", f"{what} holds no personal data of {', '.join(unknown)} (it holds: {known})")
    fresh = sorted(set(keys) - set(erased))
    if subjects and not fresh:
        raise DomainRuleViolation("subjects", f"the data of {', '.join(subjects)} is already erased")
    return fresh
