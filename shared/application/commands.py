"""The one way to write a command: load, decide, save together, and decide again where that is safe.

Every write of every service reads the same way. A command on a case:

    return change_case(self.ledger, caller, case_id, ("province",), endorse)

loads the case, checks the caller may act on it (`require_case`), lets `endorse(case)`
decide, and saves the case with whatever other aggregates `endorse` returns (the places
of a quota, a public list) in one ledger transaction, or none of them. A command whose
main aggregate is not a case (a panel, a list, a dossier, a call, an allocation), or that
reaches the case otherwise than by role, writes its attempt for `decide`, on which
`change_case` is built: `attempt()` loads, decides and returns (main aggregate, other
aggregates changed), or None when there is nothing to do.

The ledger saves at the version an aggregate was loaded at; another command that saved
first makes it refuse (`ConcurrentUpdate`). The attempt then runs again on what is now
stored, if the command's `Retry` allows, named at the call site for why that is safe.
Every lost round is another command's success, so the rounds a command can lose are
bounded by the places left plus the releases; `ATTEMPTS` is a safety net.

The application layer imports the domain and the standard library only: the ledger is
the `Ledger` protocol below, which `shared.infra.ledger.CaseLedger` satisfies.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar, overload
from uuid import UUID

from shared.domain.access import Caller, require_case
from shared.domain.case import Case
from shared.domain.errors import ConcurrentUpdate

ATTEMPTS = 50


class Aggregate(Protocol):
    """What the idiom reads of an aggregate to save it and judge a collision."""

    @property
    def id(self) -> UUID: ...

    @property
    def version(self) -> int: ...

    @property
    def pending_events(self) -> Sequence[Any]: ...


class Ledger(Protocol):
    """What the idiom needs of the ledger."""

    def get_case(self, case_id: UUID | str) -> Case: ...

    def save_together(self, *aggregates: Any) -> None:
        """Appends every aggregate's pending events in one transaction; `ConcurrentUpdate` if any is stale."""

    def event_types_since(self, aggregate_id: UUID, version: int) -> list[str]: ...


A = TypeVar("A", bound=Aggregate)
# What an attempt decided: the main aggregate, and the others it changed, saved with it.
Decision = tuple[A, Sequence[Aggregate]]


@dataclass(frozen=True)
class Retry:
    """When a command that lost a collision decides again on the aggregates as now stored.

    Always when its decision changed other aggregates besides the main one: those are the
    contended places (a quota's allocation, a list's entries); the loser reloads and takes
    a place still free, or is refused with their holders (`PlacesExhausted`), and the main
    aggregate as now stored decides again too (a case returned meanwhile refuses to be
    endorsed). Otherwise when `always`, or when every event stored on the main aggregate
    since it was loaded is in `commuting`: such events cannot have changed this decision.
    Else someone changed that very record, and the caller should see it: `ConcurrentUpdate`.
    """

    commuting: frozenset[str] = frozenset()
    always: bool = False

    def allows(self, changed_others: bool, stored_since: Callable[[], Iterable[str]]) -> bool:
        return changed_others or self.always or set(stored_since()) <= self.commuting


# Events that commute with any decision: they change no state, so a decision taken on
# the version before them is still the same decision after them. The documents service
# attaches an application's documents when it hears of the filing, while the applicant
# or an official may already be acting on the case; a person's data may be erased at any
# moment, and no decision reads it. The default of every command.
COMMUTING = Retry(commuting=frozenset({"EvidenceAttached", "EvidenceSuperseded", "PersonalDataErased"}))

# What an expert's score commutes with besides: the other experts' scores. Scores are
# independent (an expert sees no other score before submitting its own) and change no
# state, so two experts scoring one case at the same instant are both recorded. The
# same expert twice is not a commuting pair, but needs no exception: the retry reloads
# the case, which refuses a second score by that expert ("a score is final").
SCORES_COMMUTE = Retry(commuting=COMMUTING.commuting | {"ExpertReviewed"})

# What an authority's check commutes with besides: other checks. A check records what an
# authority verified and changes no state, so two recorded at the same instant are both
# kept; a decision that moved the case in between is not in the set, and refuses the retry.
CHECKS_COMMUTE = Retry(commuting=COMMUTING.commuting | {"VerificationRecorded"})

# The main aggregate is one that independent commands append to: a quota's places, a
# direction's panel (assignments, declarations), a public list, a unit's dossier. The
# loser decides again on what the others did, which the aggregate checks (the same
# expert assigned twice is still refused, a place taken is not taken twice).
CONTENDED = Retry(always=True)

# The decision depends on nothing another command may have appended to the case: a
# document attached, an objection raised or resolved. Whatever came in between, the
# attempt reloads the case, which still refuses what its state no longer allows.
INDEPENDENT = Retry(always=True)


@overload
def decide(ledger: Ledger, attempt: Callable[[], Decision[A]], *, retry: Retry = ..., attempts: int = ...) -> A: ...


@overload
def decide(
    ledger: Ledger, attempt: Callable[[], Decision[A] | None], *, retry: Retry = ..., attempts: int = ...,
) -> A | None: ...


def decide(
    ledger: Ledger, attempt: Callable[[], Decision[A] | None], *, retry: Retry = COMMUTING,
    attempts: int = ATTEMPTS,
) -> A | None:
    """Runs `attempt()` and saves what it decided in one transaction; returns the main aggregate.

    `attempt` must load everything afresh on each call: it runs again after a collision
    that `retry` allows. It returns None when there is nothing to do (then nothing is saved).
    """
    for n in range(attempts):
        decision = attempt()
        if decision is None:
            return None
        main, others = decision
        loaded = main.version - len(main.pending_events)
        try:
            ledger.save_together(main, *others)
            return main
        except ConcurrentUpdate:
            if n == attempts - 1 or not retry.allows(bool(others), partial(ledger.event_types_since, main.id, loaded)):
                raise
            time.sleep(random.uniform(0, 0.005 * (n + 1)))  # spreads the retries of a crowd
    raise AssertionError("unreachable")


def change_case(
    ledger: Ledger, caller: Caller, case_id: str, roles: tuple[str, ...],
    change: Callable[[Case], Iterable[Aggregate] | None], *, retry: Retry = COMMUTING,
) -> Case:
    """Loads the case, checks the caller acts in one of `roles` and may reach it, lets `change` decide, saves.

    `change(case)` calls the case's commands and returns the other aggregates it changed
    (or None); they are saved with the case, or nothing is.
    """
    def attempt() -> Decision[Case]:
        case = require_case(caller, ledger.get_case(case_id), *roles)
        return case, list(change(case) or ())

    return decide(ledger, attempt, retry=retry)
