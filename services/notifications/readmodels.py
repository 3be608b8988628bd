"""The notifications service's tables.

Projected from the events (`metadata`, rebuilt from the ledger by `caseplatform rebuild-readmodels`):
`notify_cases`, each case with its stage (whose deadlines to remind of), and `case_contacts`, the
e-mail addresses its application gives (the unit's notices go there).

Kept (`kept`, never dropped by a rebuild: they are not derived from events, and the outbox is
what makes a replay send nothing twice): `org_channels` (an organisation's registered e-mail and
webhook, with the webhook's secret), `preferences` (per recipient and kind), `digest_items`
(notices waiting for the day's digest), `people` (the e-mail address each person's token carried,
from the identity provider's profile), and the outbox itself (shared/infra/notify/outbox.py).
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from shared.infra.notify import outbox
from shared.infra.readmodels.projection import case_summary_table, project_case_summary

from .contacts import application_contacts

metadata = sa.MetaData()

notify_cases = case_summary_table("notify_cases", metadata)

case_contacts = sa.Table(
    "case_contacts", metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    # JSON [address]: text like the other services' JSON columns, so rows compare as values
    sa.Column("emails", sa.Text, nullable=False),  # personal: never listed, only mailed to
)

kept = outbox.metadata  # the outbox's own tables, and these beside them

org_channels = sa.Table(
    "org_channels", kept,
    sa.Column("recipient", sa.String(200), primary_key=True),  # role:org
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("webhook_url", sa.String(500), nullable=True),
    sa.Column("webhook_secret", sa.String(200), nullable=True),  # signs; never answered in full
    sa.Column("updated_at", sa.String(40), nullable=False),
)

preferences = sa.Table(
    "notification_preferences", kept,
    sa.Column("recipient", sa.String(200), primary_key=True),
    sa.Column("choices", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

digest_items = sa.Table(
    "digest_items", kept,
    sa.Column("dedupe_key", sa.String(300), primary_key=True),
    sa.Column("recipient", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(36), nullable=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("text_zh", sa.Text, nullable=False),
    sa.Column("text_en", sa.Text, nullable=False),
    sa.Column("day", sa.String(10), nullable=False, index=True),  # Asia/Shanghai, when it was recorded
    sa.Column("digested", sa.Boolean, nullable=False, default=False),
)


# Each person who called this service with an e-mail address in their token (the provider's
# profile): their notices, and their organisation's, go there too. A person who turns it off
# (`use_profile_email` false) has the address deleted and not learnt again until they turn it on.
people = sa.Table(
    "people", kept,
    sa.Column("sub", sa.String(200), primary_key=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("org", sa.String(64), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),  # personal: mailed to, never listed
    sa.Column("use_profile_email", sa.Boolean, nullable=False, default=True),
    sa.Column("seen_at", sa.String(40), nullable=False),
    sa.Index("ix_people_role_org", "role", "org"),
)


def create_kept(engine) -> None:
    kept.create_all(engine)


def project(session, event: dict) -> bool:
    """Moves the case's row (case events only); True if the event was new to it."""
    if event.get("stream", "case") != "case":
        return True  # a panel's event: nothing to keep of it here
    if not project_case_summary(notify_cases, session, event):
        return False
    if event["type"] in ("Submitted", "Resubmitted"):
        emails = application_contacts(event["payload"].get("application") or {})
        session.execute(case_contacts.delete().where(case_contacts.c.case_id == event["case_id"]))
        session.execute(case_contacts.insert().values(case_id=event["case_id"], emails=json.dumps(emails)))
    return True
