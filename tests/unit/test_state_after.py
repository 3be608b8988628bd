"""Read models derive a case's stage from integration events with `state_after`;
here that table is held against the aggregate itself, event by event, on every
path the transition tests can build (both programs, both chains, with and without
a public notice)."""

import pytest

from shared.domain.case import State, state_after
from shared.infra.ledger import to_recorded
from tests.unit.test_case_transitions import PROFILES, drive, unreachable

PATHS = [
    pytest.param(profile, state, id=f"{profile.id}-{state}")
    for profile in PROFILES
    for state in State.ALL
    if not unreachable(profile, state)
]


@pytest.mark.parametrize("profile,target", PATHS)
def test_state_after_agrees_with_the_aggregate_after_every_event(profile, target):
    case = drive(profile, target)
    replayed, derived = None, None
    for event in case.pending_events:
        replayed = event.mutate(replayed)
        recorded = to_recorded(event)
        derived = state_after(recorded.type, recorded.payload, derived)
        assert derived == replayed.state, f"after {recorded.type} v{recorded.version}"
    assert derived == target


def test_an_unknown_event_type_is_refused_rather_than_guessed():
    with pytest.raises(KeyError):
        state_after("Bogus", {}, State.SUBMITTED)
