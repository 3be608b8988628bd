"""Verification's own table: every case with the level it waits for (the authorities' inboxes)."""

import sqlalchemy as sa

from shared.case import awaiting_level
from shared.projection import case_state_after, case_summary_table, project_case_summary

metadata = sa.MetaData()

inbox = case_summary_table(
    "inbox", metadata,
    sa.Column("chain", sa.String(40), nullable=False),
    sa.Column("awaiting_level", sa.String(16), nullable=True, index=True),
)


def _levels(event: dict, row) -> dict:
    chain = event["payload"]["chain"] if row is None else row.chain.split(",")
    state = case_state_after(event, row.state if row else None)
    return {"chain": ",".join(chain), "awaiting_level": awaiting_level(state, chain)}


def project(session, event: dict) -> None:
    project_case_summary(inbox, session, event, _levels)
