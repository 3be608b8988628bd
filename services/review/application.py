"""The ministry's review desk: panels, experts' scores, ranking, shortlist, task book, milestones,
third party, selection. No nameko, no HTTP.

Limited places (入围 per direction, the successful list per direction) are
`Allocation` streams taken in the same ledger transaction as the case's event
(`shared.application.decisions.decide_together`); panels are `Panel` streams (shared/domain/panel.py).
Calls are read from the ledger at the moment of the decision.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from shared.domain.access import may_see, require_case
from shared.domain.allocation import Allocation
from shared.domain.access import Caller
from shared.domain.case import Case, State
from shared.application.commands import change_case
from shared.application.decisions import SCORES_COMMUTE, decide_together
from shared.domain.errors import ConcurrentUpdate, DomainRuleViolation, Forbidden, IllegalTransition, NotFound
from shared.infra.ledger import CaseLedger
from shared.domain.panel import Panel, case_parties
from shared.domain.places import SHORTLIST, SUCCESS, places_of
from shared.infra.readmodels.store import ReadModelStore
from shared.infra.web.views import case_view

from . import readmodels as rm
from .ranking import rank

CHINA = ZoneInfo("Asia/Shanghai")
# The overdue timer acts as the platform itself, on the ministry's behalf.
TIMER_ACTOR = {"sub": "review-overdue-timer", "role": "system", "org": "MIIT"}
OVERDUE_CANDIDATES = ("pending", "returned")
DUE_SOON_DAYS = 30

WITH_THE_MINISTRY = (
    State.PROVINCE_ENDORSED, State.SHORTLISTED, State.IN_IMPLEMENTATION, State.EVALUATED,
    State.SELECTED, State.NOTICE_OPEN, State.PUBLISHED,
)
RANKED = (State.PROVINCE_ENDORSED, State.SHORTLISTED, State.NOT_SHORTLISTED)


def _plain(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def _jsonable_task_book(book: dict) -> dict:
    return {
        "targets": book["targets"],
        "deadline": book["deadline"].isoformat(),
        "milestones": [{k: _plain(v) for k, v in m.items()} for m in book["milestones"]],
        "signatories": [{k: _plain(v) for k, v in s.items()} for s in book["signatories"]],
    }


def case_units(case: Case) -> dict[str, str]:
    """Credit code -> role of every unit of the application: the applicant (lead) and consortium members."""
    return {u["credit_code"]: u["role"] for u in case_parties(case.applicant, case.application)}


def panel_view(panel: Panel) -> dict:
    return {
        "panel_id": str(panel.id), "call_id": panel.call_id, "direction": panel.direction,
        "version": panel.version, "criteria": panel.criteria, "experts": list(panel.experts.values()),
        "assignments": panel.assignments, "refusals": panel.refusals,
    }


def review_view(case: Case) -> dict:
    """A case as the ministry, a commissioned evaluator or a cleared expert sees it on review's desk."""
    return {**case_view(case), "task_book": case.task_book, "amendments": list(case.amendments),
            "completion_declared": case.completion_declared, "expert_reviews": case.expert_reviews}


class Review:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, now: datetime | None = None):
        self.ledger = ledger
        self.store = store
        self.now = now

    # -- reading --------------------------------------------------------------

    def cases(self, caller: Caller) -> list[dict]:
        caller.require("ministry", "evaluator")
        query = sa.select(rm.review_cases).where(rm.review_cases.c.state.in_(WITH_THE_MINISTRY))
        if caller.role == "evaluator":
            query = query.where(rm.review_cases.c.evaluator == caller.org)
        with self.store.session() as session:
            return [dict(r._mapping) for r in session.execute(query.order_by(rm.review_cases.c.updated_at))]

    def assignments(self, caller: Caller) -> list[dict]:
        """The cases assigned to the calling expert, with what it needs to declare on each.

        Before declaring, an expert is shown the case's title, call and direction and
        its units (to see a conflict of interest), never the application, the
        authorities' opinions, the scores or the evidence: those come with the case
        itself, once it has declared no conflict.
        """
        caller.require("expert")
        a, c, u = rm.expert_assignments, rm.review_cases, rm.case_units
        query = (sa.select(a.c.case_id, a.c.status, a.c.assigned_at, c.c.call_id, c.c.direction, c.c.program,
                           c.c.title, c.c.state, u.c.units, rm.expert_scores.c.recorded_at.label("scored_at"))
                 .join(c, c.c.case_id == a.c.case_id).join(u, u.c.case_id == a.c.case_id)
                 .outerjoin(rm.expert_scores, sa.and_(rm.expert_scores.c.case_id == a.c.case_id,
                                                      rm.expert_scores.c.expert == a.c.expert))
                 .where(a.c.expert == caller.sub).order_by(a.c.assigned_at, a.c.case_id))
        with self.store.session() as session:
            rows = [dict(r._mapping) for r in session.execute(query)]
        return [{**{k: v for k, v in r.items() if k != "scored_at"}, "units": json.loads(r["units"]),
                 "scored": r["scored_at"] is not None} for r in rows]

    def get(self, caller: Caller, case_id: str) -> Case:
        caller.require("ministry", "evaluator", "expert")
        case = self.ledger.get_case(case_id)
        if caller.role == "expert":
            return self._as_expert(caller, case)
        return require_case(caller, case, "ministry", "evaluator")

    # -- panels -----------------------------------------------------------------

    def form_panel(self, caller: Caller, body: dict) -> dict:
        caller.require("ministry")
        call = self.ledger.get_call(body["call_id"]).current
        codes = [d["code"] for d in (call.get("open_competition") or {}).get("directions") or []]
        codes += [d["code"] for d in (call.get("signature_product") or {}).get("domains") or [] if "code" in d]
        if codes and body["direction"] not in codes:
            raise DomainRuleViolation("direction", f"the call {body['call_id']} has no direction {body['direction']!r}")
        if self.ledger.find_panel(body["call_id"], body["direction"]) is not None:
            raise DomainRuleViolation("direction", f"a panel for {body['direction']} in {body['call_id']} exists")
        panel = Panel.form(actor=caller.as_actor(), call_id=body["call_id"], direction=body["direction"],
                           criteria=body["criteria"], experts=body["experts"])
        self.ledger.save_together(panel)  # two forming at once: the second collides on version 1
        return panel_view(panel)

    def get_panel(self, caller: Caller, call_id: str, direction: str) -> dict:
        caller.require("ministry")
        return panel_view(self._panel(call_id, direction))

    # A direction's panel is one stream, and every assignment and declaration of its cases
    # appends to it: two officials assigning, or two experts declaring, at the same instant
    # collide on its version though their decisions are independent. The loser decides again
    # on the panel as stored (retry_alone), so what the other did is seen: the same expert
    # assigned twice is still refused, as is a second declaration.

    def assign_expert(self, caller: Caller, case_id: str, expert: str) -> dict:
        """Assigns an expert; a conflict of interest is recorded on the panel and refused."""
        caller.require("ministry")
        refusal: list[str] = []

        def attempt() -> tuple[Panel, list]:
            refusal.clear()
            case = require_case(caller, self.ledger.get_case(case_id), "ministry")
            if case.state != State.PROVINCE_ENDORSED:
                raise IllegalTransition(event="ExpertAssigned", state=case.state,
                                        allowed=(State.PROVINCE_ENDORSED,))
            panel = self._panel(case.call_id, case.direction)
            reason = panel.assign(actor=caller.as_actor(), case_id=str(case.id), expert=expert,
                                  units=case_units(case))
            refusal.extend([reason] if reason else [])
            return panel, []

        panel = decide_together(self.ledger, attempt, retry_alone=True)
        if refusal:
            raise DomainRuleViolation("expert", f"conflict of interest: {refusal[0]}")
        return panel_view(panel)

    def declare(self, caller: Caller, case_id: str, conflict: bool, relation: str) -> dict:
        caller.require("expert")
        case_ids: list[str] = []  # as the ledger spells it

        def attempt() -> tuple[Panel, list]:
            case = self.ledger.get_case(case_id)
            case_ids[:] = [str(case.id)]
            panel = self.ledger.find_panel(case.call_id, case.direction)
            if panel is None or panel.status(str(case.id), caller.sub) is None:  # access, as for every case route
                raise Forbidden(f"expert {caller.sub} is not assigned to case {case.id}")
            panel.declare(actor=caller.as_actor(), case_id=str(case.id), expert=caller.sub, conflict=conflict,
                          relation=relation)
            return panel, []

        panel = decide_together(self.ledger, attempt, retry_alone=True)
        return {"case_id": case_ids[0], "expert": caller.sub, "status": panel.status(case_ids[0], caller.sub)}

    # -- scores -------------------------------------------------------------------

    def score(self, caller: Caller, case_id: str, scores: dict, comment: str) -> dict:
        """Records the expert's scores; another expert's score saved at the same instant is no conflict."""
        caller.require("expert")

        def attempt() -> tuple[Case, list]:
            case = self._as_expert(caller, self.ledger.get_case(case_id))
            checked = self._panel(case.call_id, case.direction).check_scores(scores)
            case.record_expert_review(actor=caller.as_actor(), expert=caller.sub, scores=checked, comment=comment)
            return case, []

        decide_together(self.ledger, attempt, commuting=SCORES_COMMUTE)
        return self.scores(caller, case_id)

    def scores(self, caller: Caller, case_id: str) -> dict:
        """The experts' scores: the ministry sees all; an expert sees others' only after submitting its own."""
        caller.require("ministry", "expert")
        case = self.ledger.get_case(case_id)
        if caller.role == "expert":
            self._as_expert(caller, case)
        reviews = [
            {"expert": e.payload["expert"], "scores": e.payload["scores"], "comment": e.payload["comment"],
             "total": sum(e.payload["scores"].values()), "recorded_at": e.timestamp}
            for e in self.ledger.history(case.id) if e.type == "ExpertReviewed"
        ]
        if caller.role == "expert" and caller.sub not in case.scored_by:
            mine = [r for r in reviews if r["expert"] == caller.sub]
            return {"case_id": str(case.id), "reviews": mine, "hidden": len(reviews) - len(mine),
                    "note": "other experts' scores are shown once you have submitted your own"}
        return {"case_id": str(case.id), "reviews": reviews, "hidden": 0}

    def ranking(self, caller: Caller, call_id: str, direction: str) -> dict:
        caller.require("ministry")
        cases = rm.review_cases
        with self.store.session() as session:
            ids = session.execute(sa.select(cases.c.case_id, cases.c.state).where(
                cases.c.call_id == call_id, cases.c.direction == direction, cases.c.state.in_(RANKED))).all()
            scores = session.execute(sa.select(rm.expert_scores.c.case_id, rm.expert_scores.c.total).where(
                rm.expert_scores.c.case_id.in_([i.case_id for i in ids]))).all()
        totals: dict[str, list[float]] = {i.case_id: [] for i in ids}
        for row in scores:
            totals[row.case_id].append(row.total)
        state = {i.case_id: i.state for i in ids}
        rows = [{**r, "state": state[r["case_id"]]} for r in rank(totals)]
        places = self.ledger.find_allocation(call_id, SHORTLIST, direction)
        return {"call_id": call_id, "direction": direction, "ranking": rows,
                "shortlisted": list(places.holders) if places else []}

    # -- shortlist and selection: limited places ---------------------------------------

    def shortlist(self, caller: Caller, case_id: str, shortlisted: bool, reason: str) -> Case:
        def command(case: Case) -> None:
            if shortlisted:
                if not case.expert_reviews:
                    raise DomainRuleViolation("scores", "a case is shortlisted on its experts' scores: none recorded")
                case.shortlist(actor=caller.as_actor())
            else:
                case.decline_shortlist(actor=caller.as_actor(), reason=reason)

        return self._with_place(caller, case_id, SHORTLIST, command, take=shortlisted)

    def select(self, caller: Caller, case_id: str, selected: bool, reason: str) -> Case:
        def command(case: Case) -> None:
            if selected:
                case.select(actor=caller.as_actor())
            else:
                case.decline_selection(actor=caller.as_actor(), reason=reason)

        return self._with_place(caller, case_id, SUCCESS, command, take=selected)

    def _with_place(self, caller: Caller, case_id: str, kind: str, command, take: bool) -> Case:
        def attempt():
            case = require_case(caller, self.ledger.get_case(case_id), "ministry")
            command(case)
            if not take:
                return case, []
            limited = places_of(self.ledger.get_call(case.call_id).current, kind, case)
            if limited is None:
                return case, []
            capacity, scope = limited
            places = self.ledger.find_allocation(case.call_id, kind, scope) or Allocation.open(
                actor=caller.as_actor(), call_id=case.call_id, kind=kind, scope=scope)
            places.take(actor=caller.as_actor(), case_id=str(case.id), capacity=capacity)
            return case, [places]

        return decide_together(self.ledger, attempt)

    # -- task book and milestones ---------------------------------------------------------

    def sign_task_book(self, caller: Caller, case_id: str, book: dict) -> Case:
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.sign_task_book(
            actor=caller.as_actor(), task_book=_jsonable_task_book(book)))

    def amend_task_book(self, caller: Caller, case_id: str, body: dict) -> Case:
        book = {**_jsonable_task_book({**body, "signatories": body["signatories"]})}
        return change_case(self.ledger, caller, case_id, ("ministry",), lambda case: case.amend_task_book(
            actor=caller.as_actor(), amendment_id=body["amendment_id"], reason=body["reason"],
            task_book=book, signatories=book["signatories"]))

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

    def mark_overdue(self, now: datetime) -> list[tuple[str, str]]:
        """Every milestone due before today (China) with no report, or only one sent back, becomes overdue once.

        Reads review's read model for candidates and decides on the case as the
        ledger holds it: a milestone reported or already overdue in the meantime is
        left alone (the aggregate refuses it twice), so running twice, or in two
        processes, records one event. Returns the (case, milestone) pairs marked.
        """
        today = now.astimezone(CHINA).date()
        t = rm.milestones
        with self.store.session() as session:
            due = session.execute(sa.select(t.c.case_id, t.c.milestone_id, t.c.due_on).where(
                t.c.due_on < today.isoformat(), t.c.status.in_(OVERDUE_CANDIDATES),
            ).order_by(t.c.due_on, t.c.case_id)).all()
        marked = []
        for row in due:
            case = self.ledger.get_case(row.case_id)
            if case.state != State.IN_IMPLEMENTATION or case.milestones.get(row.milestone_id) not in OVERDUE_CANDIDATES:
                continue
            due_on = self._due_on(case, row.milestone_id)
            if due_on is None or due_on >= today:  # an amendment moved it: the task book decides
                continue
            case.mark_milestone_overdue(actor=TIMER_ACTOR, milestone_id=row.milestone_id, due_on=due_on)
            try:
                self.ledger.save_case(case)
            except ConcurrentUpdate:
                continue  # changed meanwhile (a report, another timer): the next pass looks again
            marked.append((row.case_id, row.milestone_id))
        return marked

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

    def _panel(self, call_id: str, direction: str) -> Panel:
        panel = self.ledger.find_panel(call_id, direction)
        if panel is None:
            raise NotFound(f"no expert panel for {direction} in call {call_id}")
        return panel

    def _as_expert(self, caller: Caller, case: Case) -> Case:
        """An expert sees a case assigned to it, and only after declaring no conflict."""
        panel = self.ledger.find_panel(case.call_id, case.direction)
        cleared = frozenset(panel.cleared(str(case.id))) if panel else frozenset()
        if not may_see(caller, case, assigned_experts=cleared) or caller.sub not in cleared:
            status = panel.status(str(case.id), caller.sub) if panel else None
            why = {None: "is not assigned to it", "assigned": "has not declared no conflict of interest",
                   "recused": "declared a conflict of interest"}.get(status, "may not see it")
            raise Forbidden(f"expert {caller.sub} {why}: case {case.id}")
        return case

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

    @staticmethod
    def _due_on(case: Case, milestone_id: str) -> date | None:
        for m in (case.task_book or {}).get("milestones", []):
            if m["id"] == milestone_id and m.get("due_on"):
                return date.fromisoformat(str(m["due_on"]))
        return None
