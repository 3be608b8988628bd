"""Read models derive a case's stage from integration events with `state_after`;
the aggregate's events set it in `apply`. Both read the one transition table
(shared/domain/case/transitions.py). Here the two are held against each other,
event by event, on every path the transition tests can build (both programs, both
chains, with and without a public notice) and after every event from every state
that allows it; and the aggregate is shown to take its states from the table."""

import pytest

from shared.domain.case import Case, State, state_after
from shared.domain.case.transitions import TRANSITIONS, Transition
from shared.domain.errors import IllegalTransition
from shared.infra.ledger import to_recorded
from tests.unit.test_case_transitions import (
    COMMANDS,
    EXPERT_REVIEW,
    OC_CITY,
    OK,
    PROFILES,
    SHORTLIST,
    WITHDRAW,
    drive,
    expected_outcome,
    submit,
    unreachable,
)

PATHS = [
    pytest.param(profile, state, id=f"{profile.id}-{state}")
    for profile in PROFILES
    for state in State.ALL
    if not unreachable(profile, state)
]


def _legal_steps():
    for event in COMMANDS:
        for profile in PROFILES:
            for state in State.ALL:
                if not unreachable(profile, state) and expected_outcome(event, state, profile) == OK:
                    yield event, profile, state


STEPS = [pytest.param(e, p, s, id=f"{e.__name__}-from-{s}-{p.id}") for e, p, s in _legal_steps()]


def _take(event: type, profile, state: str) -> Case:
    case = drive(profile, state, open_objection=event is Case.ObjectionResolved,
                 with_evidence=event is Case.EvidenceSuperseded, completed=event is Case.EvaluatorCommissioned,
                 commissioned=event is Case.ThirdPartyEvaluated)
    COMMANDS[event].run(case)
    assert type(case.pending_events[-1]) is event
    return case


def _derived_against_replayed(case: Case) -> list[tuple[str, str]]:
    """(event type, state) after each event of the case, asserting state_after agrees with the aggregate."""
    seen, replayed, derived = [], None, None
    for event in case.pending_events:
        replayed = event.mutate(replayed)
        recorded = to_recorded(event)
        derived = state_after(recorded.type, recorded.payload, derived)
        assert derived == replayed.state, f"after {recorded.type} v{recorded.version}"
        seen.append((recorded.type, derived))
    return seen


@pytest.mark.parametrize("profile,target", PATHS)
def test_state_after_agrees_with_the_aggregate_after_every_event(profile, target):
    case = drive(profile, target)
    _derived_against_replayed(case)
    assert case.state == target


@pytest.mark.parametrize("event,profile,state", STEPS)
def test_state_after_agrees_with_the_aggregate_on_every_event_from_every_state_that_allows_it(event, profile, state):
    _derived_against_replayed(_take(event, profile, state))


def test_the_walks_cover_every_row_of_the_table_and_both_ways_of_each_rule():
    seen = set()
    for profile in PROFILES:
        for state in State.ALL:
            if not unreachable(profile, state):
                seen.update(_derived_against_replayed(drive(profile, state)))
    for event, profile, state in _legal_steps():
        seen.update(_derived_against_replayed(_take(event, profile, state)))
    assert {event for event, _ in seen} == set(TRANSITIONS)
    outcomes = {event: {after for e, after in seen if e == event} for event in TRANSITIONS}
    assert outcomes["EndorsementWithdrawn"] == {State.SUBMITTED, State.CITY_RECOMMENDED}  # province-only, city chain
    assert outcomes["ObjectionResolved"] == {State.DELISTED, State.NOTICE_OPEN}  # upheld, dismissed


def test_the_aggregate_takes_its_states_from_the_table(monkeypatch):
    shortlisted = TRANSITIONS["Shortlisted"]
    monkeypatch.setitem(TRANSITIONS, "Shortlisted", Transition(shortlisted.follows, "SAMPLE-state"))
    case = drive(OC_CITY, State.PROVINCE_ENDORSED)
    EXPERT_REVIEW.run(case)
    SHORTLIST.run(case)
    assert case.state == "SAMPLE-state"
    assert state_after("Shortlisted", {}, State.PROVINCE_ENDORSED) == "SAMPLE-state"

    monkeypatch.setitem(TRANSITIONS, "Withdrawn", Transition((State.RETURNED,), State.WITHDRAWN))
    case = submit(OC_CITY)
    with pytest.raises(IllegalTransition) as refused:
        WITHDRAW.run(case)
    assert refused.value.allowed == (State.RETURNED,)
    assert case.state == State.SUBMITTED


def test_an_unknown_event_type_is_refused_rather_than_guessed():
    with pytest.raises(KeyError):
        state_after("Bogus", {}, State.SUBMITTED)


def test_an_event_that_keeps_the_state_cannot_open_a_case():
    with pytest.raises(ValueError, match="first event"):
        state_after("VerificationRecorded", {"level": "city"}, None)
    assert state_after("Submitted", {}, None) == State.SUBMITTED
