"""Who is told what, and when: the domain of notifications (issue #20), without any delivery.

- kinds.py: the kinds of notice, which of them cannot be turned off, which are reminders;
- notice.py: `Recipient` (a role and an organisation, never an address), `Message`, `Notice`
  and its dedupe key;
- templates.py: each kind's subject and body, Chinese first, then English, filled with the facts;
- triggers.py: `CaseFacts` and `notices_for(event, case)`: the notices one ledger event calls for;
- reminders.py: `reminders_due(today, deadlines, intervals)`: reminders before deadlines, counted
  in working days on China's calendar in force, and the years no calendar knows;
- preferences.py: what a person receives per kind (immediately, a daily digest, or off).

Addresses, SMTP, webhooks and the record of what was sent are the machinery's
(shared/infra/notify, the notifications service): nothing here does I/O.
"""

from shared.domain.notifications.kinds import MANDATORY, REMINDERS, Kind
from shared.domain.notifications.notice import Message, Notice, Recipient
from shared.domain.notifications.preferences import Delivery, Preferences
from shared.domain.notifications.reminders import (
    DEFAULT_INTERVALS,
    CalendarProblem,
    Deadline,
    Reminders,
    calendar_warnings,
    level_deadlines,
    milestone_deadlines,
    reminders_due,
)
from shared.domain.notifications.triggers import MINISTRY, CaseFacts, notices_for

__all__ = [
    "DEFAULT_INTERVALS", "MANDATORY", "MINISTRY", "REMINDERS", "CalendarProblem", "CaseFacts", "Deadline",
    "Delivery", "Kind", "Message", "Notice", "Preferences", "Recipient", "Reminders", "calendar_warnings",
    "level_deadlines", "milestone_deadlines", "notices_for", "reminders_due",
]
