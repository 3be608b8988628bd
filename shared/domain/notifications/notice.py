"""A notice: who is told (a role and an organisation, never an address), of what, in which words.

The recipient is resolved to addresses later (the application's contacts, the authority's
contact, the provider's user profile): a notice stays right when an address changes.
The dedupe key is the same whenever the same event (or the same reminder) calls for the
same kind of notice to the same recipient, so the machinery records a notice once however
often the event is delivered to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.domain.notifications.kinds import MANDATORY


@dataclass(frozen=True)
class Recipient:
    role: str  # applicant, city, province, ministry, expert, evaluator
    org: str  # credit code, GB/T 2260 code of the authority, MIIT, the expert's panel id
    region: str | None = None  # an authority's region code (its inbox's)

    @property
    def key(self) -> str:
        return f"{self.role}:{self.org}"


@dataclass(frozen=True)
class Message:
    """Subject and body in Chinese, with an English part."""

    subject_zh: str
    body_zh: str
    subject_en: str
    body_en: str

    @property
    def subject(self) -> str:
        return f"{self.subject_zh} / {self.subject_en}"

    @property
    def body(self) -> str:
        """Chinese first, then the English part."""
        return f"{self.body_zh}\n\n——\n\n{self.body_en}"


@dataclass(frozen=True)
class Notice:
    kind: str
    recipient: Recipient
    case_id: str | None  # None for a reminder of a deadline that concerns several cases
    dedupe_key: str
    message: Message
    facts: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # For a reminder: which calendar counted each year it crossed (WorkingCalendar.basis_between).
    calendar: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def can_be_turned_off(self) -> bool:
        return self.kind not in MANDATORY


def event_dedupe_key(source: str, kind: str, recipient: Recipient) -> str:
    """`source` names the event once and for all: its stream id and version (its message id)."""
    return f"{source}|{kind}|{recipient.key}"
