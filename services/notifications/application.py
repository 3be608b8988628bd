"""The notifications service's use cases: what an event calls for recorded in the outbox, the
reminders, the daily digest, and what people see and choose. No nameko, HTTP or SQL dialect here
beyond the read-model session and the outbox's functions.

Recording happens inside the transaction that marks the event processed (the service's
projection): a redelivered event finds its mark and records nothing, and the outbox's dedupe
key stops a second copy of a notice however it comes (a replay, a second process).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from shared.domain.access import Caller
from shared.domain.calendar import WorkingCalendar
from shared.domain.errors import DomainRuleViolation, NotFound, ValidationFailed
from shared.domain.notifications import (
    CaseFacts,
    Delivery,
    Kind,
    Notice,
    Preferences,
    Recipient,
    calendar_warnings,
    level_deadlines,
    milestone_deadlines,
    notices_for,
    reminders_due,
)
from shared.domain.notifications.reminders import checked_intervals
from shared.domain.sealed import SEALED, parse
from shared.infra.notify import outbox
from shared.infra.notify.retry import RetryPolicy

from . import people
from . import readmodels as rm
from .addresses import addresses_for

log = logging.getLogger(__name__)

OPERATOR = ("ministry",)


def reminder_days(text: str) -> tuple[int, ...]:
    """REMINDER_DAYS ("7,3,1") as intervals, refused naming the setting when it is not."""
    try:
        return checked_intervals(int(part) for part in text.split(",") if part.strip())
    except (ValueError, DomainRuleViolation):
        raise ValidationFailed({"REMINDER_DAYS": ["whole numbers of working days, e.g. 7,3,1"]}) from None


def recipient_keys(caller: Caller) -> list[str]:
    """Whom the caller's notices are addressed to: its organisation in its role (an expert also by
    the id a panel names, which may be the person's own)."""
    keys = [f"{caller.role}:{caller.org}"]
    if caller.role == "expert" and caller.sub != caller.org:
        keys.append(f"expert:{caller.sub}")
    return keys


def own_key(caller: Caller) -> str:
    """The recipient whose channels and preferences the caller sets: its organisation in its role;
    an expert, a person on a panel, by its own id (a panel names its experts by person)."""
    return f"expert:{caller.sub}" if caller.role == "expert" else f"{caller.role}:{caller.org}"


def _hashed(address: str) -> str:
    # A contact's sealed address is the same person's whatever its ciphertext: keyed by its key.
    sealed = parse(address)
    return hashlib.sha256((sealed.key_id if sealed else address).encode()).hexdigest()[:16]


def masked(channel: str, address: str) -> str:
    """An address as a listing shows it: enough to recognise, not to harvest (a contact's sealed
    address is not opened for a listing)."""
    if parse(address) is not None:
        return SEALED
    if channel != "email" or "@" not in address:
        return address
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class Notifications:
    def __init__(self, ledger, store, now: datetime, today: date, intervals: tuple[int, ...] = (7, 3, 1)):
        self.ledger = ledger
        self.store = store
        self.now = now
        self.today = today
        self.intervals = intervals

    # -- from events -------------------------------------------------------------------------

    def record_event(self, session, event: dict) -> int:
        """Records the notices `event` calls for, in `session` (the event's processed mark's)."""
        facts = self._case_facts(event)
        if facts is None:
            return 0
        return sum(self._record(session, notice) for notice in notices_for(event, facts))

    def _case_facts(self, event: dict) -> CaseFacts | None:
        if event.get("stream", "case") == "case":
            # The case as it stood just after this event: a replay tells the same.
            case = self.ledger.repository.get(UUID(event["case_id"]), version=event["version"])
        elif event["type"] == "ExpertAssigned":
            case = self.ledger.get_case(event["payload"]["case_id"])
        else:
            return None
        return CaseFacts.of(case, self._call_title(case.call_id))

    def _call_title(self, call_id: str) -> str:
        try:
            return str(self.ledger.get_call(call_id).current.get("title") or "")
        except NotFound:
            return ""

    def _record(self, session, notice: Notice) -> int:
        """Records one notice as its recipient chose: now (the outbox), in the day's digest, or not."""
        delivery = self._preferences(session, notice.recipient.key).delivery_of(notice.kind)
        if delivery == Delivery.OFF:
            return 0
        message = notice.message
        if delivery == Delivery.DAILY_DIGEST:
            return self._insert_digest_item(session, notice)
        payload = {"subject": message.subject, "text_zh": message.subject_zh + "\n\n" + message.body_zh,
                   "text_en": message.subject_en + "\n\n" + message.body_en, "case_id": notice.case_id,
                   "calendar": dict(notice.calendar)}
        return self._to_outbox(session, notice.dedupe_key, notice.recipient, notice.kind, notice.case_id, payload)

    def _to_outbox(self, session, key: str, recipient, kind: str, case_id: str | None, payload: dict) -> int:
        targets = addresses_for(session, recipient, case_id)
        if not targets:
            # The role only: an expert's id is a person's (shared.domain.personal.EXPERT).
            log.warning("notice %s to a %s on case %s: no address registered; nothing sent", kind, recipient.role,
                        case_id)
        recorded = 0
        for channel, address in targets:
            _, new = outbox.record(session.connection(), dedupe_key=f"{key}|{channel}:{_hashed(address)}",
                                   channel=channel, recipient=recipient.key, address=address, kind=kind,
                                   payload=payload, now=self.now)
            recorded += new
        return recorded

    def _insert_digest_item(self, session, notice: Notice) -> int:
        t = rm.digest_items
        if session.execute(sa.select(t.c.dedupe_key).where(t.c.dedupe_key == notice.dedupe_key)).first():
            return 0
        m = notice.message
        session.execute(t.insert().values(
            dedupe_key=notice.dedupe_key, recipient=notice.recipient.key, kind=notice.kind, case_id=notice.case_id,
            subject=m.subject, text_zh=f"{m.subject_zh}\n{m.body_zh}", text_en=f"{m.subject_en}\n{m.body_en}",
            day=self.today.isoformat(), digested=False))
        return 1

    # -- timers ------------------------------------------------------------------------------

    def deliver(self, send: Callable, policy: RetryPolicy) -> outbox.Pass:
        return outbox.deliver_due(self.store.engine, send, now=self.now, policy=policy)

    def remind(self) -> int:
        """Today's reminders before each deadline, and a warning to the ministry for each year
        no calendar knows; each recorded once (their dedupe keys)."""
        calendar = WorkingCalendar(self.ledger.recorded_arrangement)
        with self.store.session() as session:
            case_ids = list(session.execute(sa.select(rm.notify_cases.c.case_id)).scalars())
        by_call: dict[str, list[Any]] = {}
        for case_id in case_ids:
            case = self.ledger.get_case(case_id)
            by_call.setdefault(case.call_id, []).append(case)
        notices, problems = [], []
        for call_id, cases in sorted(by_call.items()):
            try:
                call = dict(self.ledger.get_call(call_id).current)
            except NotFound:
                continue
            facts = [CaseFacts.of(case, call.get("title", "")) for case in cases]
            deadlines = level_deadlines(call, facts) + [d for f in facts for d in milestone_deadlines(f)]
            intervals = tuple(call["reminder_days"]) if call.get("reminder_days") else self.intervals
            due = reminders_due(self.today, deadlines, intervals, calendar)
            notices += due.notices
            problems += due.problems
        notices += calendar_warnings(problems)
        with self.store.session() as session:
            return sum(self._record(session, notice) for notice in notices)

    def send_digests(self) -> int:
        """One digest per recipient of the notices of the days before today, then marked digested."""
        t = rm.digest_items
        sent = 0
        with self.store.session() as session:
            rows = session.execute(sa.select(t).where(t.c.digested.is_(False), t.c.day < self.today.isoformat())
                                   .order_by(t.c.recipient, t.c.day, t.c.dedupe_key)).all()
            by_recipient: dict[str, list[Any]] = {}
            for row in rows:
                by_recipient.setdefault(row.recipient, []).append(row)
            for key, items in by_recipient.items():
                role, _, org = key.partition(":")
                payload = {
                    "subject": f"每日汇总（{len(items)}条） / Daily digest ({len(items)})",
                    "text_zh": "\n\n——\n\n".join(i.text_zh for i in items),
                    "text_en": "\n\n----\n\n".join(i.text_en for i in items),
                    "case_id": None, "kinds": [i.kind for i in items],
                }
                case_id = next((i.case_id for i in items if i.case_id), None)
                sent += self._to_outbox(session, f"digest:{key}:{self.today.isoformat()}", Recipient(role, org),
                                        "daily_digest", case_id, payload)
                session.execute(t.update().where(t.c.dedupe_key.in_([i.dedupe_key for i in items]))
                                .values(digested=True))
        return sent

    # -- people ------------------------------------------------------------------------------

    def seen(self, caller: Caller) -> None:
        """Keeps the profile address the caller's token carries (people.py): every route of this
        service is a person's, and calls this first."""
        with self.store.session() as session:
            people.remember(session, caller, self.now.isoformat())

    def profile(self, caller: Caller) -> dict:
        with self.store.session() as session:
            return people.profile_view(session, caller)

    def set_profile(self, caller: Caller, use: bool) -> dict:
        with self.store.session() as session:
            people.set_use(session, caller, use, self.now.isoformat())
        return self.profile(caller)

    def mine(self, caller: Caller, limit: int = 100) -> list[dict]:
        rows = []
        with self.store.engine.connect() as conn:
            for key in recipient_keys(caller):
                rows += outbox.for_recipient(conn, key, limit=limit)
        return [self._view(row, operator=False) for row in sorted(rows, key=lambda r: r.created_at, reverse=True)]

    def listing(self, caller: Caller, status: str | None, limit: int = 100) -> list[dict]:
        caller.require(*OPERATOR)
        if status not in (None, "", outbox.PENDING, outbox.SENT, outbox.PARKED):
            raise ValidationFailed({"status": [f"one of {outbox.PENDING}, {outbox.SENT}, {outbox.PARKED}"]})
        with self.store.engine.connect() as conn:
            rows = outbox.listing(conn, status=status or None, limit=limit)
        return [self._view(row, operator=True) for row in rows]

    def requeue(self, caller: Caller, ids: Iterable[str]) -> dict:
        caller.require(*OPERATOR)
        with self.store.engine.begin() as conn:
            return {"requeued": outbox.requeue(conn, list(ids), now=self.now)}

    @staticmethod
    def _view(row, *, operator: bool) -> dict:
        view = {"id": row.id, "kind": row.kind, "channel": row.channel, "status": row.status,
                "address": masked(row.channel, row.address), "subject": row.payload.get("subject", ""),
                "case_id": row.payload.get("case_id"), "created_at": outbox.as_utc(row.created_at),
                "sent_at": outbox.as_utc(row.sent_at), "attempts": row.attempts}
        if operator:
            view.update(recipient=row.recipient, last_error=row.last_error)
        return view

    def _preferences(self, session, key: str) -> Preferences:
        row = session.execute(sa.select(rm.preferences.c.choices).where(rm.preferences.c.recipient == key)).first()
        return Preferences(dict(row.choices)) if row else Preferences()

    def preferences(self, caller: Caller) -> dict:
        key = own_key(caller)
        with self.store.session() as session:
            chosen = self._preferences(session, key)
        return {"recipient": key, "preferences": {kind: chosen.delivery_of(kind) for kind in Kind.ALL}}

    def set_preferences(self, caller: Caller, choices: dict[str, str]) -> dict:
        """Every choice checked (a mandatory kind refuses "off", naming preferences.<kind>); nothing
        stored when one is refused."""
        key = own_key(caller)
        t = rm.preferences
        with self.store.session() as session:
            chosen = Preferences.of({**self._preferences(session, key).choices, **choices})
            values = {"choices": dict(chosen.choices), "updated_at": self.now.isoformat()}
            if session.execute(sa.select(t.c.recipient).where(t.c.recipient == key)).first():
                session.execute(t.update().where(t.c.recipient == key).values(**values))
            else:
                session.execute(t.insert().values(recipient=key, **values))
        return self.preferences(caller)

    # -- an organisation's channels --------------------------------------------------------------

    def channels(self, caller: Caller) -> dict:
        key = own_key(caller)
        with self.store.session() as session:
            row = session.execute(sa.select(rm.org_channels).where(rm.org_channels.c.recipient == key)).first()
        return channel_view(key, row)

    def set_channels(self, caller: Caller, body: dict) -> dict:
        key = own_key(caller)
        t = rm.org_channels
        with self.store.session() as session:
            row = session.execute(sa.select(t).where(t.c.recipient == key)).first()
            secret = body.get("webhook_secret") or (row.webhook_secret if row else None)
            if body.get("webhook_url") and not secret:
                raise ValidationFailed({"webhook_secret": ["a webhook needs a secret to sign with (16 to 200 chars)"]})
            values = {"email": body.get("email"), "webhook_url": body.get("webhook_url"),
                      "webhook_secret": secret if body.get("webhook_url") else None,
                      "updated_at": self.now.isoformat()}
            if row is None:
                session.execute(t.insert().values(recipient=key, **values))
            else:
                session.execute(t.update().where(t.c.recipient == key).values(**values))
        return self.channels(caller)


def channel_view(key: str, row) -> dict:
    """An organisation's channels as answered: the secret's last four characters only."""
    if row is None:
        return {"recipient": key, "email": None, "webhook_url": None, "webhook_secret_hint": None}
    hint = f"…{row.webhook_secret[-4:]}" if row.webhook_secret else None
    return {"recipient": key, "email": row.email, "webhook_url": row.webhook_url, "webhook_secret_hint": hint}
