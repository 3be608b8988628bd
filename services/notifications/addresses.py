"""Where a notice to a recipient goes: the e-mail addresses and webhook endpoints of an organisation.

Three sources, all used (a notice reaches every address found, each once):
- the application's contacts (a unit's notices): `application_contacts`, the ONE place that reads
  them from the Submitted payload (contacts.py), sealed, opened by the sender only;
- what an organisation registered on this service (`org_channels`: its e-mail, its webhook);
- the provider's profile address of each person of the organisation in that role (or of the
  expert), as their tokens carried it (people.py), unless the person turned it off.
A recipient with none of them gets nothing sent; the notice is still listed for them (`undelivered`).
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from shared.domain.notifications import Recipient
from shared.infra.notify import webhook

from . import readmodels as rm
from .people import profile_addresses


def addresses_for(session, recipient: Recipient, case_id: str | None) -> list[tuple[str, str]]:
    """[(channel, address)] for `recipient`, each once: e-mail addresses, and "webhook" with the
    endpoint's key (the URL and secret are looked up at delivery, never copied into the outbox)."""
    found: list[tuple[str, str]] = []
    if recipient.role == "applicant" and case_id is not None:
        row = session.execute(sa.select(rm.case_contacts.c.emails).where(
            rm.case_contacts.c.case_id == case_id)).first()
        found += [("email", address) for address in (json.loads(row.emails) if row else [])]
    channel = session.execute(sa.select(rm.org_channels).where(rm.org_channels.c.recipient == recipient.key)).first()
    if channel is not None and channel.email:
        found.append(("email", channel.email))
    if channel is not None and channel.webhook_url:
        found.append(("webhook", recipient.key))
    found += [("email", address) for address in profile_addresses(session, recipient)]
    return list(dict.fromkeys(found))


def endpoint_of(store, key: str) -> webhook.Endpoint | None:
    """The registered webhook of `key` (role:org), with its secret, for the sender."""
    with store.session() as session:
        row = session.execute(sa.select(rm.org_channels).where(rm.org_channels.c.recipient == key)).first()
    if row is None or not row.webhook_url or not row.webhook_secret:
        return None
    return webhook.Endpoint(url=row.webhook_url, secrets=(row.webhook_secret,))
