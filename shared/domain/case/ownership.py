"""Which service may append which event of a case.

The ledger refuses a save that carries an event its service does not own (see
shared.infra.ledger.CaseLedger).
"""

from __future__ import annotations

from shared.domain.case.aggregate import Case

OWNERS: dict[str, frozenset[type]] = {
    "intake": frozenset({Case.Submitted, Case.Resubmitted, Case.Withdrawn, Case.PersonalDataErased}),
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

#: Every event class of a case, by the name read models and integration events know it by.
EVENT_TYPES: dict[str, type] = {cls.__name__: cls for owned in OWNERS.values() for cls in owned}


def owner_of(event_class: type) -> str:
    for service, owned in OWNERS.items():
        if event_class in owned:
            return service
    raise KeyError(event_class.__name__)
