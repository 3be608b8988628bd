"""The address book of the provider's profiles (issue #20): where a person, and their organisation's
notices, reach them by e-mail.

Services hold no credential to read the provider's users; what they have is each person's token,
which carries the profile's address (`email`, unless the provider says it is unverified). Each
call a person makes to this service records it; a person may turn it off, which deletes the
address and stops it being learnt again until they turn it back on.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.domain.access import Caller
from shared.domain.notifications import Recipient

from . import readmodels as rm


def remember(session, caller: Caller, now: str) -> None:
    """Records the address the caller's token carries (or that it carries none any more)."""
    t = rm.people
    row = session.execute(sa.select(t).where(t.c.sub == caller.sub)).first()
    if row is None:
        session.execute(t.insert().values(sub=caller.sub, role=caller.role, org=caller.org,
                                          email=caller.email or None, use_profile_email=True, seen_at=now))
        return
    email = (caller.email or None) if row.use_profile_email else None
    if (row.role, row.org, row.email) != (caller.role, caller.org, email):
        session.execute(t.update().where(t.c.sub == caller.sub).values(
            role=caller.role, org=caller.org, email=email, seen_at=now))


def profile_view(session, caller: Caller) -> dict:
    row = session.execute(sa.select(rm.people).where(rm.people.c.sub == caller.sub)).first()
    use = row.use_profile_email if row is not None else True
    return {"sub": caller.sub, "email": row.email if row is not None else None, "use_profile_email": use}


def set_use(session, caller: Caller, use: bool, now: str) -> None:
    t = rm.people
    remember(session, caller, now)
    session.execute(t.update().where(t.c.sub == caller.sub).values(
        use_profile_email=use, email=(caller.email or None) if use else None, seen_at=now))


def profile_addresses(session, recipient: Recipient) -> list[str]:
    """The profile addresses a notice to `recipient` reaches: its organisation's people in its role,
    or, for an expert named by their own id, that person."""
    t = rm.people
    if recipient.role == "expert":
        where = sa.or_(t.c.sub == recipient.org, sa.and_(t.c.role == "expert", t.c.org == recipient.org))
    else:
        where = sa.and_(t.c.role == recipient.role, t.c.org == recipient.org)
    rows = session.execute(sa.select(t.c.email).where(where, t.c.use_profile_email.is_(True),
                                                      t.c.email.is_not(None)).order_by(t.c.sub)).all()
    return [r.email for r in rows]
