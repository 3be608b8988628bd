"""The ministry's review desk: panels, experts' scores, ranking, shortlist, task book, milestones,
third party, selection. No nameko, no HTTP.

`Review` is the desk the service's entrypoints call; its parts read whole in their own modules:
panels, conflicts of interest and scores (`panels.py`), the ranking and the limited places
of the shortlist and the selection (`selection.py`), and the task book, milestones and
evaluation (`implementation.py`). Every write is a command of `shared.application.commands`;
calls, panels and places are read from the ledger at the moment of the decision.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from shared.domain.access import Caller, require_case
from shared.domain.case import Case, State
from shared.infra.ledger import CaseLedger
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore
from shared.infra.web.views import case_view

from . import readmodels as rm
from .implementation import Implementation
from .panel_privacy import PanelPrivacy
from .panels import Panels
from .selection import Selection

WITH_THE_MINISTRY = (
    State.PROVINCE_ENDORSED, State.SHORTLISTED, State.IN_IMPLEMENTATION, State.EVALUATED,
    State.SELECTED, State.NOTICE_OPEN, State.PUBLISHED,
)


def review_view(case: Case) -> dict:
    """A case as the ministry, a commissioned evaluator or a cleared expert sees it on review's desk."""
    return {**case_view(case), "task_book": case.task_book, "amendments": list(case.amendments),
            "completion_declared": case.completion_declared, "expert_reviews": case.expert_reviews}


class Review(Panels, PanelPrivacy, Selection, Implementation):
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, now: datetime | None, vault: Vault):
        self.ledger = ledger
        self.store = store
        self.now = now
        self.vault = vault

    # -- reading --------------------------------------------------------------

    def cases(self, caller: Caller) -> list[dict]:
        caller.require("ministry", "evaluator")
        query = sa.select(rm.review_cases).where(rm.review_cases.c.state.in_(WITH_THE_MINISTRY))
        if caller.role == "evaluator":
            query = query.where(rm.review_cases.c.evaluator == caller.org)
        with self.store.session() as session:
            return [dict(r._mapping) for r in session.execute(query.order_by(rm.review_cases.c.updated_at))]

    def assignments(self, caller: Caller) -> list[dict]:
        """The cases assigned to the calling expert, with what it needs to declare on each.

        Before declaring, an expert is shown the case's title, call and direction and
        its units (to see a conflict of interest), never the application, the
        authorities' opinions, the scores or the evidence: those come with the case
        itself, once it has declared no conflict.
        """
        caller.require("expert")
        a, c, u = rm.expert_assignments, rm.review_cases, rm.case_units
        query = (sa.select(a.c.case_id, a.c.status, a.c.assigned_at, c.c.call_id, c.c.direction, c.c.program,
                           c.c.title, c.c.state, u.c.units, rm.expert_scores.c.recorded_at.label("scored_at"))
                 .join(c, c.c.case_id == a.c.case_id).join(u, u.c.case_id == a.c.case_id)
                 .outerjoin(rm.expert_scores, sa.and_(rm.expert_scores.c.case_id == a.c.case_id,
                                                      rm.expert_scores.c.expert == a.c.expert))
                 .where(a.c.expert == caller.sub).order_by(a.c.assigned_at, a.c.case_id))
        with self.store.session() as session:
            rows = [dict(r._mapping) for r in session.execute(query)]
        return [{**{k: v for k, v in r.items() if k != "scored_at"}, "units": json.loads(r["units"]),
                 "scored": r["scored_at"] is not None} for r in rows]

    def get(self, caller: Caller, case_id: str) -> Case:
        caller.require("ministry", "evaluator", "expert")
        case = self.ledger.get_case(case_id)
        if caller.role == "expert":
            return self._as_expert(caller, case)
        return require_case(caller, case, "ministry", "evaluator")
