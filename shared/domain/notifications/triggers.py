"""The notices one ledger event calls for, from the event and the case as it stands after it.

`event` is the integration event as every subscriber receives it (shared.infra.messaging.contracts:
`stream`, `stream_id`, `version`, `type`, `actor`, `payload`; dates in the payload as ISO text).
`case` is the case the event concerns after it, as `CaseFacts`: for a case's event its own case;
for a panel's `ExpertAssigned`, the assigned case.

Which authority a case waits for is `awaiting_level` (shared.domain.case.states), the function the
verification inbox routes with: the city after submission on a chain with a city level, the
province after the city's recommendation or straight away on a province-only chain. Nobody is
told of their own act (an authority that withdraws its endorsement does not hear the case is back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.domain.case import Case, Level, awaiting_level
from shared.domain.notifications.kinds import Kind
from shared.domain.notifications.notice import Notice, Recipient, event_dedupe_key
from shared.domain.notifications.templates import render

#: The ministry, as its officials' tokens name it (it decides on objections).
MINISTRY = Recipient(role="ministry", org="MIIT")


@dataclass(frozen=True)
class CaseFacts:
    """What the notices need of a case: who is concerned and what to tell them about."""

    case_id: str
    title: str
    call_id: str
    applicant_code: str
    applicant_name: str
    province: str
    city: str | None
    chain: tuple[str, ...]
    state: str
    call_title: str = ""
    evaluator: str | None = None
    milestones: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)  # id -> title, due_on

    @classmethod
    def of(cls, case: Case, call_title: str = "") -> CaseFacts:
        book = case.task_book or {}
        return cls(
            case_id=str(case.id), title=case.title, call_id=case.call_id,
            applicant_code=case.applicant["credit_code"], applicant_name=case.applicant.get("name", ""),
            province=case.province, city=case.city, chain=tuple(case.chain), state=case.state,
            call_title=call_title, evaluator=case.evaluator,
            milestones={m["id"]: {"title": m.get("title", m["id"]), "due_on": m.get("due_on", ""),
                                  "status": case.milestones.get(m["id"], "pending")}
                        for m in book.get("milestones", [])},
        )

    @property
    def unit(self) -> Recipient:
        return Recipient(role="applicant", org=self.applicant_code)

    def authority(self, level: str) -> Recipient:
        region = self.city if level == Level.CITY else self.province
        assert region is not None  # a chain with a city level files the city (Case.submit)
        return Recipient(role=level, org=region, region=region)

    def facts(self) -> dict[str, Any]:
        return {"title": self.title, "call": self.call_title or self.call_id, "case_id": self.case_id,
                "applicant": self.applicant_name or self.applicant_code}


def _numbered(reasons: list[str]) -> str:
    return "\n".join(f"{n}. {reason}" for n, reason in enumerate(reasons, start=1))


def _milestone(case: CaseFacts, payload: Mapping[str, Any]) -> dict[str, Any]:
    found = case.milestones.get(payload["milestone_id"], {})
    return {"milestone": found.get("title", payload["milestone_id"]),
            "due_on": payload.get("due_on") or found.get("due_on", ""), "note": payload.get("note", "")}


# A rule: (the event's payload, the case after it) -> [(kind, recipient, facts beyond the case's)].
Told = list[tuple[str, Recipient, dict[str, Any]]]
Rule = Callable[[Mapping[str, Any], CaseFacts], Told]


def _inbox(payload: Mapping[str, Any], case: CaseFacts) -> Told:
    level = awaiting_level(case.state, list(case.chain))
    return [] if level is None else [(Kind.CASE_IN_INBOX, case.authority(level), {"level": level})]


def _to_unit(kind: str, **extra: Callable[[Mapping[str, Any]], Any]) -> Rule:
    def rule(payload: Mapping[str, Any], case: CaseFacts) -> Told:
        return [(kind, case.unit, {name: get(payload) for name, get in extra.items()})]
    return rule


def _milestone_to_unit(kind: str) -> Rule:
    def rule(payload: Mapping[str, Any], case: CaseFacts) -> Told:
        facts = _milestone(case, payload)
        if "reasons" in payload:
            facts["reasons"] = _numbered(list(payload["reasons"]))
        return [(kind, case.unit, facts)]
    return rule


def _commissioned(payload: Mapping[str, Any], case: CaseFacts) -> Told:
    evaluator = str(payload["evaluator"])
    return [(Kind.EVALUATOR_COMMISSIONED, case.unit, {"evaluator": evaluator}),
            (Kind.EVALUATOR_COMMISSIONED_TO_YOU, Recipient(role="evaluator", org=evaluator), {"evaluator": evaluator})]


def _resolved(payload: Mapping[str, Any], case: CaseFacts) -> Told:
    if not payload.get("upheld"):
        return []  # a dismissed objection leaves the notice running: nothing changed for the unit
    return [(Kind.DELISTED, case.unit, {"resolution": payload["resolution"]})]


def _objection(payload: Mapping[str, Any], case: CaseFacts) -> Told:
    return [(Kind.OBJECTION_RAISED, MINISTRY, {"objection": payload["objection_id"], "reasons": payload["reasons"]})]


def _assigned(payload: Mapping[str, Any], case: CaseFacts) -> Told:
    expert = str(payload["expert"])
    return [(Kind.EXPERT_ASSIGNED, Recipient(role="expert", org=expert), {"expert": expert})]


CASE_RULES: dict[str, Rule] = {
    "Submitted": _inbox,
    "Resubmitted": _inbox,
    "CityRecommended": _inbox,
    "EndorsementWithdrawn": _inbox,
    "ReturnedForCorrection": _to_unit(Kind.RETURNED_FOR_CORRECTION, level=lambda p: p["level"],
                                      reasons=lambda p: _numbered(list(p["reasons"]))),
    "Rejected": _to_unit(Kind.REJECTED, level=lambda p: p["level"], reason=lambda p: p["reason"]),
    "Shortlisted": _to_unit(Kind.SHORTLISTED),
    "NotShortlisted": _to_unit(Kind.NOT_SHORTLISTED, reason=lambda p: p["reason"]),
    "MilestoneReportAccepted": _milestone_to_unit(Kind.MILESTONE_ACCEPTED),
    "MilestoneReportReturned": _milestone_to_unit(Kind.MILESTONE_SENT_BACK),
    "MilestoneOverdue": _milestone_to_unit(Kind.MILESTONE_OVERDUE),
    "EvaluatorCommissioned": _commissioned,
    "Selected": _to_unit(Kind.SELECTED),
    "NotSelected": _to_unit(Kind.NOT_SELECTED, reason=lambda p: p["reason"]),
    "Published": _to_unit(Kind.PUBLISHED, list_id=lambda p: p["list_id"]),
    "ObjectionRaised": _objection,
    "ObjectionResolved": _resolved,
}

PANEL_RULES: dict[str, Rule] = {"ExpertAssigned": _assigned}

RULES: dict[str, dict[str, Rule]] = {"case": CASE_RULES, "panel": PANEL_RULES}


def notices_for(event: Mapping[str, Any], case: CaseFacts) -> list[Notice]:
    """The notices `event` calls for (none for most events: evidence, scores, drafts, …)."""
    rule = RULES.get(str(event.get("stream", "case")), {}).get(str(event["type"]))
    if rule is None:
        return []
    payload = event.get("payload") or {}
    actor = event.get("actor") or {}
    source = f"{event['stream_id']}:{event['version']}"
    notices = []
    for kind, recipient, extra in rule(payload, case):
        if actor.get("role") == recipient.role and actor.get("org") == recipient.org:
            continue
        facts = {**case.facts(), **extra}
        notices.append(Notice(kind=kind, recipient=recipient, case_id=case.case_id,
                              dedupe_key=event_dedupe_key(source, kind, recipient),
                              message=render(kind, facts), facts=facts))
    return notices
