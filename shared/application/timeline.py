"""A case's history as its participants may read it: each event's sequence, time, type, who
acted and a summary of what was recorded, with what the reader may not see left out.

The auditors read every payload (services/audit). The applicant and the city and province
officials see, per event type, the fields listed in `SHOWN` and nothing else: a type not
listed shows no summary. An expert's identity, scores and comment are hidden from them (the
review is the ministry's, and experts score blind of each other), and so is the person who
raised an objection during the public notice (anyone identified may object; the case's
parties learn the objection, not the objector). The ministry, which assigns the experts and
handles the objections, also sees `MINISTRY_ALSO`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class Recorded(Protocol):
    """One stored event, read only (shared.infra.ledger.RecordedEvent satisfies it)."""

    @property
    def version(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def timestamp(self) -> str: ...
    @property
    def actor(self) -> dict: ...
    @property
    def payload(self) -> dict: ...


SHOWN: dict[str, tuple[str, ...]] = {
    "Submitted": ("call_id", "call_version", "direction", "title"),
    "Resubmitted": ("changes",),
    "Withdrawn": ("reason",),
    "VerificationRecorded": ("level", "checks"),
    "CityRecommended": ("reason",),
    "ProvinceEndorsed": ("reason",),
    "EndorsementWithdrawn": ("reason",),
    "ReturnedForCorrection": ("level", "reasons"),
    "Rejected": ("level", "reason"),
    "ExpertReviewed": (),
    "Shortlisted": (),
    "NotShortlisted": ("reason",),
    "TaskBookSigned": ("task_book",),
    "TaskBookAmended": ("amendment_id", "reason", "task_book"),
    "MilestoneReported": ("milestone_id", "summary", "evidence"),
    "MilestoneOverdue": ("milestone_id", "due_on"),
    "MilestoneReportAccepted": ("milestone_id", "note"),
    "MilestoneReportReturned": ("milestone_id", "reasons"),
    "AnnualWorkPlanRecorded": ("year", "plan", "evidence"),
    "CompletionDeclared": ("summary", "evidence"),
    "EvaluatorCommissioned": ("evaluator",),
    "ThirdPartyEvaluated": ("conclusion",),
    "Selected": (),
    "NotSelected": ("reason",),
    "PublicNoticeOpened": ("notice_id", "starts_on", "ends_on"),
    "ObjectionRaised": ("objection_id",),
    "ObjectionResolved": ("objection_id", "upheld", "resolution"),
    "Published": ("list_id",),
    "EvidenceAttached": ("sha256", "size", "content_type", "filename", "step"),
    "EvidenceSuperseded": ("sha256", "supersedes", "size", "content_type", "filename", "step", "reason"),
    "PersonalDataErased": ("subjects", "documents", "request", "reason"),
}
MINISTRY_ALSO: dict[str, tuple[str, ...]] = {
    "CityRecommended": ("rank",),
    "ProvinceEndorsed": ("rank",),
    "ExpertReviewed": ("expert", "scores", "comment"),
    "ThirdPartyEvaluated": ("score", "assessment", "report"),
    "ObjectionRaised": ("reasons", "evidence"),
}
# Events whose actor is kept from the case's parties (who, beyond the role).
ACTOR_HIDDEN = frozenset({"ExpertReviewed", "ObjectionRaised"})


def _who(event: Recorded, full: bool) -> dict[str, Any]:
    actor: Mapping[str, Any] = event.actor or {}
    if full or (event.type not in ACTOR_HIDDEN and actor.get("role") != "expert"):
        return {"role": actor.get("role"), "org": actor.get("org"), "sub": actor.get("sub")}
    return {"role": actor.get("role"), "org": None, "sub": None}


def timeline_for(reader_role: str, case_id: str, events: Iterable[Recorded]) -> dict[str, Any]:
    """The case's events in order, each as `reader_role` may read it."""
    full = reader_role == "ministry"
    entries = []
    for event in events:
        keys = SHOWN.get(event.type, ()) + (MINISTRY_ALSO.get(event.type, ()) if full else ())
        entries.append({
            "sequence": event.version,
            "recorded_at": event.timestamp,
            "type": event.type,
            "who": _who(event, full),
            "summary": {k: event.payload[k] for k in keys if k in event.payload},
        })
    return {"case_id": str(case_id), "version": len(entries), "events": entries}
