"""The ministry's review desk: shortlist, task book, milestones, third party, selection. No nameko, no HTTP."""

from __future__ import annotations

import sqlalchemy as sa

from shared.access import require_case
from shared.auth import Caller
from shared.case import Case, State
from shared.commands import change_case
from shared.ledger import CaseLedger
from shared.readmodel import ReadModelStore

from . import readmodels as rm

WITH_THE_MINISTRY = (
    State.PROVINCE_ENDORSED, State.SHORTLISTED, State.IN_IMPLEMENTATION, State.EVALUATED,
    State.SELECTED, State.NOTICE_OPEN, State.PUBLISHED,
)


def _jsonable_task_book(book: dict) -> dict:
    def plain(v):
        return v.isoformat() if hasattr(v, "isoformat") else v

    return {
        "targets": book["targets"],
        "deadline": book["deadline"].isoformat(),
        "milestones": [{k: plain(v) for k, v in m.items()} for m in book["milestones"]],
        "signatories": [{k: plain(v) for k, v in s.items()} for s in book["signatories"]],
    }


class Review:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore):
        self.ledger = ledger
        self.store = store

    def cases(self, caller: Caller) -> list[dict]:
        caller.require("ministry", "evaluator")
        query = sa.select(rm.review_cases).where(rm.review_cases.c.state.in_(WITH_THE_MINISTRY))
        if caller.role == "evaluator":
            query = query.where(rm.review_cases.c.evaluator == caller.org)
        with self.store.session() as session:
            return [dict(r._mapping) for r in session.execute(query.order_by(rm.review_cases.c.updated_at))]

    def get(self, caller: Caller, case_id: str) -> Case:
        return require_case(caller, self.ledger.get_case(case_id), "ministry", "evaluator")

    def shortlist(self, caller: Caller, case_id: str, shortlisted: bool, reason: str) -> Case:
        def command(case: Case) -> None:
            if shortlisted:
                case.shortlist(actor=caller.as_actor())
            else:
                case.decline_shortlist(actor=caller.as_actor(), reason=reason)

        return change_case(self.ledger, caller, case_id, ("ministry",), command)

    def sign_task_book(self, caller: Caller, case_id: str, book: dict) -> Case:
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.sign_task_book(
            actor=caller.as_actor(), task_book=_jsonable_task_book(book)))

    def report_milestone(self, caller: Caller, case_id: str, milestone_id: str, body: dict) -> Case:
        return change_case(self.ledger, caller, case_id, ("applicant",), lambda case: case.report_milestone(
            actor=caller.as_actor(), milestone_id=milestone_id, summary=body["summary"],
            evidence=body["evidence"]))

    def commission_evaluator(self, caller: Caller, case_id: str, evaluator: str) -> Case:
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.commission_evaluator(
            actor=caller.as_actor(), evaluator=evaluator))

    def record_evaluation(self, caller: Caller, case_id: str, body: dict) -> Case:
        return change_case(self.ledger, caller, case_id, ("evaluator",), lambda case: case.record_evaluation(
            actor=caller.as_actor(), score=body["score"], conclusion=body["conclusion"], report=body["report"]))

    def select(self, caller: Caller, case_id: str, selected: bool, reason: str) -> Case:
        def command(case: Case) -> None:
            if selected:
                case.select(actor=caller.as_actor())
            else:
                case.decline_selection(actor=caller.as_actor(), reason=reason)

        return change_case(self.ledger, caller, case_id, ("ministry",), command)
