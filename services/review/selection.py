"""Review's limited places: the ranking of a direction, the shortlist (入围) and the selection. No nameko, no HTTP.

Shortlisting and selecting take a place of the call's limit (`shared.domain.places`): an
`Allocation` stream per kind and scope, saved in the same ledger transaction as the
case's event. Officials racing for the last places collide on the allocation; the loser
decides again and is refused with the holders once none is left. Declining takes none.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.application.commands import change_case
from shared.domain.access import Caller, require_case
from shared.domain.allocation import Allocation
from shared.domain.case import Case, State
from shared.domain.errors import DomainRuleViolation
from shared.domain.places import SHORTLIST, SUCCESS, places_of
from shared.infra.ledger import CaseLedger
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm
from .ranking import rank

RANKED = (State.PROVINCE_ENDORSED, State.SHORTLISTED, State.NOT_SHORTLISTED)


class Selection:
    """The ranking, shortlist and selection part of `services.review.application.Review`."""

    ledger: CaseLedger
    store: ReadModelStore

    def ranking(self, caller: Caller, call_id: str, direction: str) -> dict:
        caller.require("ministry")
        cases = rm.review_cases
        with self.store.session() as session:
            ids = session.execute(sa.select(cases.c.case_id, cases.c.state).where(
                cases.c.call_id == call_id, cases.c.direction == direction, cases.c.state.in_(RANKED))).all()
            scores = session.execute(sa.select(rm.expert_scores.c.case_id, rm.expert_scores.c.total).where(
                rm.expert_scores.c.case_id.in_([i.case_id for i in ids]))).all()
        totals: dict[str, list[float]] = {i.case_id: [] for i in ids}
        for row in scores:
            totals[row.case_id].append(row.total)
        state = {i.case_id: i.state for i in ids}
        rows = [{**r, "state": state[r["case_id"]]} for r in rank(totals)]
        places = self.ledger.find_allocation(call_id, SHORTLIST, direction)
        return {"call_id": call_id, "direction": direction, "ranking": rows,
                "shortlisted": list(places.holders) if places else []}

    def places(self, caller: Caller, case_id: str) -> dict:
        """The shortlist and success places the case's decisions would take, as the commands count them:
        the same `places_of` on the call in force, the same allocation's holders."""
        caller.require("ministry")
        case = require_case(caller, self.ledger.get_case(case_id), "ministry")
        call = self.ledger.get_call(case.call_id).current

        def view(kind: str) -> dict:
            limited = places_of(call, kind, case)
            if limited is None:
                return {"limit": None, "scope": None, "taken": 0, "holders": [], "holds_one": False}
            capacity, scope = limited
            found = self.ledger.find_allocation(case.call_id, kind, scope)
            holders = list(found.holders) if found else []
            return {"limit": capacity, "scope": scope, "taken": len(holders), "holders": holders,
                    "holds_one": str(case.id) in holders}

        return {"case_id": case_id, "call_id": case.call_id, "program": case.program,
                "direction": case.direction, SHORTLIST: view(SHORTLIST), SUCCESS: view(SUCCESS)}

    def shortlist(self, caller: Caller, case_id: str, shortlisted: bool, reason: str) -> Case:
        def decide_shortlist(case: Case) -> list[Allocation]:
            if not shortlisted:
                case.decline_shortlist(actor=caller.as_actor(), reason=reason)
                return []
            if not case.expert_reviews:
                raise DomainRuleViolation("scores", "a case is shortlisted on its experts' scores: none recorded")
            case.shortlist(actor=caller.as_actor())
            return self._take_place(caller, case, SHORTLIST)

        return change_case(self.ledger, caller, case_id, ("ministry",), decide_shortlist)

    def select(self, caller: Caller, case_id: str, selected: bool, reason: str) -> Case:
        def decide_selection(case: Case) -> list[Allocation]:
            if not selected:
                case.decline_selection(actor=caller.as_actor(), reason=reason)
                return []
            case.select(actor=caller.as_actor())
            return self._take_place(caller, case, SUCCESS)

        return change_case(self.ledger, caller, case_id, ("ministry",), decide_selection)

    def _take_place(self, caller: Caller, case: Case, kind: str) -> list[Allocation]:
        """The allocation the case took a place of, under the call's limit in force; none if unlimited."""
        limited = places_of(self.ledger.get_call(case.call_id).current, kind, case)
        if limited is None:
            return []
        capacity, scope = limited
        places = self.ledger.find_allocation(case.call_id, kind, scope) or Allocation.open(
            actor=caller.as_actor(), call_id=case.call_id, kind=kind, scope=scope)
        places.take(actor=caller.as_actor(), case_id=str(case.id), capacity=capacity)
        return [places]
