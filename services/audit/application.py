"""What an auditor reads: a case's whole history from the ledger, and who touched what."""

from __future__ import annotations

import sqlalchemy as sa

from shared.auth import Caller
from shared.ledger import CaseLedger
from shared.readmodel import ReadModelStore

from . import readmodels as rm


class Audit:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore):
        self.ledger = ledger
        self.store = store

    def history(self, caller: Caller, case_id: str) -> dict:
        caller.require("auditor")
        events = [e.as_dict() for e in self.ledger.history(case_id)]
        return {"case_id": str(case_id), "version": len(events), "events": events}

    def touched_by(self, caller: Caller, org: str) -> list[dict]:
        caller.require("auditor")
        with self.store.session() as session:
            rows = session.execute(sa.select(rm.touches).where(rm.touches.c.actor_org == org)
                                   .order_by(rm.touches.c.timestamp))
            return [dict(r._mapping) for r in rows]
