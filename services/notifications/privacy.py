"""The privacy officer's part of notifications (issue #21): what this service holds under a person's
e-mail address, and its erasure. No nameko, no HTTP.

Contacts' addresses are sealed under the case's keys (contacts.py) and erased with the case's
people; what is kept in the clear here is what a person or an organisation gave this service
itself: the address the provider's profile carried (`people`), an organisation's registered
address (`org_channels`), and the address each e-mail notice went to (the outbox). A person's copy
lists them (the notices by kind, status and date: never their text), and an erasure removes the
address from each: the profile's is turned off (so it is not learnt again from the next token),
the channel's is cleared, each notice keeps its record with the address erased, and one still
waiting is parked instead of sent.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from shared.domain.sealed import ERASED
from shared.infra.notify import outbox
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm

ERASED_ON_REQUEST = "the address was erased on a data subject's request"


def record_of(email: str) -> str:
    """How the access and erasure records name an address without holding it."""
    return "address:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def _same(column, email: str):
    return sa.func.lower(column) == email.strip().lower()


def copy_for(store: ReadModelStore, keys, caller, email: str, route: str) -> dict:
    """A person's copy of what is held under `email`, the search recorded as a reading when it found anything
    (`keys`: the key store, where every reading of personal data is recorded)."""
    held = held_under(store, email)
    record = record_of(email)
    if any(held.values()):
        keys.record_reading(caller, record=record, route=route, subjects=["email"])
    return {**held, "record": record}


def erase_for(store: ReadModelStore, keys, caller, email: str, now: datetime, request: str, reason: str) -> dict:
    """Erases `email` from everything the service keeps it in, and records the erasure in the key store."""
    erased = erase_address(store, email, now)
    return {**keys.record_erasure(caller, record=record_of(email), subjects=["email"], request=request,
                                  reason=reason), "erased": erased}


def held_under(store: ReadModelStore, email: str) -> dict:
    """What the service holds under `email`: the accounts whose profile carried it, the organisations
    that registered it, and the notices sent (or waiting) to it."""
    with store.session() as session:
        return _held(session, email)


def erase_address(store: ReadModelStore, email: str, now: datetime) -> dict:
    """Removes `email` from everything the service keeps it in, in one transaction; how many of each."""
    with store.session() as session:
        return _erase(session, email, now)


def _held(session, email: str) -> dict:
    t, c, o = rm.people, rm.org_channels, outbox.notifications
    people = session.execute(sa.select(t.c.sub, t.c.role, t.c.org, t.c.use_profile_email, t.c.seen_at)
                             .where(_same(t.c.email, email)).order_by(t.c.sub)).all()
    channels = session.execute(sa.select(c.c.recipient, c.c.updated_at).where(_same(c.c.email, email))
                               .order_by(c.c.recipient)).all()
    notices = session.execute(sa.select(o.c.id, o.c.recipient, o.c.kind, o.c.status, o.c.created_at)
                              .where(o.c.channel == "email", _same(o.c.address, email))
                              .order_by(o.c.created_at, o.c.id)).all()
    return {"profiles": [dict(r._mapping) for r in people], "channels": [dict(r._mapping) for r in channels],
            "notices": [{**dict(r._mapping), "created_at": r.created_at.isoformat()} for r in notices]}


def _erase(session, email: str, now: datetime) -> dict:
    t, c, o = rm.people, rm.org_channels, outbox.notifications
    held = _held(session, email)
    session.execute(t.update().where(_same(t.c.email, email)).values(email=None, use_profile_email=False))
    session.execute(c.update().where(_same(c.c.email, email)).values(email=None, updated_at=now.isoformat()))
    waiting = o.c.status == outbox.PENDING
    session.execute(o.update().where(o.c.channel == "email", _same(o.c.address, email), waiting).values(
        status=outbox.PARKED, parked_at=now, last_error=ERASED_ON_REQUEST, claimed_until=None, claim_token=None))
    session.execute(o.update().where(o.c.channel == "email", _same(o.c.address, email)).values(address=ERASED))
    return {"profiles": len(held["profiles"]), "channels": len(held["channels"]), "notices": len(held["notices"])}
