"""The Case aggregate: one application (申请) and its whole history, with the commands that extend it.

This is the shared kernel every service deploys. It holds the states and guards that
the two notices impose on one application, and nothing else: quotas, scores, notices
and documents live in the services that own them.

A command checks its arguments and the case, then triggers one event. The states it
may act from are the transition table's (transitions.py), checked by `_require`; the
guards that need more than the state (the awaited level, the program, completion
before evaluation, the notice period, open objections) are written out in the command.
The events are those of events.py, taken into the class: eventsourcing makes each the
class `Case.<Name>`, the one recorded and replayed.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from shared.domain.actors import Actor, actor_record
from shared.domain.case import events
from shared.domain.case.arguments import check_milestones, checked_assessment, nonblank, reason_list
from shared.domain.case.states import VALID_CHAINS, Level, Program, State, awaiting_level
from shared.domain.case.transitions import allowed_from, state_after
from shared.domain.erasure import keys_to_erase
from shared.domain.errors import DomainRuleViolation, IllegalTransition
from shared.domain.registration_area import RegistrationCheck


class Case(Aggregate):
    """One application (申请) and its whole history."""

    Submitted = events.Submitted
    Resubmitted = events.Resubmitted
    Withdrawn = events.Withdrawn
    VerificationRecorded = events.VerificationRecorded
    CityRecommended = events.CityRecommended
    ProvinceEndorsed = events.ProvinceEndorsed
    EndorsementWithdrawn = events.EndorsementWithdrawn
    ReturnedForCorrection = events.ReturnedForCorrection
    Rejected = events.Rejected
    ExpertReviewed = events.ExpertReviewed
    Shortlisted = events.Shortlisted
    NotShortlisted = events.NotShortlisted
    TaskBookSigned = events.TaskBookSigned
    MilestoneReported = events.MilestoneReported
    MilestoneOverdue = events.MilestoneOverdue
    MilestoneReportAccepted = events.MilestoneReportAccepted
    MilestoneReportReturned = events.MilestoneReportReturned
    TaskBookAmended = events.TaskBookAmended
    AnnualWorkPlanRecorded = events.AnnualWorkPlanRecorded
    CompletionDeclared = events.CompletionDeclared
    EvaluatorCommissioned = events.EvaluatorCommissioned
    ThirdPartyEvaluated = events.ThirdPartyEvaluated
    Selected = events.Selected
    NotSelected = events.NotSelected
    PublicNoticeOpened = events.PublicNoticeOpened
    ObjectionRaised = events.ObjectionRaised
    ObjectionResolved = events.ObjectionResolved
    Published = events.Published
    EvidenceAttached = events.EvidenceAttached
    EvidenceSuperseded = events.EvidenceSuperseded
    PersonalDataErased = events.PersonalDataErased

    # Snapshots hold the attributes below; v2 added `erased_keys` and `withheld_documents` (issue #21).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["erased_keys"] = []
        state["withheld_documents"] = []

    def __init__(
        self, *, actor: Actor, call_id: str, call_version: int, program: str, direction: str,
        applicant: dict[str, Any], province: str, city: str | None, chain: list[str], public_notice_required: bool,
        title: str, application: dict[str, Any], registration_check: dict[str, str | None],
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
        # Kept as its record: aggregate state must stay plain data for snapshots.
        self.registration_record = dict(registration_check)
        self.submitted_by = actor
        self.state = state_after("Submitted", {}, None)
        self.round = 1
        self.verifications: list[dict[str, Any]] = []
        self.expert_reviews = 0
        self.scored_by: list[str] = []
        self.milestones: dict[str, str] = {}
        self.task_book: dict[str, Any] | None = None
        self.amendments: list[str] = []
        self.work_plans: list[int] = []
        self.completion_declared = False
        self.evaluator: str | None = None
        self.notice_starts_on: date | None = None
        self.notice_ends_on: date | None = None
        self.open_objections: list[str] = []
        self.evidence: list[str] = []
        self.superseded: dict[str, str] = {}  # each superseded document -> its correction
        self.erased_keys: list[str] = []  # keys of data subjects whose data was erased
        self.withheld_documents: list[str] = []  # evidence withheld at a data subject's request

    # -- creation -----------------------------------------------------------

    @classmethod
    def submit(
        cls, *, actor: Actor, call_id: str, call_version: int, program: str,
        direction: str, applicant: dict[str, Any], province: str, city: str | None,
        chain: list[str], public_notice_required: bool, title: str,
        application: dict[str, Any], registration_check: RegistrationCheck, case_id: UUID | None = None,
    ) -> Case:
        if program not in Program.ALL:
            raise DomainRuleViolation("program", f"unknown program kind {program!r}")
        if list(chain) not in VALID_CHAINS:
            raise DomainRuleViolation(
                "chain", f"the chain of levels is ['province'] or ['city', 'province'], not {list(chain)!r}")
        if Level.CITY in chain and not city:
            raise DomainRuleViolation("city", "this region's chain has a city level: the city code is required")
        return cls._create(
            cls.Submitted,
            id=case_id or uuid4(),
            actor=actor_record(actor), call_id=call_id, call_version=call_version,
            program=program, direction=direction, applicant=applicant,
            province=province, city=city if Level.CITY in chain else None,
            chain=list(chain), public_notice_required=public_notice_required,
            title=title, application=application, registration_check=registration_check.as_record(),
        )

    # -- derived facts ----------------------------------------------------------

    @property
    def registration_check(self) -> RegistrationCheck:
        """The credit code's registration area against the region filed as (recorded, never refused)."""
        return RegistrationCheck.from_record(self.registration_record)

    @property
    def awaiting_level(self) -> str | None:
        """The verification level the case waits for, if it waits for one."""
        return awaiting_level(self.state, self.chain)

    # -- guards ---------------------------------------------------------------

    def _require(self, event_class: type, *, allowed: tuple[str, ...] | None = None) -> None:
        allowed = allowed if allowed is not None else allowed_from(event_class.__name__)
        if self.state not in allowed:
            raise IllegalTransition(event=event_class.__name__, state=self.state, allowed=allowed)

    def _refuse(self, event_class: type, detail: str) -> IllegalTransition:
        """The refusal of a step the state allows but a guard beyond the state does not."""
        return IllegalTransition(
            event=event_class.__name__, state=self.state, allowed=allowed_from(event_class.__name__), detail=detail)

    def _require_level(self, event_class: type, level: str) -> None:
        self._require(event_class)
        if self.awaiting_level != level:
            raise self._refuse(
                event_class, f"the case waits for the {self.awaiting_level} level, not the {level} level")

    def _require_program(self, event_class: type, program: str) -> None:
        if self.program != program:
            raise self._refuse(event_class, f"only {program} cases have this step; this case is {self.program}")

    # -- intake ---------------------------------------------------------------

    def resubmit(self, *, actor: Actor, application: dict[str, Any], changes: str) -> None:
        self._require(Case.Resubmitted)
        self.trigger_event(Case.Resubmitted, actor=actor_record(actor), application=application,
                           changes=nonblank("changes", changes))

    def withdraw(self, *, actor: Actor, reason: str) -> None:
        self._require(Case.Withdrawn)
        self.trigger_event(Case.Withdrawn, actor=actor_record(actor), reason=nonblank("reason", reason))

    # -- verification ---------------------------------------------------------

    def record_verification(self, *, actor: Actor, level: str, checks: dict[str, Any]) -> None:
        self._require_level(Case.VerificationRecorded, level)
        self.trigger_event(Case.VerificationRecorded, actor=actor_record(actor), level=level, checks=checks)

    def recommend_by_city(self, *, actor: Actor, reason: str, rank: int) -> None:
        self._require_level(Case.CityRecommended, Level.CITY)
        self.trigger_event(
            Case.CityRecommended, actor=actor_record(actor), reason=nonblank("reason", reason), rank=rank)

    def endorse_by_province(self, *, actor: Actor, reason: str, rank: int) -> None:
        self._require_level(Case.ProvinceEndorsed, Level.PROVINCE)
        self.trigger_event(
            Case.ProvinceEndorsed, actor=actor_record(actor), reason=nonblank("reason", reason), rank=rank)

    def withdraw_endorsement(self, *, actor: Actor, reason: str) -> None:
        """The province takes back its endorsement (freeing its place) before the ministry acts."""
        self._require(Case.EndorsementWithdrawn)
        if self.expert_reviews:
            raise self._refuse(Case.EndorsementWithdrawn, "the ministry's experts have already reviewed the case")
        back_to = State.CITY_RECOMMENDED if Level.CITY in self.chain else State.SUBMITTED
        self.trigger_event(Case.EndorsementWithdrawn, actor=actor_record(actor),
                           reason=nonblank("reason", reason), back_to=back_to)

    def return_for_correction(self, *, actor: Actor, level: str, reasons: list[str]) -> None:
        self._require_level(Case.ReturnedForCorrection, level)
        self.trigger_event(Case.ReturnedForCorrection, actor=actor_record(actor), level=level,
                           reasons=reason_list("reasons", reasons, "a return for correction"))

    def reject(self, *, actor: Actor, level: str, reason: str) -> None:
        self._require_level(Case.Rejected, level)
        self.trigger_event(Case.Rejected, actor=actor_record(actor), level=level, reason=nonblank("reason", reason))

    # -- review ---------------------------------------------------------------

    def record_expert_review(self, *, actor: Actor, expert: str, scores: dict[str, float], comment: str) -> None:
        self._require(Case.ExpertReviewed)
        if expert in self.scored_by:
            raise DomainRuleViolation("expert", f"{expert} has already scored this case; a score is final")
        self.trigger_event(Case.ExpertReviewed, actor=actor_record(actor), expert=expert, scores=scores,
                           comment=comment)

    def shortlist(self, *, actor: Actor) -> None:
        self._require(Case.Shortlisted)
        self._require_program(Case.Shortlisted, Program.OPEN_COMPETITION)
        self.trigger_event(Case.Shortlisted, actor=actor_record(actor))

    def decline_shortlist(self, *, actor: Actor, reason: str) -> None:
        self._require(Case.NotShortlisted)
        self._require_program(Case.NotShortlisted, Program.OPEN_COMPETITION)
        self.trigger_event(Case.NotShortlisted, actor=actor_record(actor), reason=nonblank("reason", reason))

    def sign_task_book(self, *, actor: Actor, task_book: dict[str, Any]) -> None:
        self._require(Case.TaskBookSigned)
        check_milestones(task_book)
        self.trigger_event(Case.TaskBookSigned, actor=actor_record(actor), task_book=task_book)

    def report_milestone(self, *, actor: Actor, milestone_id: str, summary: str, evidence: list[str]) -> None:
        self._require(Case.MilestoneReported)
        self._require_milestone(milestone_id)
        if self.milestones[milestone_id] in ("reported", "accepted"):
            raise DomainRuleViolation(
                "milestone_id", f"milestone {milestone_id} is {self.milestones[milestone_id]}: "
                "a new report follows only a report sent back")
        self.trigger_event(Case.MilestoneReported, actor=actor_record(actor), milestone_id=milestone_id,
                           summary=summary, evidence=list(evidence))

    def mark_milestone_overdue(self, *, actor: Actor, milestone_id: str, due_on: date) -> None:
        self._require(Case.MilestoneOverdue)
        self._require_milestone(milestone_id)
        # Overdue: no report at all, or only one the ministry sent back. A report awaiting
        # the ministry's decision is the unit's part done; an accepted one is done.
        if self.milestones[milestone_id] not in ("pending", "returned"):
            raise DomainRuleViolation(
                "milestone_id", f"milestone {milestone_id} is {self.milestones[milestone_id]}, not pending")
        self.trigger_event(Case.MilestoneOverdue, actor=actor_record(actor), milestone_id=milestone_id, due_on=due_on)

    def accept_milestone_report(self, *, actor: Actor, milestone_id: str, note: str = "") -> None:
        self._require(Case.MilestoneReportAccepted)
        self._require_reported(milestone_id)
        self.trigger_event(Case.MilestoneReportAccepted, actor=actor_record(actor), milestone_id=milestone_id,
                           note=note)

    def return_milestone_report(self, *, actor: Actor, milestone_id: str, reasons: list[str]) -> None:
        self._require(Case.MilestoneReportReturned)
        self._require_reported(milestone_id)
        self.trigger_event(Case.MilestoneReportReturned, actor=actor_record(actor), milestone_id=milestone_id,
                           reasons=reason_list("reasons", reasons, "a report sent back"))

    def _require_milestone(self, milestone_id: str) -> None:
        if milestone_id not in self.milestones:
            raise DomainRuleViolation("milestone_id", f"the task book has no milestone {milestone_id!r}")

    def _require_reported(self, milestone_id: str) -> None:
        self._require_milestone(milestone_id)
        if self.milestones[milestone_id] != "reported":
            raise DomainRuleViolation(
                "milestone_id", f"milestone {milestone_id} is {self.milestones[milestone_id]}: "
                "no report awaits the ministry's decision")

    def amend_task_book(
        self, *, actor: Actor, amendment_id: str, reason: str, task_book: dict[str, Any],
        signatories: list[dict[str, Any]],
    ) -> None:
        self._require(Case.TaskBookAmended)
        nonblank("reason", reason)
        if amendment_id in self.amendments:
            raise DomainRuleViolation("amendment_id", f"amendment {amendment_id} is already recorded")
        check_milestones(task_book)
        parties = {s.get("party") for s in (self.task_book or {}).get("signatories", [])}
        signed = {s.get("party") for s in signatories}
        missing = sorted(p for p in parties - signed if p)
        if missing or not signed:
            raise DomainRuleViolation(
                "signatories", "an amendment is signed by every party of the task book"
                + (f"; missing {', '.join(missing)}" if missing else ""))
        self.trigger_event(Case.TaskBookAmended, actor=actor_record(actor), amendment_id=amendment_id, reason=reason,
                           task_book=task_book, signatories=list(signatories))

    def record_work_plan(self, *, actor: Actor, year: int, plan: str, evidence: list[str]) -> None:
        self._require(Case.AnnualWorkPlanRecorded)
        if year in self.work_plans:
            raise DomainRuleViolation("year", f"the work plan for {year} is already recorded")
        self.trigger_event(Case.AnnualWorkPlanRecorded, actor=actor_record(actor), year=year,
                           plan=nonblank("plan", plan), evidence=list(evidence))

    def declare_completion(self, *, actor: Actor, summary: str, evidence: list[str]) -> None:
        self._require(Case.CompletionDeclared)
        if self.completion_declared:
            raise DomainRuleViolation("completion", "completion is already declared")
        self.trigger_event(Case.CompletionDeclared, actor=actor_record(actor), summary=nonblank("summary", summary),
                           evidence=list(evidence))

    def commission_evaluator(self, *, actor: Actor, evaluator: str) -> None:
        self._require(Case.EvaluatorCommissioned)
        # 220号 三(四): the third party evaluates once the unit has completed its task
        # ("完成揭榜任务后……委托第三方专业机构和专家开展评价工作").
        if not self.completion_declared:
            raise self._refuse(
                Case.EvaluatorCommissioned,
                "the unit has not declared completion: a third party evaluates a completed task")
        self.trigger_event(Case.EvaluatorCommissioned, actor=actor_record(actor), evaluator=evaluator)

    def record_evaluation(
        self, *, actor: Actor, score: float, conclusion: str, report: list[str], assessment: list[dict[str, Any]],
    ) -> None:
        self._require(Case.ThirdPartyEvaluated)
        if self.evaluator is None:
            raise DomainRuleViolation("evaluator", "no third-party institution has been commissioned for this case")
        if actor.get("org") != self.evaluator:
            raise DomainRuleViolation(
                "evaluator", f"the case was commissioned to {self.evaluator}, not to {actor.get('org')}")
        if not report:
            raise DomainRuleViolation("report", "an evaluation is recorded with its report (at least one document)")
        self.trigger_event(Case.ThirdPartyEvaluated, actor=actor_record(actor), score=float(score),
                           conclusion=nonblank("conclusion", conclusion), report=list(report),
                           assessment=checked_assessment(assessment, (self.task_book or {}).get("targets") or []))

    def _selection_sources(self) -> tuple[str, ...]:
        # 揭榜挂帅: selection follows the third-party evaluation; 标志性产品:
        # the ministry's experts choose among the endorsed products.
        if self.program == Program.OPEN_COMPETITION:
            return (State.EVALUATED,)
        return (State.PROVINCE_ENDORSED,)

    def select(self, *, actor: Actor) -> None:
        self._require(Case.Selected, allowed=self._selection_sources())
        self.trigger_event(Case.Selected, actor=actor_record(actor))

    def decline_selection(self, *, actor: Actor, reason: str) -> None:
        self._require(Case.NotSelected, allowed=self._selection_sources())
        self.trigger_event(Case.NotSelected, actor=actor_record(actor), reason=nonblank("reason", reason))

    # -- publication ----------------------------------------------------------

    def open_public_notice(self, *, actor: Actor, notice_id: str, starts_on: date, ends_on: date) -> None:
        self._require(Case.PublicNoticeOpened)
        if not self.public_notice_required:
            raise DomainRuleViolation("notice", "this case's call publishes without a public notice")
        if ends_on < starts_on:
            raise DomainRuleViolation("ends_on", "a notice cannot end before it starts")
        self.trigger_event(Case.PublicNoticeOpened, actor=actor_record(actor), notice_id=notice_id, starts_on=starts_on,
                           ends_on=ends_on)

    def raise_objection(
        self, *, actor: Actor, objection_id: str, reasons: str, today: date, evidence: list[str] | None = None,
    ) -> None:
        self._require(Case.ObjectionRaised)
        nonblank("reasons", reasons)
        assert self.notice_starts_on is not None and self.notice_ends_on is not None
        if today < self.notice_starts_on:
            raise DomainRuleViolation("objection", f"the public notice starts on {self.notice_starts_on.isoformat()}")
        if today > self.notice_ends_on:
            raise DomainRuleViolation("objection", f"the public notice ended on {self.notice_ends_on.isoformat()}")
        if objection_id in self.open_objections:
            raise DomainRuleViolation("objection_id", f"objection {objection_id} is already open")
        self.trigger_event(Case.ObjectionRaised, actor=actor_record(actor), objection_id=objection_id, reasons=reasons,
                           evidence=list(evidence or []))

    def resolve_objection(self, *, actor: Actor, objection_id: str, upheld: bool, resolution: str) -> None:
        self._require(Case.ObjectionResolved)
        if objection_id not in self.open_objections:
            raise DomainRuleViolation("objection_id", f"no open objection {objection_id!r} on this case")
        nonblank("resolution", resolution)  # the case records why
        self.trigger_event(Case.ObjectionResolved, actor=actor_record(actor), objection_id=objection_id, upheld=upheld,
                           resolution=resolution)

    def publish(self, *, actor: Actor, list_id: str, today: date) -> None:
        allowed = (State.NOTICE_OPEN,) if self.public_notice_required else (State.SELECTED,)
        self._require(Case.Published, allowed=allowed)
        if self.public_notice_required:
            assert self.notice_ends_on is not None
            if today <= self.notice_ends_on:
                raise DomainRuleViolation(
                    "notice", f"the public notice runs until {self.notice_ends_on.isoformat()} inclusive")
            if self.open_objections:
                raise DomainRuleViolation("objections", f"objections still open: {', '.join(self.open_objections)}")
        self.trigger_event(Case.Published, actor=actor_record(actor), list_id=list_id)

    # -- documents --------------------------------------------------------------

    def attach_evidence(
        self, *, actor: Actor, sha256: str, size: int, content_type: str, filename: str, step: str
    ) -> None:
        self.trigger_event(Case.EvidenceAttached, actor=actor_record(actor), sha256=sha256, size=size,
                           content_type=content_type, filename=filename, step=step)

    def supersede_evidence(
        self, *, actor: Actor, sha256: str, supersedes: str, size: int, content_type: str,
        filename: str, step: str, reason: str,
    ) -> None:
        self._require(Case.EvidenceSuperseded)
        if supersedes not in self.evidence:
            raise DomainRuleViolation("supersedes", f"{supersedes} is not current evidence of this case")
        if sha256 == supersedes:
            raise DomainRuleViolation("sha256", "a correction must differ from the document it supersedes")
        self.trigger_event(Case.EvidenceSuperseded, actor=actor_record(actor), sha256=sha256, supersedes=supersedes,
                           size=size, content_type=content_type, filename=filename, step=step,
                           reason=nonblank("reason", reason))

    # -- personal information ---------------------------------------------------

    def erase_personal_data(self, *, actor: Actor, subjects: list[str], keys: list[str], held: set[str],
                            request: str, reason: str, documents: list[str] | tuple[str, ...] = ()) -> None:
        """Records the erasure of `subjects` (paths of data subjects the case's documents hold,
        `held`), whose keys are `keys`, and the withholding of `documents` (evidence of the case that
        holds only their data): what the key store destroys, and the documents service refuses,
        once this is recorded."""
        if not subjects and not documents:
            raise DomainRuleViolation("subjects", "name at least one data subject to erase (or a document to withhold)")
        fresh = keys_to_erase(subjects=subjects, held=held, keys=keys, erased=self.erased_keys)
        not_evidence = sorted(set(documents) - set(self.evidence) - set(self.superseded))
        if not_evidence:
            raise DomainRuleViolation("documents", f"not evidence of this case: {', '.join(not_evidence)}")
        withheld = sorted(set(documents) - set(self.withheld_documents))
        if documents and not withheld:
            raise DomainRuleViolation("documents", "these documents are already withheld")
        self.trigger_event(Case.PersonalDataErased, actor=actor_record(actor), subjects=sorted(set(subjects)),
                           keys=fresh, documents=withheld, request=nonblank("request", request),
                           reason=nonblank("reason", reason))
