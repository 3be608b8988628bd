"""Review's expert panels: forming one per direction, assigning experts under the conflict-of-interest
rule, their declarations, and their scores. No nameko, no HTTP.

A direction's panel is one stream (`shared.domain.panel.Panel`), and every assignment and
declaration of its cases appends to it: two officials assigning, or two experts declaring,
at the same instant collide on its version though their decisions are independent. The
loser decides again on the panel as stored (`CONTENDED`), so what the other did is seen:
the same expert assigned twice is still refused, as is a second declaration.
"""

from __future__ import annotations

from shared.application.commands import CONTENDED, SCORES_COMMUTE, decide
from shared.domain.access import Caller, may_see, require_case
from shared.domain.case import Case, State
from shared.domain.errors import DomainRuleViolation, Forbidden, IllegalTransition, NotFound
from shared.domain.panel import Panel, case_parties
from shared.infra.ledger import CaseLedger
from shared.infra.personal.vault import Vault

from .panel_privacy import sealed_experts, sealed_relation


def case_units(case: Case) -> dict[str, str]:
    """Credit code -> role of every unit of the application: the applicant (lead) and consortium members."""
    return {u["credit_code"]: u["role"] for u in case_parties(case.applicant, case.application)}


def _as_cases_hold_it(call: dict, direction: str) -> str | None:
    """The direction as the call's cases carry it, which is what a panel is found by: a 220 direction's
    code; a 382 domain's name (the form's 征集领域 is chosen by name), given by its name or its code.
    None when the call has no such direction; as given when the call lists none."""
    held = {d["code"]: d["code"] for d in (call.get("open_competition") or {}).get("directions") or []}
    for domain in (call.get("signature_product") or {}).get("domains") or []:
        held.update({domain["name"]: domain["name"], **({domain["code"]: domain["name"]} if "code" in domain else {})})
    if not held:
        return direction
    return held.get(direction)


def panel_view(panel: Panel) -> dict:
    return {
        "panel_id": str(panel.id), "call_id": panel.call_id, "direction": panel.direction,
        "version": panel.version, "criteria": panel.criteria, "experts": list(panel.experts.values()),
        "assignments": panel.assignments, "refusals": panel.refusals,
    }


class Panels:
    """The panels and scores part of `services.review.application.Review`."""

    ledger: CaseLedger
    vault: Vault

    def form_panel(self, caller: Caller, body: dict) -> dict:
        caller.require("ministry")

        def form() -> tuple[Panel, list]:
            direction = _as_cases_hold_it(self.ledger.get_call(body["call_id"]).current, body["direction"])
            if direction is None:
                raise DomainRuleViolation(
                    "direction", f"the call {body['call_id']} has no direction {body['direction']!r}")
            if self.ledger.find_panel(body["call_id"], direction) is not None:
                raise DomainRuleViolation("direction", f"a panel for {direction} in {body['call_id']} exists")
            experts = sealed_experts(self.vault, body["call_id"], direction, body["experts"])
            return Panel.form(actor=caller.as_actor(), call_id=body["call_id"], direction=direction,
                              criteria=body["criteria"], experts=experts), []

        # Two forming at once: the second collides on version 1 and is refused.
        return panel_view(decide(self.ledger, form))

    def get_panel(self, caller: Caller, call_id: str, direction: str) -> dict:
        caller.require("ministry")
        return panel_view(self._panel(call_id, direction))

    def assign_expert(self, caller: Caller, case_id: str, expert: str) -> dict:
        """Assigns an expert; a conflict of interest is recorded on the panel and refused."""
        caller.require("ministry")
        refusal: list[str] = []

        def assign() -> tuple[Panel, list]:
            refusal.clear()
            case = require_case(caller, self.ledger.get_case(case_id), "ministry")
            if case.state != State.PROVINCE_ENDORSED:
                raise IllegalTransition(event="ExpertAssigned", state=case.state,
                                        allowed=(State.PROVINCE_ENDORSED,))
            panel = self._panel(case.call_id, case.direction)
            reason = panel.assign(actor=caller.as_actor(), case_id=str(case.id), expert=expert,
                                  units=case_units(case))
            refusal.extend([reason] if reason else [])
            return panel, []

        panel = decide(self.ledger, assign, retry=CONTENDED)
        if refusal:
            raise DomainRuleViolation("expert", f"conflict of interest: {refusal[0]}")
        return panel_view(panel)

    def declare(self, caller: Caller, case_id: str, conflict: bool, relation: str) -> dict:
        caller.require("expert")
        case_ids: list[str] = []  # as the ledger spells it

        def declare() -> tuple[Panel, list]:
            case = self.ledger.get_case(case_id)
            case_ids[:] = [str(case.id)]
            panel = self.ledger.find_panel(case.call_id, case.direction)
            if panel is None or panel.status(str(case.id), caller.sub) is None:  # access, as for every case route
                raise Forbidden(f"expert {caller.sub} is not assigned to case {case.id}")
            panel.declare(actor=caller.as_actor(), case_id=str(case.id), expert=caller.sub, conflict=conflict,
                          relation=sealed_relation(self.vault, panel, caller.sub, relation) if conflict else "")
            return panel, []

        panel = decide(self.ledger, declare, retry=CONTENDED)
        return {"case_id": case_ids[0], "expert": caller.sub, "status": panel.status(case_ids[0], caller.sub)}

    # -- scores -------------------------------------------------------------------

    def criteria(self, caller: Caller, case_id: str) -> dict:
        """What the case is scored against: its panel's criteria (an expert: once it may see the case)."""
        caller.require("ministry", "expert")
        case = self.ledger.get_case(case_id)
        if caller.role == "expert":
            self._as_expert(caller, case)
        panel = self._panel(case.call_id, case.direction)
        return {"case_id": str(case.id), "call_id": case.call_id, "direction": case.direction,
                "criteria": list(panel.criteria)}

    def score(self, caller: Caller, case_id: str, scores: dict, comment: str) -> dict:
        """Records the expert's scores; another expert's score saved at the same instant is no conflict."""
        caller.require("expert")

        def score() -> tuple[Case, list]:
            case = self._as_expert(caller, self.ledger.get_case(case_id))
            checked = self._panel(case.call_id, case.direction).check_scores(scores)
            case.record_expert_review(actor=caller.as_actor(), expert=caller.sub, scores=checked, comment=comment)
            return case, []

        decide(self.ledger, score, retry=SCORES_COMMUTE)
        return self.scores(caller, case_id)

    def scores(self, caller: Caller, case_id: str) -> dict:
        """The experts' scores: the ministry sees all; an expert sees others' only after submitting its own."""
        caller.require("ministry", "expert")
        case = self.ledger.get_case(case_id)
        if caller.role == "expert":
            self._as_expert(caller, case)
        reviews = [
            {"expert": e.payload["expert"], "scores": e.payload["scores"], "comment": e.payload["comment"],
             "total": sum(e.payload["scores"].values()), "recorded_at": e.timestamp}
            for e in self.ledger.history(case.id) if e.type == "ExpertReviewed"
        ]
        if caller.role == "expert" and caller.sub not in case.scored_by:
            mine = [r for r in reviews if r["expert"] == caller.sub]
            return {"case_id": str(case.id), "reviews": mine, "hidden": len(reviews) - len(mine),
                    "note": "other experts' scores are shown once you have submitted your own"}
        return {"case_id": str(case.id), "reviews": reviews, "hidden": 0}

    # -- helpers ------------------------------------------------------------------------

    def _panel(self, call_id: str, direction: str) -> Panel:
        panel = self.ledger.find_panel(call_id, direction)
        if panel is None:
            raise NotFound(f"no expert panel for {direction} in call {call_id}")
        return panel

    def _as_expert(self, caller: Caller, case: Case) -> Case:
        """An expert sees a case assigned to it, and only after declaring no conflict."""
        panel = self.ledger.find_panel(case.call_id, case.direction)
        cleared = frozenset(panel.cleared(str(case.id))) if panel else frozenset()
        if not may_see(caller, case, assigned_experts=cleared) or caller.sub not in cleared:
            status = panel.status(str(case.id), caller.sub) if panel else None
            why = {None: "is not assigned to it", "assigned": "has not declared no conflict of interest",
                   "recused": "declared a conflict of interest"}.get(status, "may not see it")
            raise Forbidden(f"expert {caller.sub} {why}: case {case.id}")
        return case
