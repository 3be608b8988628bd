"""The case's one transition table: for each event, the states it may follow and the state it leads to.

Everything that asks "may this happen now?" or "where does the case stand after it?"
reads this table: the aggregate's commands refuse an event from a state its row does
not list (`Case._require`), every event's `apply` sets the state its row gives, and
read models that see integration events rather than the aggregate call `state_after`,
which reads the same row. So the aggregate and the read models cannot drift apart.

A row leads to a fixed state, leaves the state unchanged, or follows a rule of the
event's payload (a withdrawn endorsement goes back to whoever waits for the province;
an upheld objection delists the case). Guards that need more than the state (the
awaited level, the program, completion before evaluation, the notice period, open
objections) are the commands' own (aggregate.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.case.states import State

#: The state after an event, from the event's payload and the state before it.
Rule = Callable[[Mapping[str, Any], str | None], str]

#: A row that leaves the state as it was.
UNCHANGED = None


@dataclass(frozen=True)
class Transition:
    follows: tuple[str, ...]  # the states the event may follow; () for the first event
    leads_to: str | Rule | None  # a state, a rule, or UNCHANGED


def back_to_the_province(payload: Mapping[str, Any], previous: str | None) -> str:
    """EndorsementWithdrawn: the case waits for the province again, in the state the event names
    (after the city's recommendation on a city chain, or as submitted on a province-only one)."""
    return str(payload["back_to"])


def delisted_if_upheld(payload: Mapping[str, Any], previous: str | None) -> str:
    """ObjectionResolved: an upheld objection delists the case; a dismissed one leaves the notice open."""
    return State.DELISTED if payload.get("upheld") else (previous or State.NOTICE_OPEN)


_S = State
# Until a decision on selection a unit may give up its application or its task.
_BEFORE_SELECTION = (
    _S.SUBMITTED, _S.RETURNED, _S.CITY_RECOMMENDED, _S.PROVINCE_ENDORSED,
    _S.SHORTLISTED, _S.IN_IMPLEMENTATION, _S.EVALUATED,
)

TRANSITIONS: dict[str, Transition] = {
    # intake
    "Submitted": Transition((), _S.SUBMITTED),
    "Resubmitted": Transition((_S.RETURNED,), _S.SUBMITTED),
    "Withdrawn": Transition(_BEFORE_SELECTION, _S.WITHDRAWN),
    # verification: the level a case waits for is the commands' guard
    "VerificationRecorded": Transition(_S.AWAITING_VERIFICATION, UNCHANGED),
    "CityRecommended": Transition(_S.AWAITING_VERIFICATION, _S.CITY_RECOMMENDED),
    "ProvinceEndorsed": Transition(_S.AWAITING_VERIFICATION, _S.PROVINCE_ENDORSED),
    "EndorsementWithdrawn": Transition((_S.PROVINCE_ENDORSED,), back_to_the_province),
    "ReturnedForCorrection": Transition(_S.AWAITING_VERIFICATION, _S.RETURNED),
    "Rejected": Transition(_S.AWAITING_VERIFICATION, _S.REJECTED),
    # review
    "ExpertReviewed": Transition((_S.PROVINCE_ENDORSED,), UNCHANGED),
    "Shortlisted": Transition((_S.PROVINCE_ENDORSED,), _S.SHORTLISTED),
    "NotShortlisted": Transition((_S.PROVINCE_ENDORSED,), _S.NOT_SHORTLISTED),
    "TaskBookSigned": Transition((_S.SHORTLISTED,), _S.IN_IMPLEMENTATION),
    "MilestoneReported": Transition((_S.IN_IMPLEMENTATION,), UNCHANGED),
    "MilestoneOverdue": Transition((_S.IN_IMPLEMENTATION,), UNCHANGED),
    "MilestoneReportAccepted": Transition((_S.IN_IMPLEMENTATION,), UNCHANGED),
    "MilestoneReportReturned": Transition((_S.IN_IMPLEMENTATION,), UNCHANGED),
    "TaskBookAmended": Transition((_S.IN_IMPLEMENTATION,), UNCHANGED),
    "AnnualWorkPlanRecorded": Transition((_S.IN_IMPLEMENTATION,), UNCHANGED),
    "CompletionDeclared": Transition((_S.IN_IMPLEMENTATION,), UNCHANGED),
    "EvaluatorCommissioned": Transition((_S.IN_IMPLEMENTATION,), UNCHANGED),
    "ThirdPartyEvaluated": Transition((_S.IN_IMPLEMENTATION,), _S.EVALUATED),
    # the program narrows these to one state: EVALUATED (揭榜挂帅) or PROVINCE_ENDORSED (标志性产品)
    "Selected": Transition((_S.EVALUATED, _S.PROVINCE_ENDORSED), _S.SELECTED),
    "NotSelected": Transition((_S.EVALUATED, _S.PROVINCE_ENDORSED), _S.NOT_SELECTED),
    # publication: the call narrows Published to one state (after the notice, or straight after selection)
    "PublicNoticeOpened": Transition((_S.SELECTED,), _S.NOTICE_OPEN),
    "ObjectionRaised": Transition((_S.NOTICE_OPEN,), UNCHANGED),
    "ObjectionResolved": Transition((_S.NOTICE_OPEN,), delisted_if_upheld),
    "Published": Transition((_S.NOTICE_OPEN, _S.SELECTED), _S.PUBLISHED),
    # documents: evidence is filed and corrected in any state
    "EvidenceAttached": Transition(_S.ALL, UNCHANGED),
    "EvidenceSuperseded": Transition(_S.ALL, UNCHANGED),
    # personal information: a person's data is erased whatever the case's state
    "PersonalDataErased": Transition(_S.ALL, UNCHANGED),
}


def allowed_from(event_type: str) -> tuple[str, ...]:
    """The states `event_type` may follow."""
    return TRANSITIONS[event_type].follows


def state_after(event_type: str, payload: Mapping[str, Any], previous: str | None) -> str:
    """The state of a case after an event of `event_type` with `payload`, from the state before it.

    Raises KeyError for an event the case does not know, and ValueError for an event
    that leaves the state unchanged arriving before any state (it cannot open a case).
    """
    try:
        leads_to = TRANSITIONS[event_type].leads_to
    except KeyError:
        raise KeyError(f"unknown case event {event_type!r}") from None
    if isinstance(leads_to, str):
        return leads_to
    if leads_to is not UNCHANGED:
        return leads_to(payload, previous)
    if previous is None:
        raise ValueError(f"{event_type} cannot be the first event of a case")
    return previous
