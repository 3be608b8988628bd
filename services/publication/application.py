"""Public notice, objections, publication and the public lists. No nameko, no HTTP."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import sqlalchemy as sa

from shared.auth import ROLES, Caller
from shared.calendar import notice_period
from shared.case import Case, State
from shared.commands import change_case
from shared.errors import NotFound
from shared.ledger import CaseLedger
from shared.readmodel import ReadModelStore

from . import readmodels as rm

NOTICE_WORKING_DAYS = 10  # 公示 period of the signature-product notice


def list_id_for(case: Case) -> str:
    """One list per call: its published entries share this stable identifier."""
    return f"{case.call_id}:published"


class Publication:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, today: date):
        self.ledger = ledger
        self.store = store
        self.today = today

    def open_notice(self, caller: Caller, case_id: str) -> Case:
        starts_on, ends_on = notice_period(self.today, NOTICE_WORKING_DAYS)
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.open_public_notice(
            actor=caller.as_actor(), notice_id=f"{case.call_id}:notice", starts_on=starts_on, ends_on=ends_on))

    def raise_objection(self, caller: Caller, case_id: str, reasons: str) -> tuple[Case, str]:
        # Anyone identified may object during the notice, whatever their role:
        # the case need not be within their reach, only under public notice.
        caller.require(*ROLES)
        case = self.ledger.get_case(case_id)
        if case.state != State.NOTICE_OPEN:
            # Only what is under notice is public; anything else is not for the objector to see.
            raise NotFound(f"no case {case_id} under public notice")
        objection_id = uuid4().hex[:12]
        case.raise_objection(actor=caller.as_actor(), objection_id=objection_id, reasons=reasons, today=self.today)
        self.ledger.save_case(case)
        return case, objection_id

    def resolve_objection(self, caller: Caller, case_id: str, objection_id: str, upheld: bool, resolution: str) -> Case:
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.resolve_objection(
            actor=caller.as_actor(), objection_id=objection_id, upheld=upheld, resolution=resolution))

    def publish(self, caller: Caller, case_id: str) -> Case:
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.publish(
            actor=caller.as_actor(), list_id=list_id_for(case), today=self.today))

    def published(self, call_id: str | None = None) -> list[dict]:
        query = sa.select(rm.public_cases).where(rm.public_cases.c.state == State.PUBLISHED)
        if call_id:
            query = query.where(rm.public_cases.c.call_id == call_id)
        with self.store.session() as session:
            return [dict(r._mapping) for r in session.execute(query.order_by(rm.public_cases.c.published_at))]

    def under_notice(self) -> list[dict]:
        query = sa.select(rm.public_cases).where(rm.public_cases.c.state == State.NOTICE_OPEN)
        with self.store.session() as session:
            return [dict(r._mapping) for r in session.execute(query.order_by(rm.public_cases.c.notice_ends_on))]
