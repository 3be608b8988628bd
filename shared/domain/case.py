"""The Case aggregate: one application's legal process as a state machine.

This is the shared kernel every service deploys. It holds the states and guards
that the two notices impose on one application, and nothing else: quotas,
scores, notices and documents live in the services that own them.

Every event carries the acting party (`actor`: subject, role, organisation) so
that the stream alone answers "who did what, when". Event classes are never
edited in place: a change of shape is a new `class_version` with an upcaster.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from shared.domain.actors import actor_record
from shared.domain.errors import DomainRuleViolation, IllegalTransition


class Program:
    OPEN_COMPETITION = "open_competition"  # 揭榜挂帅 tasks
    SIGNATURE_PRODUCT = "signature_product"  # 标志性产品征集

    ALL = (OPEN_COMPETITION, SIGNATURE_PRODUCT)


class State:
    SUBMITTED = "submitted"  # waiting for the first authority of its chain
    RETURNED = "returned"  # returned for correction; the applicant amends
    CITY_RECOMMENDED = "city_recommended"  # waiting for the province
    PROVINCE_ENDORSED = "province_endorsed"  # with the ministry
    REJECTED = "rejected"
    SHORTLISTED = "shortlisted"  # 入围 (open competition only)
    NOT_SHORTLISTED = "not_shortlisted"
    IN_IMPLEMENTATION = "in_implementation"  # task book signed
    EVALUATED = "evaluated"  # third-party evaluation recorded
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"
    NOTICE_OPEN = "notice_open"  # 公示
    DELISTED = "delisted"  # an objection was upheld during the notice
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"

    ALL = (
        SUBMITTED, RETURNED, CITY_RECOMMENDED, PROVINCE_ENDORSED, REJECTED,
        SHORTLISTED, NOT_SHORTLISTED, IN_IMPLEMENTATION, EVALUATED, SELECTED,
        NOT_SELECTED, NOTICE_OPEN, DELISTED, PUBLISHED, WITHDRAWN,
    )
    TERMINAL = (REJECTED, NOT_SHORTLISTED, NOT_SELECTED, DELISTED, PUBLISHED, WITHDRAWN)
    AWAITING_VERIFICATION = (SUBMITTED, CITY_RECOMMENDED)


class Level:
    CITY = "city"
    PROVINCE = "province"
    ALL = (CITY, PROVINCE)


# The notices know two chains: the province alone, or a city bureau first (Hubei's
# 市州经信局) and then the province. A call picks one per region.
VALID_CHAINS = ([Level.PROVINCE], [Level.CITY, Level.PROVINCE])


def _text(field: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainRuleViolation(field, "must not be blank")
    return value


def _check_milestones(task_book: dict) -> None:
    milestones = task_book.get("milestones") or []
    if not milestones:
        raise DomainRuleViolation("task_book.milestones", "a task book states at least one milestone (时间节点)")
    ids = [m.get("id") for m in milestones]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise DomainRuleViolation("task_book.milestones", "every milestone needs a unique id")


def _check_assessment(assessment: list[dict], targets: list[str]) -> list[dict]:
    """An evaluation assesses every target of the task book, once each: met or not, with its finding."""
    named = [a.get("target") for a in assessment]
    unknown = [t for t in named if t not in targets]
    twice = sorted({t for t in named if named.count(t) > 1})
    missing = [t for t in targets if t not in named]
    if unknown or twice or missing:
        parts = ([f"not a target of the task book: {'; '.join(map(str, unknown))}"] if unknown else []) + (
            [f"assessed twice: {'; '.join(twice)}"] if twice else []) + (
            [f"not assessed: {'; '.join(missing)}"] if missing else [])
        raise DomainRuleViolation("assessment", "one finding per target of the task book (" + " | ".join(parts) + ")")
    checked = []
    for a in assessment:
        if not isinstance(a.get("met"), bool):
            raise DomainRuleViolation("assessment", f"target {a['target']}: met is true or false")
        if not isinstance(a.get("finding"), str) or not a["finding"].strip():
            raise DomainRuleViolation("assessment", f"target {a['target']}: the finding must not be blank")
        checked.append({"target": a["target"], "met": a["met"], "finding": a["finding"]})
    return checked


def awaiting_level(state: str, chain: list[str]) -> str | None:
    if state == State.SUBMITTED:
        return chain[0]
    if state == State.CITY_RECOMMENDED:
        return Level.PROVINCE
    return None



class Case(Aggregate):
    """One application (申请) and its whole history."""

    class Event(Aggregate.Event):
        actor: dict

    class Submitted(Aggregate.Created):
        actor: dict
        call_id: str
        call_version: int
        program: str
        direction: str  # 揭榜方向 or 征集领域, as the call names it
        applicant: dict  # {"credit_code", "name"}
        province: str  # GB/T 2260 code of the province-level authority
        city: str | None  # GB/T 2260 code, where the chain has a city level
        chain: list  # verification levels in order, e.g. ["city", "province"]
        public_notice_required: bool
        title: str
        application: dict  # the form as submitted

    class Resubmitted(Event):
        application: dict
        changes: str

        def apply(self, case: Case) -> None:
            case.application = self.application
            case.state = State.SUBMITTED
            case.round += 1

    class Withdrawn(Event):
        reason: str

        def apply(self, case: Case) -> None:
            case.state = State.WITHDRAWN

    class VerificationRecorded(Event):
        level: str
        checks: dict  # {"authenticity": {"passed": bool, "note": str}, ...}

        def apply(self, case: Case) -> None:
            case.verifications.append({"level": self.level, "checks": self.checks})

    class CityRecommended(Event):
        reason: str
        rank: int

        def apply(self, case: Case) -> None:
            case.state = State.CITY_RECOMMENDED

    class ProvinceEndorsed(Event):
        reason: str
        rank: int

        def apply(self, case: Case) -> None:
            case.state = State.PROVINCE_ENDORSED

    class EndorsementWithdrawn(Event):
        reason: str
        back_to: str  # the state that waits for the province again

        def apply(self, case: Case) -> None:
            case.state = self.back_to

    class ReturnedForCorrection(Event):
        level: str
        reasons: list

        def apply(self, case: Case) -> None:
            case.state = State.RETURNED

    class Rejected(Event):
        level: str
        reason: str

        def apply(self, case: Case) -> None:
            case.state = State.REJECTED

    class ExpertReviewed(Event):
        expert: str
        scores: dict
        comment: str

        def apply(self, case: Case) -> None:
            case.expert_reviews += 1
            case.scored_by.append(self.expert)

    class Shortlisted(Event):
        def apply(self, case: Case) -> None:
            case.state = State.SHORTLISTED

    class NotShortlisted(Event):
        reason: str

        def apply(self, case: Case) -> None:
            case.state = State.NOT_SHORTLISTED

    class TaskBookSigned(Event):
        task_book: dict  # targets, deadline, milestones, signatories

        def apply(self, case: Case) -> None:
            case.state = State.IN_IMPLEMENTATION
            case.milestones = {m["id"]: "pending" for m in self.task_book["milestones"]}
            case.task_book = self.task_book

    class MilestoneReported(Event):
        milestone_id: str
        summary: str
        evidence: list

        def apply(self, case: Case) -> None:
            case.milestones[self.milestone_id] = "reported"

    class MilestoneOverdue(Event):
        milestone_id: str
        due_on: date

        def apply(self, case: Case) -> None:
            case.milestones[self.milestone_id] = "overdue"

    class MilestoneReportAccepted(Event):
        milestone_id: str
        note: str

        def apply(self, case: Case) -> None:
            case.milestones[self.milestone_id] = "accepted"

    class MilestoneReportReturned(Event):
        milestone_id: str
        reasons: list

        def apply(self, case: Case) -> None:
            case.milestones[self.milestone_id] = "returned"

    class TaskBookAmended(Event):
        """A signed task book changes only by an amendment every party of the book signs."""

        amendment_id: str
        reason: str
        task_book: dict  # the whole task book as amended
        signatories: list  # [{"party", "name", "signed_on"}], every party of the signed book

        def apply(self, case: Case) -> None:
            case.milestones = {
                m["id"]: case.milestones.get(m["id"], "pending") for m in self.task_book["milestones"]
            }
            case.task_book = self.task_book
            case.amendments.append(self.amendment_id)

    class AnnualWorkPlanRecorded(Event):
        """A year's work plan under the task book, as the province guided it (年度工作计划)."""

        year: int
        plan: str
        evidence: list

        def apply(self, case: Case) -> None:
            case.work_plans.append(self.year)

    class CompletionDeclared(Event):
        summary: str
        evidence: list

        def apply(self, case: Case) -> None:
            case.completion_declared = True

    class EvaluatorCommissioned(Event):
        evaluator: str  # the third-party institution's organisation code

        def apply(self, case: Case) -> None:
            case.evaluator = self.evaluator

    class ThirdPartyEvaluated(Event):
        """The commissioned institution's evaluation against the task book's targets."""

        class_version = 2  # v2 added `assessment`

        score: float
        conclusion: str
        report: list  # evidence sha256 digests
        assessment: list  # [{"target", "met", "finding"}], one per target of the task book

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["assessment"] = []  # recorded before targets were assessed one by one

        def apply(self, case: Case) -> None:
            case.state = State.EVALUATED

    class Selected(Event):
        def apply(self, case: Case) -> None:
            case.state = State.SELECTED

    class NotSelected(Event):
        reason: str

        def apply(self, case: Case) -> None:
            case.state = State.NOT_SELECTED

    class PublicNoticeOpened(Event):
        notice_id: str
        starts_on: date
        ends_on: date  # last working day of the notice period

        def apply(self, case: Case) -> None:
            case.state = State.NOTICE_OPEN
            case.notice_starts_on = self.starts_on
            case.notice_ends_on = self.ends_on

    class ObjectionRaised(Event):
        """Anyone identified objects to the case's entry during its notice (公示), with reasons and evidence."""

        class_version = 2  # v1 had no evidence
        objection_id: str
        reasons: str
        evidence: list  # SHA-256 digests the objector deposited with the documents service

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["evidence"] = []

        def apply(self, case: Case) -> None:
            case.open_objections.append(self.objection_id)

    class ObjectionResolved(Event):
        objection_id: str
        upheld: bool
        resolution: str

        def apply(self, case: Case) -> None:
            case.open_objections.remove(self.objection_id)
            if self.upheld:
                # The entry leaves the list: other objections against it have nothing left to decide.
                case.open_objections.clear()
                case.state = State.DELISTED

    class Published(Event):
        list_id: str

        def apply(self, case: Case) -> None:
            case.state = State.PUBLISHED

    class EvidenceAttached(Event):
        sha256: str
        size: int
        content_type: str
        filename: str
        step: str

        def apply(self, case: Case) -> None:
            case.evidence.append(self.sha256)

    class EvidenceSuperseded(Event):
        """A correction: a new document takes the place of an earlier one on the case.

        The earlier one is not removed from anything but the list of current evidence:
        its EvidenceAttached stays in the stream and its bytes stay in the store."""

        sha256: str  # the correction
        supersedes: str  # the document it replaces
        size: int
        content_type: str
        filename: str
        step: str
        reason: str

        def apply(self, case: Case) -> None:
            # In place, so the list keeps the order in which the documents were filed.
            case.evidence[case.evidence.index(self.supersedes)] = self.sha256
            case.superseded[self.supersedes] = self.sha256

    # Which state each event may follow. Events absent from a state's row are
    # illegal there; guards below add the rules that depend on more than state.
    ALLOWED_FROM: ClassVar[dict[type, tuple[str, ...]]] = {}

    def __init__(
        self, *, actor, call_id, call_version, program, direction, applicant,
        province, city, chain, public_notice_required, title, application,
    ) -> None:
        self.call_id = call_id
        self.call_version = call_version
        self.program = program
        self.direction = direction
        self.applicant = applicant
        self.province = province
        self.city = city
        self.chain = list(chain)
        self.public_notice_required = public_notice_required
        self.title = title
        self.application = application
        self.submitted_by = actor
        self.state = State.SUBMITTED
        self.round = 1
        self.verifications: list[dict] = []
        self.expert_reviews = 0
        self.scored_by: list[str] = []
        self.milestones: dict[str, str] = {}
        self.task_book: dict | None = None
        self.amendments: list[str] = []
        self.work_plans: list[int] = []
        self.completion_declared = False
        self.evaluator: str | None = None
        self.notice_starts_on: date | None = None
        self.notice_ends_on: date | None = None
        self.open_objections: list[str] = []
        self.evidence: list[str] = []
        self.superseded: dict[str, str] = {}  # each superseded document -> its correction

    # -- creation -----------------------------------------------------------

    @classmethod
    def submit(
        cls, *, actor: dict, call_id: str, call_version: int, program: str,
        direction: str, applicant: dict, province: str, city: str | None,
        chain: list[str], public_notice_required: bool, title: str,
        application: dict, case_id: UUID | None = None,
    ) -> Case:
        if program not in Program.ALL:
            raise DomainRuleViolation("program", f"unknown program kind {program!r}")
        if list(chain) not in VALID_CHAINS:
            raise DomainRuleViolation(
                "chain", "the chain of levels is ['province'] or ['city', 'province'], "
                f"not {list(chain)!r}"
            )
        if Level.CITY in chain and not city:
            raise DomainRuleViolation("city", "this region's chain has a city level: the city code is required")
        return cls._create(
            cls.Submitted,
            id=case_id or uuid4(),
            actor=actor_record(actor), call_id=call_id, call_version=call_version,
            program=program, direction=direction, applicant=applicant,
            province=province, city=city if Level.CITY in chain else None,
            chain=list(chain), public_notice_required=public_notice_required,
            title=title, application=application,
        )

    # -- derived facts ----------------------------------------------------------

    @property
    def awaiting_level(self) -> str | None:
        """The verification level the case waits for, if it waits for one."""
        return awaiting_level(self.state, self.chain)

    # -- guards ---------------------------------------------------------------

    def _require(self, event_class: type, *, allowed: tuple[str, ...] | None = None) -> None:
        allowed = allowed if allowed is not None else self.ALLOWED_FROM[event_class]
        if self.state not in allowed:
            raise IllegalTransition(
                event=event_class.__name__, state=self.state, allowed=allowed
            )

    def _require_level(self, event_class: type, level: str) -> None:
        self._require(event_class)
        if self.awaiting_level != level:
            raise IllegalTransition(
                event=event_class.__name__, state=self.state,
                allowed=self.ALLOWED_FROM[event_class],
                detail=f"the case waits for the {self.awaiting_level} level, not the {level} level",
            )

    def _require_program(self, event_class: type, program: str) -> None:
        if self.program != program:
            raise IllegalTransition(
                event=event_class.__name__, state=self.state,
                allowed=self.ALLOWED_FROM[event_class],
                detail=f"only {program} cases have this step; this case is {self.program}",
            )

    # -- intake ---------------------------------------------------------------

    def resubmit(self, *, actor: dict, application: dict, changes: str) -> None:
        self._require(Case.Resubmitted)
        self.trigger_event(
            Case.Resubmitted, actor=actor_record(actor), application=application, changes=_text("changes", changes)
        )

    def withdraw(self, *, actor: dict, reason: str) -> None:
        self._require(Case.Withdrawn)
        self.trigger_event(Case.Withdrawn, actor=actor_record(actor), reason=_text("reason", reason))

    # -- verification ---------------------------------------------------------

    def record_verification(self, *, actor: dict, level: str, checks: dict) -> None:
        self._require_level(Case.VerificationRecorded, level)
        self.trigger_event(Case.VerificationRecorded, actor=actor_record(actor), level=level, checks=checks)

    def recommend_by_city(self, *, actor: dict, reason: str, rank: int) -> None:
        self._require_level(Case.CityRecommended, Level.CITY)
        self.trigger_event(Case.CityRecommended, actor=actor_record(actor), reason=reason, rank=rank)

    def endorse_by_province(self, *, actor: dict, reason: str, rank: int) -> None:
        self._require_level(Case.ProvinceEndorsed, Level.PROVINCE)
        self.trigger_event(Case.ProvinceEndorsed, actor=actor_record(actor), reason=reason, rank=rank)

    def withdraw_endorsement(self, *, actor: dict, reason: str) -> None:
        """The province takes back its endorsement (freeing its place) before the ministry acts."""
        self._require(Case.EndorsementWithdrawn)
        if self.expert_reviews:
            raise IllegalTransition(
                event="EndorsementWithdrawn", state=self.state, allowed=self.ALLOWED_FROM[Case.EndorsementWithdrawn],
                detail="the ministry's experts have already reviewed the case",
            )
        back_to = State.CITY_RECOMMENDED if Level.CITY in self.chain else State.SUBMITTED
        self.trigger_event(
            Case.EndorsementWithdrawn, actor=actor_record(actor), reason=_text("reason", reason), back_to=back_to,
        )

    def return_for_correction(self, *, actor: dict, level: str, reasons: list[str]) -> None:
        self._require_level(Case.ReturnedForCorrection, level)
        if not reasons or any(not isinstance(r, str) or not r.strip() for r in reasons):
            raise DomainRuleViolation("reasons", "a return for correction states at least one reason, none blank")
        self.trigger_event(Case.ReturnedForCorrection, actor=actor_record(actor), level=level, reasons=list(reasons))

    def reject(self, *, actor: dict, level: str, reason: str) -> None:
        self._require_level(Case.Rejected, level)
        self.trigger_event(Case.Rejected, actor=actor_record(actor), level=level, reason=_text("reason", reason))

    # -- review ---------------------------------------------------------------

    def record_expert_review(self, *, actor: dict, expert: str, scores: dict, comment: str) -> None:
        self._require(Case.ExpertReviewed)
        if expert in self.scored_by:
            raise DomainRuleViolation("expert", f"{expert} has already scored this case; a score is final")
        self.trigger_event(Case.ExpertReviewed, actor=actor_record(actor), expert=expert, scores=scores, comment=comment)

    def shortlist(self, *, actor: dict) -> None:
        self._require(Case.Shortlisted)
        self._require_program(Case.Shortlisted, Program.OPEN_COMPETITION)
        self.trigger_event(Case.Shortlisted, actor=actor_record(actor))

    def decline_shortlist(self, *, actor: dict, reason: str) -> None:
        self._require(Case.NotShortlisted)
        self._require_program(Case.NotShortlisted, Program.OPEN_COMPETITION)
        self.trigger_event(Case.NotShortlisted, actor=actor_record(actor), reason=_text("reason", reason))

    def sign_task_book(self, *, actor: dict, task_book: dict) -> None:
        self._require(Case.TaskBookSigned)
        _check_milestones(task_book)
        self.trigger_event(Case.TaskBookSigned, actor=actor_record(actor), task_book=task_book)

    def report_milestone(self, *, actor: dict, milestone_id: str, summary: str, evidence: list[str]) -> None:
        self._require(Case.MilestoneReported)
        self._require_milestone(milestone_id)
        if self.milestones[milestone_id] in ("reported", "accepted"):
            raise DomainRuleViolation(
                "milestone_id", f"milestone {milestone_id} is {self.milestones[milestone_id]}: "
                "a new report follows only a report sent back")
        self.trigger_event(
            Case.MilestoneReported, actor=actor_record(actor), milestone_id=milestone_id,
            summary=summary, evidence=list(evidence),
        )

    def mark_milestone_overdue(self, *, actor: dict, milestone_id: str, due_on: date) -> None:
        self._require(Case.MilestoneOverdue)
        self._require_milestone(milestone_id)
        # Overdue: no report at all, or only one the ministry sent back. A report awaiting
        # the ministry's decision is the unit's part done; an accepted one is done.
        if self.milestones[milestone_id] not in ("pending", "returned"):
            raise DomainRuleViolation(
                "milestone_id", f"milestone {milestone_id} is {self.milestones[milestone_id]}, not pending"
            )
        self.trigger_event(Case.MilestoneOverdue, actor=actor_record(actor), milestone_id=milestone_id, due_on=due_on)

    def accept_milestone_report(self, *, actor: dict, milestone_id: str, note: str = "") -> None:
        self._require(Case.MilestoneReportAccepted)
        self._require_reported(milestone_id)
        self.trigger_event(Case.MilestoneReportAccepted, actor=actor_record(actor), milestone_id=milestone_id, note=note)

    def return_milestone_report(self, *, actor: dict, milestone_id: str, reasons: list[str]) -> None:
        self._require(Case.MilestoneReportReturned)
        self._require_reported(milestone_id)
        if not reasons or any(not isinstance(r, str) or not r.strip() for r in reasons):
            raise DomainRuleViolation("reasons", "a report sent back states at least one reason, none blank")
        self.trigger_event(
            Case.MilestoneReportReturned, actor=actor_record(actor), milestone_id=milestone_id, reasons=list(reasons))

    def _require_reported(self, milestone_id: str) -> None:
        self._require_milestone(milestone_id)
        if self.milestones[milestone_id] != "reported":
            raise DomainRuleViolation(
                "milestone_id", f"milestone {milestone_id} is {self.milestones[milestone_id]}: "
                "no report awaits the ministry's decision")

    def amend_task_book(
        self, *, actor: dict, amendment_id: str, reason: str, task_book: dict, signatories: list[dict],
    ) -> None:
        self._require(Case.TaskBookAmended)
        _text("reason", reason)
        if amendment_id in self.amendments:
            raise DomainRuleViolation("amendment_id", f"amendment {amendment_id} is already recorded")
        _check_milestones(task_book)
        parties = {s.get("party") for s in (self.task_book or {}).get("signatories", [])}
        signed = {s.get("party") for s in signatories}
        missing = sorted(p for p in parties - signed if p)
        if missing or not signed:
            raise DomainRuleViolation(
                "signatories", "an amendment is signed by every party of the task book"
                + (f"; missing {', '.join(missing)}" if missing else ""))
        self.trigger_event(
            Case.TaskBookAmended, actor=actor_record(actor), amendment_id=amendment_id, reason=reason,
            task_book=task_book, signatories=list(signatories),
        )

    def record_work_plan(self, *, actor: dict, year: int, plan: str, evidence: list[str]) -> None:
        self._require(Case.AnnualWorkPlanRecorded)
        if year in self.work_plans:
            raise DomainRuleViolation("year", f"the work plan for {year} is already recorded")
        self.trigger_event(
            Case.AnnualWorkPlanRecorded, actor=actor_record(actor), year=year, plan=_text("plan", plan),
            evidence=list(evidence))

    def declare_completion(self, *, actor: dict, summary: str, evidence: list[str]) -> None:
        self._require(Case.CompletionDeclared)
        if self.completion_declared:
            raise DomainRuleViolation("completion", "completion is already declared")
        self.trigger_event(
            Case.CompletionDeclared, actor=actor_record(actor), summary=_text("summary", summary), evidence=list(evidence))

    def _require_milestone(self, milestone_id: str) -> None:
        if milestone_id not in self.milestones:
            raise DomainRuleViolation("milestone_id", f"the task book has no milestone {milestone_id!r}")

    def commission_evaluator(self, *, actor: dict, evaluator: str) -> None:
        self._require(Case.EvaluatorCommissioned)
        # 220号 三(四): the third party evaluates once the unit has completed its task
        # ("完成揭榜任务后……委托第三方专业机构和专家开展评价工作").
        if not self.completion_declared:
            raise IllegalTransition(
                event="EvaluatorCommissioned", state=self.state, allowed=self.ALLOWED_FROM[Case.EvaluatorCommissioned],
                detail="the unit has not declared completion: a third party evaluates a completed task",
            )
        self.trigger_event(Case.EvaluatorCommissioned, actor=actor_record(actor), evaluator=evaluator)

    def record_evaluation(
        self, *, actor: dict, score: float, conclusion: str, report: list[str], assessment: list[dict],
    ) -> None:
        self._require(Case.ThirdPartyEvaluated)
        if self.evaluator is None:
            raise DomainRuleViolation("evaluator", "no third-party institution has been commissioned for this case")
        if actor.get("org") != self.evaluator:
            raise DomainRuleViolation(
                "evaluator", f"the case was commissioned to {self.evaluator}, not to {actor.get('org')}"
            )
        if not report:
            raise DomainRuleViolation("report", "an evaluation is recorded with its report (at least one document)")
        self.trigger_event(
            Case.ThirdPartyEvaluated, actor=actor_record(actor), score=float(score),
            conclusion=_text("conclusion", conclusion), report=list(report),
            assessment=_check_assessment(assessment, (self.task_book or {}).get("targets") or []),
        )

    def _selection_sources(self) -> tuple[str, ...]:
        # 揭榜挂帅: selection follows the third-party evaluation; 标志性产品:
        # the ministry's experts choose among the endorsed products.
        if self.program == Program.OPEN_COMPETITION:
            return (State.EVALUATED,)
        return (State.PROVINCE_ENDORSED,)

    def select(self, *, actor: dict) -> None:
        self._require(Case.Selected, allowed=self._selection_sources())
        self.trigger_event(Case.Selected, actor=actor_record(actor))

    def decline_selection(self, *, actor: dict, reason: str) -> None:
        self._require(Case.NotSelected, allowed=self._selection_sources())
        self.trigger_event(Case.NotSelected, actor=actor_record(actor), reason=_text("reason", reason))

    # -- publication ----------------------------------------------------------

    def open_public_notice(self, *, actor: dict, notice_id: str, starts_on: date, ends_on: date) -> None:
        self._require(Case.PublicNoticeOpened)
        if not self.public_notice_required:
            raise DomainRuleViolation("notice", "this case's call publishes without a public notice")
        if ends_on < starts_on:
            raise DomainRuleViolation("ends_on", "a notice cannot end before it starts")
        self.trigger_event(
            Case.PublicNoticeOpened, actor=actor_record(actor), notice_id=notice_id,
            starts_on=starts_on, ends_on=ends_on,
        )

    def raise_objection(
        self, *, actor: dict, objection_id: str, reasons: str, today: date, evidence: list[str] | None = None,
    ) -> None:
        self._require(Case.ObjectionRaised)
        _text("reasons", reasons)
        assert self.notice_starts_on is not None and self.notice_ends_on is not None
        if today < self.notice_starts_on:
            raise DomainRuleViolation("objection", f"the public notice starts on {self.notice_starts_on.isoformat()}")
        if today > self.notice_ends_on:
            raise DomainRuleViolation("objection", f"the public notice ended on {self.notice_ends_on.isoformat()}")
        if objection_id in self.open_objections:
            raise DomainRuleViolation("objection_id", f"objection {objection_id} is already open")
        self.trigger_event(Case.ObjectionRaised, actor=actor_record(actor), objection_id=objection_id, reasons=reasons,
                           evidence=list(evidence or []))

    def resolve_objection(self, *, actor: dict, objection_id: str, upheld: bool, resolution: str) -> None:
        self._require(Case.ObjectionResolved)
        if objection_id not in self.open_objections:
            raise DomainRuleViolation("objection_id", f"no open objection {objection_id!r} on this case")
        _text("resolution", resolution)  # the case records why
        self.trigger_event(
            Case.ObjectionResolved, actor=actor_record(actor), objection_id=objection_id,
            upheld=upheld, resolution=resolution,
        )

    def publish(self, *, actor: dict, list_id: str, today: date) -> None:
        allowed = (State.NOTICE_OPEN,) if self.public_notice_required else (State.SELECTED,)
        self._require(Case.Published, allowed=allowed)
        if self.public_notice_required:
            assert self.notice_ends_on is not None
            if today <= self.notice_ends_on:
                raise DomainRuleViolation(
                    "notice", f"the public notice runs until {self.notice_ends_on.isoformat()} inclusive"
                )
            if self.open_objections:
                raise DomainRuleViolation(
                    "objections", f"objections still open: {', '.join(self.open_objections)}"
                )
        self.trigger_event(Case.Published, actor=actor_record(actor), list_id=list_id)

    # -- documents --------------------------------------------------------------

    def attach_evidence(
        self, *, actor: dict, sha256: str, size: int, content_type: str, filename: str, step: str
    ) -> None:
        self.trigger_event(
            Case.EvidenceAttached, actor=actor_record(actor), sha256=sha256, size=size,
            content_type=content_type, filename=filename, step=step,
        )

    def supersede_evidence(
        self, *, actor: dict, sha256: str, supersedes: str, size: int, content_type: str,
        filename: str, step: str, reason: str,
    ) -> None:
        self._require(Case.EvidenceSuperseded)
        if supersedes not in self.evidence:
            raise DomainRuleViolation("supersedes", f"{supersedes} is not current evidence of this case")
        if sha256 == supersedes:
            raise DomainRuleViolation("sha256", "a correction must differ from the document it supersedes")
        self.trigger_event(
            Case.EvidenceSuperseded, actor=actor_record(actor), sha256=sha256, supersedes=supersedes,
            size=size, content_type=content_type, filename=filename, step=step,
            reason=_text("reason", reason),
        )


_S = State
Case.ALLOWED_FROM = {
    Case.Resubmitted: (_S.RETURNED,),
    # Until a decision on selection: a unit may give up its application or its task.
    Case.Withdrawn: (
        _S.SUBMITTED, _S.RETURNED, _S.CITY_RECOMMENDED, _S.PROVINCE_ENDORSED,
        _S.SHORTLISTED, _S.IN_IMPLEMENTATION, _S.EVALUATED,
    ),
    Case.VerificationRecorded: _S.AWAITING_VERIFICATION,
    Case.CityRecommended: _S.AWAITING_VERIFICATION,
    Case.ProvinceEndorsed: _S.AWAITING_VERIFICATION,
    Case.EndorsementWithdrawn: (_S.PROVINCE_ENDORSED,),
    Case.ReturnedForCorrection: _S.AWAITING_VERIFICATION,
    Case.Rejected: _S.AWAITING_VERIFICATION,
    Case.ExpertReviewed: (_S.PROVINCE_ENDORSED,),
    Case.Shortlisted: (_S.PROVINCE_ENDORSED,),
    Case.NotShortlisted: (_S.PROVINCE_ENDORSED,),
    Case.TaskBookSigned: (_S.SHORTLISTED,),
    Case.MilestoneReported: (_S.IN_IMPLEMENTATION,),
    Case.MilestoneOverdue: (_S.IN_IMPLEMENTATION,),
    Case.MilestoneReportAccepted: (_S.IN_IMPLEMENTATION,),
    Case.MilestoneReportReturned: (_S.IN_IMPLEMENTATION,),
    Case.TaskBookAmended: (_S.IN_IMPLEMENTATION,),
    Case.AnnualWorkPlanRecorded: (_S.IN_IMPLEMENTATION,),
    Case.CompletionDeclared: (_S.IN_IMPLEMENTATION,),
    Case.EvaluatorCommissioned: (_S.IN_IMPLEMENTATION,),
    Case.ThirdPartyEvaluated: (_S.IN_IMPLEMENTATION,),
    Case.Selected: (_S.EVALUATED, _S.PROVINCE_ENDORSED),
    Case.NotSelected: (_S.EVALUATED, _S.PROVINCE_ENDORSED),
    Case.PublicNoticeOpened: (_S.SELECTED,),
    Case.ObjectionRaised: (_S.NOTICE_OPEN,),
    Case.ObjectionResolved: (_S.NOTICE_OPEN,),
    Case.Published: (_S.NOTICE_OPEN, _S.SELECTED),
    Case.EvidenceAttached: _S.ALL,
    Case.EvidenceSuperseded: _S.ALL,
}

# Which service may append which event. The ledger refuses a save that carries
# an event its service does not own (see shared.infra.ledger.CaseLedger).
OWNERS: dict[str, frozenset[type]] = {
    "intake": frozenset({Case.Submitted, Case.Resubmitted, Case.Withdrawn}),
    "verification": frozenset({
        Case.VerificationRecorded, Case.CityRecommended, Case.ProvinceEndorsed,
        Case.EndorsementWithdrawn, Case.ReturnedForCorrection, Case.Rejected,
    }),
    "review": frozenset({
        Case.ExpertReviewed, Case.Shortlisted, Case.NotShortlisted, Case.TaskBookSigned,
        Case.MilestoneReported, Case.MilestoneOverdue, Case.EvaluatorCommissioned,
        Case.ThirdPartyEvaluated, Case.Selected, Case.NotSelected,
        Case.MilestoneReportAccepted, Case.MilestoneReportReturned, Case.TaskBookAmended,
        Case.AnnualWorkPlanRecorded, Case.CompletionDeclared,
    }),
    "publication": frozenset({
        Case.PublicNoticeOpened, Case.ObjectionRaised, Case.ObjectionResolved, Case.Published,
    }),
    "documents": frozenset({Case.EvidenceAttached, Case.EvidenceSuperseded}),
}

EVENT_TYPES: dict[str, type] = {cls.__name__: cls for owned in OWNERS.values() for cls in owned}


def owner_of(event_class: type) -> str:
    for service, owned in OWNERS.items():
        if event_class in owned:
            return service
    raise KeyError(event_class.__name__)


# The stage a case is in after an event, for read models that see integration
# events rather than the aggregate. tests/unit/test_state_after.py checks this
# table against the aggregate itself, so the two cannot drift apart.
_STATE_AFTER: dict[str, str | None] = {
    "Submitted": State.SUBMITTED,
    "Resubmitted": State.SUBMITTED,
    "Withdrawn": State.WITHDRAWN,
    "CityRecommended": State.CITY_RECOMMENDED,
    "ProvinceEndorsed": State.PROVINCE_ENDORSED,
    "ReturnedForCorrection": State.RETURNED,
    "Rejected": State.REJECTED,
    "Shortlisted": State.SHORTLISTED,
    "NotShortlisted": State.NOT_SHORTLISTED,
    "TaskBookSigned": State.IN_IMPLEMENTATION,
    "ThirdPartyEvaluated": State.EVALUATED,
    "Selected": State.SELECTED,
    "NotSelected": State.NOT_SELECTED,
    "PublicNoticeOpened": State.NOTICE_OPEN,
    "Published": State.PUBLISHED,
}


def state_after(event_type: str, payload: dict, previous: str | None) -> str:
    if event_type == "ObjectionResolved":
        return State.DELISTED if payload.get("upheld") else (previous or State.NOTICE_OPEN)
    if event_type == "EndorsementWithdrawn":
        return payload["back_to"]
    after = _STATE_AFTER.get(event_type)
    if after is not None:
        return after
    if event_type not in EVENT_TYPES:
        raise KeyError(f"unknown case event {event_type!r}")
    if previous is None:
        raise ValueError(f"{event_type} cannot be the first event of a case")
    return previous
