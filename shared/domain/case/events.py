"""What can happen to a case: its events, each with its fields and what it records on the case.

Every event carries the acting party (`actor`: subject, role, organisation) so that
the stream alone answers "who did what, when". Event classes are never edited in
place: a change of shape is a new `class_version` with an upcaster.

An event's effect on the case has two parts. The state it leads to is the
transition table's (transitions.py), read by `CaseEvent.apply` for every event;
what else it records (milestones, objections, evidence, …) is its own `record_on`.

`Case` (aggregate.py) takes each class into its body, where eventsourcing makes it
the class `Case.<Name>`: that class is the one recorded, replayed and used by every
other module (`Case.Submitted`, not `events.Submitted`), and its stored topic is
`shared.domain.case.aggregate:Case.<Name>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.domain import Aggregate

from shared.domain.actors import Actor
from shared.domain.case.transitions import state_after
from shared.domain.personal import ACTOR, BY_SCHEMA, DOCUMENT_AUTHOR, EXPERT, SIGNATORY, classified
from shared.domain.registration_area import NOT_CHECKED

if TYPE_CHECKING:
    from shared.domain.case.aggregate import Case


class CaseEvent(Aggregate.Event):
    actor: Actor
    personal_fields: ClassVar[Mapping[str, str | None]] = classified(actor=ACTOR)

    def apply(self, case: Case) -> None:
        self.record_on(case)
        case.state = state_after(type(self).__name__, vars(self), case.state)

    def record_on(self, case: Case) -> None:
        """What the event records on the case besides its state (most record nothing else)."""


# -- intake ---------------------------------------------------------------------


class Submitted(CaseEvent, Aggregate.Created):
    class_version = 2  # v2 added `registration_check`

    call_id: str
    call_version: int
    program: str
    direction: str  # 揭榜方向 or 征集领域, as the call names it
    applicant: dict[str, Any]  # {"credit_code", "name"}
    province: str  # GB/T 2260 code of the province-level authority
    city: str | None  # GB/T 2260 code, where the chain has a city level
    chain: list[str]  # verification levels in order, e.g. ["city", "province"]
    public_notice_required: bool
    title: str
    application: dict[str, Any]  # the form as submitted
    # The credit code's registration area against the claimed region (RegistrationCheck.as_record)
    registration_check: dict[str, str | None]
    personal_fields = classified(
        call_id=None, program=None, direction=None, applicant=None, province=None, city=None,
        chain=None, title=None, application=BY_SCHEMA, registration_check=None,
    )

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["registration_check"] = NOT_CHECKED.as_record()  # filed before the comparison existed


class Resubmitted(CaseEvent):
    application: dict[str, Any]
    changes: str
    personal_fields = classified(application=BY_SCHEMA, changes=None)

    def record_on(self, case: Case) -> None:
        case.application = self.application
        case.round += 1


class Withdrawn(CaseEvent):
    reason: str
    personal_fields = classified(reason=None)


# -- verification -----------------------------------------------------------------


class VerificationRecorded(CaseEvent):
    level: str
    checks: dict[str, Any]  # {"authenticity": {"passed": bool, "note": str}, ...}
    personal_fields = classified(level=None, checks=BY_SCHEMA)

    def record_on(self, case: Case) -> None:
        case.verifications.append({"level": self.level, "checks": self.checks})


class CityRecommended(CaseEvent):
    reason: str
    rank: int
    personal_fields = classified(reason=None)


class ProvinceEndorsed(CaseEvent):
    reason: str
    rank: int
    personal_fields = classified(reason=None)


class EndorsementWithdrawn(CaseEvent):
    reason: str
    back_to: str  # the state that waits for the province again
    personal_fields = classified(reason=None, back_to=None)


class ReturnedForCorrection(CaseEvent):
    level: str
    reasons: list[str]
    personal_fields = classified(level=None, reasons=None)


class Rejected(CaseEvent):
    level: str
    reason: str
    personal_fields = classified(level=None, reason=None)


# -- review -------------------------------------------------------------------------


class ExpertReviewed(CaseEvent):
    expert: str
    scores: dict[str, float]
    comment: str
    personal_fields = classified(expert=EXPERT, scores=None, comment=None)

    def record_on(self, case: Case) -> None:
        case.expert_reviews += 1
        case.scored_by.append(self.expert)


class Shortlisted(CaseEvent):
    pass


class NotShortlisted(CaseEvent):
    reason: str
    personal_fields = classified(reason=None)


class TaskBookSigned(CaseEvent):
    task_book: dict[str, Any]  # targets, deadline, milestones, signatories
    personal_fields = classified(task_book=BY_SCHEMA)

    def record_on(self, case: Case) -> None:
        case.milestones = {m["id"]: "pending" for m in self.task_book["milestones"]}
        case.task_book = self.task_book


class MilestoneReported(CaseEvent):
    milestone_id: str
    summary: str
    evidence: list[str]
    personal_fields = classified(milestone_id=None, summary=None, evidence=None)

    def record_on(self, case: Case) -> None:
        case.milestones[self.milestone_id] = "reported"


class MilestoneOverdue(CaseEvent):
    milestone_id: str
    due_on: date
    personal_fields = classified(milestone_id=None)

    def record_on(self, case: Case) -> None:
        case.milestones[self.milestone_id] = "overdue"


class MilestoneReportAccepted(CaseEvent):
    milestone_id: str
    note: str
    personal_fields = classified(milestone_id=None, note=None)

    def record_on(self, case: Case) -> None:
        case.milestones[self.milestone_id] = "accepted"


class MilestoneReportReturned(CaseEvent):
    milestone_id: str
    reasons: list[str]
    personal_fields = classified(milestone_id=None, reasons=None)

    def record_on(self, case: Case) -> None:
        case.milestones[self.milestone_id] = "returned"


class TaskBookAmended(CaseEvent):
    """A signed task book changes only by an amendment every party of the book signs."""

    amendment_id: str
    reason: str
    task_book: dict[str, Any]  # the whole task book as amended
    signatories: list[dict[str, Any]]  # [{"party", "name", "signed_on"}], every party of the signed book
    personal_fields = classified(amendment_id=None, reason=None, task_book=BY_SCHEMA, signatories=SIGNATORY)

    def record_on(self, case: Case) -> None:
        case.milestones = {
            m["id"]: case.milestones.get(m["id"], "pending") for m in self.task_book["milestones"]
        }
        case.task_book = self.task_book
        case.amendments.append(self.amendment_id)


class AnnualWorkPlanRecorded(CaseEvent):
    """A year's work plan under the task book, as the province guided it (年度工作计划)."""

    year: int
    plan: str
    evidence: list[str]
    personal_fields = classified(plan=None, evidence=None)

    def record_on(self, case: Case) -> None:
        case.work_plans.append(self.year)


class CompletionDeclared(CaseEvent):
    summary: str
    evidence: list[str]
    personal_fields = classified(summary=None, evidence=None)

    def record_on(self, case: Case) -> None:
        case.completion_declared = True


class EvaluatorCommissioned(CaseEvent):
    evaluator: str  # the third-party institution's organisation code
    personal_fields = classified(evaluator=None)

    def record_on(self, case: Case) -> None:
        case.evaluator = self.evaluator


class ThirdPartyEvaluated(CaseEvent):
    """The commissioned institution's evaluation against the task book's targets."""

    class_version = 2  # v2 added `assessment`

    score: float
    conclusion: str
    report: list[str]  # evidence sha256 digests
    assessment: list[dict[str, Any]]  # [{"target", "met", "finding"}], one per target of the task book
    personal_fields = classified(conclusion=None, report=None, assessment=BY_SCHEMA)

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["assessment"] = []  # recorded before targets were assessed one by one


class Selected(CaseEvent):
    pass


class NotSelected(CaseEvent):
    reason: str
    personal_fields = classified(reason=None)


# -- publication ----------------------------------------------------------------------


class PublicNoticeOpened(CaseEvent):
    notice_id: str
    starts_on: date
    ends_on: date  # last working day of the notice period
    personal_fields = classified(notice_id=None)

    def record_on(self, case: Case) -> None:
        case.notice_starts_on = self.starts_on
        case.notice_ends_on = self.ends_on


class ObjectionRaised(CaseEvent):
    """Anyone identified objects to the case's entry during its notice (公示), with reasons and evidence."""

    class_version = 2  # v1 had no evidence
    objection_id: str
    reasons: str
    evidence: list[str]  # SHA-256 digests the objector deposited with the documents service
    personal_fields = classified(objection_id=None, reasons=None, evidence=None)

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["evidence"] = []

    def record_on(self, case: Case) -> None:
        case.open_objections.append(self.objection_id)


class ObjectionResolved(CaseEvent):
    objection_id: str
    upheld: bool
    resolution: str
    personal_fields = classified(objection_id=None, resolution=None)

    def record_on(self, case: Case) -> None:
        case.open_objections.remove(self.objection_id)
        if self.upheld:
            # The entry leaves the list: other objections against it have nothing left to decide.
            case.open_objections.clear()


class Published(CaseEvent):
    list_id: str
    personal_fields = classified(list_id=None)


# -- documents ----------------------------------------------------------------------------


class EvidenceAttached(CaseEvent):
    sha256: str
    size: int
    content_type: str
    filename: str
    step: str
    personal_fields = classified(sha256=None, content_type=None, filename=DOCUMENT_AUTHOR, step=None)

    def record_on(self, case: Case) -> None:
        case.evidence.append(self.sha256)


class EvidenceSuperseded(CaseEvent):
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
    personal_fields = classified(
        sha256=None, supersedes=None, content_type=None, filename=DOCUMENT_AUTHOR, step=None,
        reason=None,
    )

    def record_on(self, case: Case) -> None:
        # In place, so the list keeps the order in which the documents were filed.
        case.evidence[case.evidence.index(self.supersedes)] = self.sha256
        case.superseded[self.supersedes] = self.sha256


# -- personal information (PIPL) ------------------------------------------------------------


class PersonalDataErased(CaseEvent):
    """The keys of some of the case's data subjects were destroyed (个人信息保护法 第四十七条).

    It names whose data (the subjects' paths in the application, e.g. "cover.contact_1"), the
    keys destroyed, the evidence files withheld (documents that hold only that person's data, as
    the request says: their bytes stay under the store's object lock, nobody is given them again),
    the request it answers and why: never the data. Every sealed value under those keys reads as
    erased from then on, in every event before and after this one."""

    subjects: list[str]
    keys: list[str]
    documents: list[str]
    request: str
    reason: str
    personal_fields = classified(subjects=None, keys=None, documents=None, request=None, reason=None)

    def record_on(self, case: Case) -> None:
        case.erased_keys = sorted(set(case.erased_keys) | set(self.keys))
        case.withheld_documents = sorted(set(case.withheld_documents) | set(self.documents))

