"""An expert panel (评审专家组) of one call and direction, as a stream in the ledger.

The ministry forms it with the scoring criteria and the experts (each with the
unit they work for, by credit code, and the units they declared a relation to),
then assigns experts to endorsed cases. An assignment with a conflict of
interest is refused and the refusal recorded on the panel with its reason: the
expert's own unit is the applicant or a consortium member, or the expert
declared a relation to one of them. An assigned expert declares no conflict
before seeing the case (or declares one and is recused). Scores themselves go
on the case stream (`Case.ExpertReviewed`), with the expert and the criterion.

Owned by review; routed as `panel.*` (shared.domain.streams). Review decides on the panel as the ledger
holds it, and also projects its events (each expert's list of assigned cases).

An expert's name, and the relation they declare, are personal data: review seals them before
the panel is formed or the declaration recorded (issue #21), under a key of the expert's own
("experts.<index>", the expert's place on the panel). The expert's id (their account's subject,
like every event's actor), their unit's credit code and the credit codes they declared a
relation to stay in the clear: the conflict-of-interest rule is decided on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from shared.domain.actors import Actor, actor_record
from shared.domain.case.arguments import nonblank
from shared.domain.erasure import keys_to_erase
from shared.domain.errors import DomainRuleViolation
from shared.domain.personal import ACTOR, BY_SCHEMA, EXPERT, classified

PANEL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseplatform:panel")

ASSIGNED = "assigned"  # waits for the expert's declaration
CLEARED = "cleared"  # declared no conflict: may see and score the case
RECUSED = "recused"  # declared a conflict: off this case


def panel_id(call_id: str, direction: str) -> UUID:
    return uuid5(PANEL_NAMESPACE, f"{call_id}/{direction}")



def _check_criteria(criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not criteria:
        raise DomainRuleViolation("criteria", "a panel scores against at least one criterion")
    ids = [c.get("id") for c in criteria]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise DomainRuleViolation("criteria", "every criterion needs a unique id")
    for c in criteria:
        if not isinstance(c.get("max_score"), (int, float)) or c["max_score"] <= 0:
            raise DomainRuleViolation("criteria", f"criterion {c['id']}: max_score must be a positive number")
    return [{"id": c["id"], "name": c.get("name", c["id"]), "max_score": c["max_score"]} for c in criteria]


def _check_experts(experts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if not experts:
        raise DomainRuleViolation("experts", "a panel has at least one expert")
    ids = [e.get("id") for e in experts]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise DomainRuleViolation("experts", "every expert needs a unique id")
    return {
        e["id"]: {"id": e["id"], "name": e.get("name", e["id"]), "unit": e.get("unit", ""),
                  "relations": list(e.get("relations", []))}
        for e in experts
    }


def case_parties(applicant: dict[str, Any], application: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every unit of an application, once each: the applicant (the lead, for a consortium) and the
    consortium members, as {"credit_code", "name", "role"}. What conflicts of interest are checked
    against, and what an assigned expert is shown before declaring."""
    found = {applicant["credit_code"]: {"credit_code": applicant["credit_code"], "name": applicant.get("name", ""),
                                        "role": "applicant"}}
    application = application or {}
    lead = application.get("lead") or {}
    units = ([(lead, "lead unit")] if lead.get("credit_code") else []) + [
        (m, "consortium member") for m in application.get("members") or [] if m.get("credit_code")]
    for unit, role in units:
        found.setdefault(unit["credit_code"], {"credit_code": unit["credit_code"], "name": unit.get("name", ""),
                                               "role": role})
    return list(found.values())


def conflict_of_interest(expert: dict[str, Any], units: dict[str, str]) -> str | None:
    """Why `expert` may not review a case whose units are `units` (credit code -> role), or None."""
    unit = expert.get("unit")
    if unit and unit in units:
        return f"expert {expert['id']} works for {unit}, the case's {units[unit]} / 专家所在单位为申请单位或联合体成员"
    related = [code for code in expert.get("relations", []) if code in units]
    if related:
        return (f"expert {expert['id']} declared a relation to {', '.join(related)}, the case's "
                f"{', '.join(units[c] for c in related)} / 专家声明与申请单位存在关联关系")
    return None


class Panel(Aggregate):
    class Event(Aggregate.Event):
        actor: Actor
        personal_fields: ClassVar[Mapping[str, str | None]] = classified(actor=ACTOR)

    class PanelFormed(Aggregate.Created):
        actor: Actor
        call_id: str
        direction: str
        criteria: list[dict[str, Any]]  # [{"id", "name", "max_score"}]
        experts: list[dict[str, Any]]  # [{"id", "name" (sealed), "unit", "relations"}]
        personal_fields = classified(actor=ACTOR, call_id=None, direction=None, criteria=None, experts=BY_SCHEMA)

    class ExpertAssigned(Event):
        case_id: str
        expert: str
        personal_fields = classified(case_id=None, expert=ACTOR)

        def apply(self, panel: Panel) -> None:
            panel.assignments.setdefault(self.case_id, {})[self.expert] = ASSIGNED

    class AssignmentRefused(Event):
        case_id: str
        expert: str
        reason: str
        personal_fields = classified(case_id=None, expert=ACTOR, reason=None)

        def apply(self, panel: Panel) -> None:
            panel.refusals.append({"case_id": self.case_id, "expert": self.expert, "reason": self.reason})

    class NoConflictDeclared(Event):
        case_id: str
        expert: str
        personal_fields = classified(case_id=None, expert=ACTOR)

        def apply(self, panel: Panel) -> None:
            panel.assignments[self.case_id][self.expert] = CLEARED

    class ConflictDeclared(Event):
        case_id: str
        expert: str
        relation: str
        personal_fields = classified(case_id=None, expert=ACTOR, relation=EXPERT)  # relation: sealed

        def apply(self, panel: Panel) -> None:
            panel.assignments[self.case_id][self.expert] = RECUSED

    class PersonalDataErased(Event):
        """The keys of some of the panel's experts were destroyed: their names and declared relations
        read as erased from then on. Names whose data (the experts' subjects, "experts.2"), the keys,
        the request it answers and why: never the data."""

        subjects: list[str]
        keys: list[str]
        request: str
        reason: str
        personal_fields = classified(subjects=None, keys=None, request=None, reason=None)

        def apply(self, panel: Panel) -> None:
            panel.erased_keys = sorted(set(panel.erased_keys) | set(self.keys))

    # Snapshots hold the attributes below; v2 added `erased_keys` (issue #21).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["erased_keys"] = []

    def __init__(self, *, actor: Actor, call_id: str, direction: str, criteria: list[dict[str, Any]],
                 experts: list[dict[str, Any]]) -> None:
        self.call_id = call_id
        self.direction = direction
        self.criteria = list(criteria)
        self.experts = {e["id"]: e for e in experts}
        self.assignments: dict[str, dict[str, str]] = {}
        self.refusals: list[dict[str, str]] = []
        self.erased_keys: list[str] = []  # keys of experts whose data was erased

    @classmethod
    def form(cls, *, actor: Actor, call_id: str, direction: str, criteria: list[dict[str, Any]],
             experts: list[dict[str, Any]]) -> Panel:
        checked = _check_experts(experts)
        return cls._create(
            cls.PanelFormed, id=panel_id(call_id, direction), actor=actor_record(actor), call_id=call_id,
            direction=direction, criteria=_check_criteria(criteria), experts=list(checked.values()),
        )

    # -- assignments -------------------------------------------------------------

    def assign(self, *, actor: Actor, case_id: str, expert: str, units: dict[str, str]) -> str | None:
        """Assigns `expert` to the case, or records the refusal and returns its reason."""
        if expert not in self.experts:
            raise DomainRuleViolation("expert", f"{expert} is not on the panel of {self.direction}")
        if self.status(case_id, expert) is not None:
            raise DomainRuleViolation(
                "expert", f"{expert} is already assigned to case {case_id} ({self.status(case_id, expert)})")
        reason = conflict_of_interest(self.experts[expert], units)
        if reason:
            self.trigger_event(Panel.AssignmentRefused, actor=actor_record(actor), case_id=case_id, expert=expert,
                               reason=reason)
            return reason
        self.trigger_event(Panel.ExpertAssigned, actor=actor_record(actor), case_id=case_id, expert=expert)
        return None

    def declare(self, *, actor: Actor, case_id: str, expert: str, conflict: bool, relation: str = "") -> None:
        status = self.status(case_id, expert)
        if status is None:
            raise DomainRuleViolation("expert", f"{expert} is not assigned to case {case_id}")
        if status != ASSIGNED:
            raise DomainRuleViolation("declaration", f"{expert} has already declared on case {case_id} ({status})")
        if conflict:
            if not relation.strip():
                raise DomainRuleViolation("relation", "a declared conflict names the relation")
            self.trigger_event(Panel.ConflictDeclared, actor=actor_record(actor), case_id=case_id, expert=expert,
                               relation=relation)
        else:
            self.trigger_event(Panel.NoConflictDeclared, actor=actor_record(actor), case_id=case_id, expert=expert)

    def subject_of(self, expert: str) -> str:
        """The expert's data subject on this panel: their place in the panel's list."""
        if expert not in self.experts:
            raise DomainRuleViolation("expert", f"{expert} is not on the panel of {self.direction}")
        return f"experts.{list(self.experts).index(expert)}"

    def erase_personal_data(self, *, actor: Actor, subjects: list[str], keys: list[str], held: set[str],
                            request: str, reason: str) -> None:
        """Records the erasure of `subjects` (experts' subjects the panel holds data of, `held`),
        whose live keys are `keys`: what the key store destroys once this is recorded."""
        if not subjects:
            raise DomainRuleViolation("subjects", "name at least one expert's data subject to erase")
        fresh = keys_to_erase(subjects=subjects, held=held, keys=keys, erased=self.erased_keys, what="the panel")
        self.trigger_event(Panel.PersonalDataErased, actor=actor_record(actor), subjects=sorted(set(subjects)),
                           keys=fresh, request=nonblank("request", request), reason=nonblank("reason", reason))

    def status(self, case_id: str, expert: str) -> str | None:
        return self.assignments.get(case_id, {}).get(expert)

    def cleared(self, case_id: str) -> list[str]:
        return [e for e, s in self.assignments.get(case_id, {}).items() if s == CLEARED]

    def cases_of(self, expert: str) -> list[str]:
        return [c for c, experts in self.assignments.items() if experts.get(expert) == CLEARED]

    # -- scores ----------------------------------------------------------------------

    def check_scores(self, scores: dict[str, Any]) -> dict[str, float]:
        """The scores of one expert: exactly one per criterion, each within 0..max_score."""
        ids = [c["id"] for c in self.criteria]
        missing = [i for i in ids if i not in scores]
        unknown = [k for k in scores if k not in ids]
        if missing or unknown:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown {', '.join(unknown)}"] if unknown else [])
            raise DomainRuleViolation("scores", f"one score per criterion of the panel ({'; '.join(parts)})")
        for c in self.criteria:
            value = scores[c["id"]]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= c["max_score"]:
                raise DomainRuleViolation("scores", f"{c['id']}: a score from 0 to {c['max_score']}")
        return {i: float(scores[i]) for i in ids}
