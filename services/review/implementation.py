"""Review after the shortlist: the task book and its amendments, milestones and their reports, the overdue
timer, the provinces' annual work plans, the unit's completion and the third party's evaluation.
No nameko, no HTTP.

Every document a report, plan, declaration or evaluation names must be held on the ledger at
the moment of the decision (`_require_documents`), as intake checks an application's evidence.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from shared.application.commands import change_case, decide
from shared.domain.access import SYSTEM, Caller
from shared.domain.actors import Actor
from shared.domain.case import Case, State
from shared.domain.errors import ConcurrentUpdate, DomainRuleViolation
from shared.infra.ledger import CaseLedger
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm
from .schemas import TaskBookSchema

CHINA = ZoneInfo("Asia/Shanghai")
OVERDUE_CANDIDATES = ("pending", "returned")
DUE_SOON_DAYS = 30


def _plain(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def _jsonable_task_book(book: dict) -> dict:
    return {
        "targets": book["targets"],
        "deadline": book["deadline"].isoformat(),
        "milestones": [{k: _plain(v) for k, v in m.items()} for m in book["milestones"]],
        "signatories": [{k: _plain(v) for k, v in s.items()} for s in book["signatories"]],
    }


def _due_on(case: Case, milestone_id: str) -> date | None:
    for m in (case.task_book or {}).get("milestones", []):
        if m["id"] == milestone_id and m.get("due_on"):
            return date.fromisoformat(str(m["due_on"]))
    return None


class Implementation:
    """The task book, milestones and evaluation part of `services.review.application.Review`."""

    ledger: CaseLedger
    store: ReadModelStore
    vault: Vault

    # -- task book and milestones ---------------------------------------------------------

    def sign_task_book(self, caller: Caller, case_id: str, book: dict) -> Case:
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.sign_task_book(
            actor=caller.as_actor(), task_book=self._sealed(case, _jsonable_task_book(book))))

    def amend_task_book(self, caller: Caller, case_id: str, body: dict) -> Case:
        def amend(case: Case) -> None:
            book = self._sealed(case, _jsonable_task_book({**body, "signatories": body["signatories"]}))
            case.amend_task_book(actor=caller.as_actor(), amendment_id=body["amendment_id"], reason=body["reason"],
                                 task_book=book, signatories=book["signatories"])

        return change_case(self.ledger, caller, case_id, ("ministry",), amend)

    def _sealed(self, case: Case, book: dict) -> dict:
        """The task book as the ledger keeps it: each signatory's name sealed under their key (issue #21)."""
        return self.vault.seal(str(case.id), TaskBookSchema(), book)

    def report_milestone(self, caller: Caller, case_id: str, milestone_id: str, body: dict) -> Case:
        def command(case: Case) -> None:
            self._require_documents(caller, case, "evidence", body["evidence"])
            case.report_milestone(actor=caller.as_actor(), milestone_id=milestone_id, summary=body["summary"],
                                  evidence=body["evidence"])

        return change_case(self.ledger, caller, case_id, ("applicant",), command)

    def decide_report(self, caller: Caller, case_id: str, milestone_id: str, body: dict) -> Case:
        def command(case: Case) -> None:
            if body["accepted"]:
                case.accept_milestone_report(actor=caller.as_actor(), milestone_id=milestone_id, note=body["note"])
            else:
                case.return_milestone_report(actor=caller.as_actor(), milestone_id=milestone_id,
                                             reasons=body["reasons"])

        return change_case(self.ledger, caller, case_id, ("ministry",), command)

    def record_work_plan(self, caller: Caller, case_id: str, body: dict) -> Case:
        def command(case: Case) -> None:
            self._require_documents(caller, case, "evidence", body["evidence"])
            case.record_work_plan(actor=caller.as_actor(), year=body["year"], plan=body["plan"],
                                  evidence=body["evidence"])

        return change_case(self.ledger, caller, case_id, ("province",), command)

    def declare_completion(self, caller: Caller, case_id: str, body: dict) -> Case:
        def command(case: Case) -> None:
            self._require_documents(caller, case, "evidence", body["evidence"])
            case.declare_completion(actor=caller.as_actor(), summary=body["summary"], evidence=body["evidence"])

        return change_case(self.ledger, caller, case_id, ("applicant",), command)

    def mark_overdue(self, now: datetime, timer: Caller) -> list[tuple[str, str]]:
        """Every milestone due before today (China) with no report, or only one sent back, becomes overdue once.

        Reads review's read model for candidates and decides on the case as the
        ledger holds it: a milestone reported or already overdue in the meantime is
        left alone (the aggregate refuses it twice), so running twice, or in two
        processes, records one event. Returns the (case, milestone) pairs marked.
        """
        actor = timer.require(SYSTEM).as_actor()
        today = now.astimezone(CHINA).date()
        t = rm.milestones
        with self.store.session() as session:
            due = session.execute(sa.select(t.c.case_id, t.c.milestone_id, t.c.due_on).where(
                t.c.due_on < today.isoformat(), t.c.status.in_(OVERDUE_CANDIDATES),
            ).order_by(t.c.due_on, t.c.case_id)).all()
        marked = []
        for row in due:
            if self._mark_overdue(row.case_id, row.milestone_id, today, actor):
                marked.append((row.case_id, row.milestone_id))
        return marked

    def _mark_overdue(self, case_id: str, milestone_id: str, today: date, actor: Actor) -> bool:
        """Whether the milestone was marked overdue now: not if the case as stored has it reported or moved."""
        def mark() -> tuple[Case, list] | None:
            case = self.ledger.get_case(case_id)
            if case.state != State.IN_IMPLEMENTATION or case.milestones.get(milestone_id) not in OVERDUE_CANDIDATES:
                return None
            due_on = _due_on(case, milestone_id)
            if due_on is None or due_on >= today:  # an amendment moved it: the task book decides
                return None
            case.mark_milestone_overdue(actor=actor, milestone_id=milestone_id, due_on=due_on)
            return case, []

        try:
            return decide(self.ledger, mark) is not None
        except ConcurrentUpdate:
            return False  # changed meanwhile (a report, another timer): the next pass looks again

    def milestone_board(self, caller: Caller, call_id: str, today: date, due_within: int = DUE_SOON_DAYS) -> dict:
        """Per call: due soon, overdue, reported, accepted (and sent back); a province sees its own cases."""
        caller.require("ministry", "province")
        t = rm.milestones
        query = sa.select(t).where(t.c.call_id == call_id).order_by(t.c.due_on, t.c.case_id, t.c.milestone_id)
        if caller.role == "province":
            query = query.where(t.c.province == caller.org)
        with self.store.session() as session:
            rows = [dict(r._mapping) for r in session.execute(query)]
        today_iso, soon = today.isoformat(), (today + timedelta(days=due_within)).isoformat()
        board: dict[str, list] = {"due_soon": [], "overdue": [], "reported": [], "accepted": [], "returned": []}
        for row in rows:
            status = row["status"]
            if status in OVERDUE_CANDIDATES and row["due_on"] < today_iso:
                board["overdue"].append(row)  # the timer's next pass records it
            elif status in OVERDUE_CANDIDATES and row["due_on"] <= soon:
                board["due_soon"].append(row)
            if status in ("overdue", "reported", "accepted", "returned"):
                board[status].append(row)
        return {"call_id": call_id, "today": today.isoformat(), "due_within_days": due_within, **board}

    # -- evaluation -------------------------------------------------------------------

    def commission_evaluator(self, caller: Caller, case_id: str, evaluator: str) -> Case:
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.commission_evaluator(
            actor=caller.as_actor(), evaluator=evaluator))

    def record_evaluation(self, caller: Caller, case_id: str, body: dict) -> Case:
        """The commissioned institution's assessment of every target, score, conclusion and report."""
        def command(case: Case) -> None:
            self._require_documents(caller, case, "report", body["report"])
            case.record_evaluation(actor=caller.as_actor(), score=body["score"], conclusion=body["conclusion"],
                                   report=body["report"], assessment=body["assessment"])

        return change_case(self.ledger, caller, case_id, ("evaluator",), command)

    # -- helpers ------------------------------------------------------------------------

    def _require_documents(self, caller: Caller, case: Case, field: str, digests: list[str]) -> None:
        """Every document named is held: attached to the case, or deposited by the caller's organisation.

        Checked on the ledger at the moment of the decision, as intake checks an
        application's evidence: a digest nobody uploaded is refused, naming it.
        """
        unattached = [d for d in digests if d not in case.evidence]
        dossier = self.ledger.find_dossier(caller.org) if unattached else None
        missing = [d for d in unattached if not (dossier and dossier.holds(d))]
        if missing:
            raise DomainRuleViolation(field, (
                f"{', '.join(missing)}: not attached to case {case.id} nor deposited by {caller.org}; upload "
                "it first (POST /documents/cases/<case>/evidence or /documents/uploads)"))
