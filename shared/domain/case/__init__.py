"""The Case aggregate: one application's legal process as a state machine.

Where to find what:

- states.py: the programs, the states, the verification levels and chains;
- transitions.py: the one transition table (which event may follow which state, and
  the state it leads to), and `state_after` for read models that see integration events;
- events.py: the events, with what each records on the case;
- aggregate.py: `Case`, its commands and the guards beyond the state;
- arguments.py: what a command's arguments must be, whatever the state;
- ownership.py: which service appends which event.

This module is the aggregate's public face: the rest of the platform imports from here.
"""

from shared.domain.case.aggregate import Case
from shared.domain.case.ownership import EVENT_TYPES, OWNERS, owner_of
from shared.domain.case.states import VALID_CHAINS, Level, Program, State, awaiting_level
from shared.domain.case.transitions import state_after

__all__ = [
    "EVENT_TYPES", "OWNERS", "VALID_CHAINS", "Case", "Level", "Program", "State",
    "awaiting_level", "owner_of", "state_after",
]
