"""The authorities' desk: checks, recommendation, endorsement, return, rejection. No nameko, no HTTP."""

from __future__ import annotations

import sqlalchemy as sa

from shared.access import require_case
from shared.auth import Caller
from shared.case import Case
from shared.commands import change_case
from shared.ledger import CaseLedger
from shared.readmodel import ReadModelStore

from . import readmodels as rm

AUTHORITIES = ("city", "province")


class Verification:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore):
        self.ledger = ledger
        self.store = store

    def inbox(self, caller: Caller) -> list[dict]:
        caller.require(*AUTHORITIES)
        region = rm.inbox.c.province if caller.role == "province" else rm.inbox.c.city
        query = (
            sa.select(rm.inbox)
            .where(region == caller.org, rm.inbox.c.awaiting_level == caller.role)
            .order_by(rm.inbox.c.updated_at)
        )
        with self.store.session() as session:
            return [dict(r._mapping) for r in session.execute(query)]

    def get(self, caller: Caller, case_id: str) -> Case:
        return require_case(caller, self.ledger.get_case(case_id), *AUTHORITIES)

    def record_checks(self, caller: Caller, case_id: str, checks: dict) -> Case:
        return change_case(self.ledger, caller, case_id, AUTHORITIES, lambda case: case.record_verification(
            actor=caller.as_actor(), level=caller.role, checks=checks))

    def recommend(self, caller: Caller, case_id: str, reason: str, rank: int) -> Case:
        return change_case(self.ledger, caller, case_id, ("city",), lambda case: case.recommend_by_city(
            actor=caller.as_actor(), reason=reason, rank=rank))

    def endorse(self, caller: Caller, case_id: str, reason: str, rank: int) -> Case:
        return change_case(self.ledger, caller, case_id, ("province",), lambda case: case.endorse_by_province(
            actor=caller.as_actor(), reason=reason, rank=rank))

    def return_for_correction(self, caller: Caller, case_id: str, reasons: list[str]) -> Case:
        return change_case(self.ledger, caller, case_id, AUTHORITIES, lambda case: case.return_for_correction(
            actor=caller.as_actor(), level=caller.role, reasons=reasons))

    def reject(self, caller: Caller, case_id: str, reason: str) -> Case:
        return change_case(self.ledger, caller, case_id, AUTHORITIES, lambda case: case.reject(
            actor=caller.as_actor(), level=caller.role, reason=reason))
