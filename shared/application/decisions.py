"""The shape of a decision that takes a limited place: load, decide, save together, retry on a collision.

Officials racing for places collide on the allocation's version (or the case's);
the loser reloads and decides again on what is now stored, and once the places
are used it is refused with their holders (`PlacesExhausted`). Every lost round
is another command's success, so the rounds a command can lose are bounded by
the places left plus the releases; `attempts` is a safety net.

Verification (recommendation places) and review (shortlist and success places) use it.
"""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from shared.domain.errors import ConcurrentUpdate
from shared.infra.ledger import CaseLedger

ATTEMPTS = 50

# Events that commute with any decision: they change no state, so a decision taken on
# the version before them is still the same decision after them. The documents service
# attaches an application's documents when it hears of the filing, while the applicant
# or an official may already be acting on the case.
COMMUTING = frozenset({"EvidenceAttached", "EvidenceSuperseded"})

# What an expert's score commutes with besides: the other experts' scores. Scores are
# independent (an expert sees no other score before submitting its own) and change no
# state, so two experts scoring one case at the same instant are both recorded. The
# same expert twice is not a commuting pair, but needs no exception: the retry reloads
# the case, which refuses a second score by that expert ("a score is final").
SCORES_COMMUTE = COMMUTING | {"ExpertReviewed"}

T = TypeVar("T")


def decide_together(
    ledger: CaseLedger, attempt: Callable[[], tuple[T | None, list]], *, attempts: int = ATTEMPTS,
    retry_alone: bool = False, commuting: frozenset[str] = COMMUTING,
) -> T | None:
    """Runs `attempt()` -> (main aggregate, other aggregates) and saves them in one transaction.

    `attempt` must load everything afresh on each call: it runs again after a
    `ConcurrentUpdate`. A collision with no other aggregate involved (only the
    main one changed) is not retried: someone else changed that very record, and
    the caller should see it, unless `retry_alone` (the main aggregate is itself the
    contended one, e.g. an allocation) or the record only gained events that commute
    with this decision (`commuting`: by default those that commute with any decision,
    `COMMUTING`). `attempt` returning None means nothing to do.
    """
    for n in range(attempts):
        main, others = attempt()
        if main is None:
            return None
        loaded = main.version - len(main.pending_events)
        try:
            ledger.save_together(main, *others)
            return main
        except ConcurrentUpdate:
            retry = others or retry_alone or set(ledger.event_types_since(main.id, loaded)) <= commuting
            if not retry or n == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.005 * (n + 1)))  # spreads the retries of a crowd
    raise AssertionError("unreachable")
