"""Who may see which case: one rule per role, applied to the case as the ledger holds it.

Read models filter lists with the same rules (see each service's queries);
commands check the authoritative case loaded from the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain.actors import Actor
from shared.domain.case import Case
from shared.domain.errors import Forbidden

ROLES = ("applicant", "city", "province", "ministry", "expert", "evaluator", "auditor", "privacy")
# `privacy`: the personal-information protection officer (个人信息保护负责人), who answers data
# subjects' requests (erasure, a copy of their data) and reads who was shown whose data.
# `system`: the platform's own timers, under a machine identity of their own. No route
# admits it; it is named on the events its timers record.
SYSTEM = "system"
MACHINE_ROLES = (*ROLES, SYSTEM)


@dataclass(frozen=True)
class Caller:
    sub: str
    role: str
    org: str
    name: str = ""
    region: dict[str, str | None] = field(default_factory=dict)  # applicants: {"province": ..., "city": ...}
    # The profile's e-mail address, when the token carries one (the notifications service keeps it
    # to reach the person): never recorded on an event, never shown in a repr, so never logged.
    email: str = field(default="", repr=False)

    def as_actor(self) -> Actor:
        return {"sub": self.sub, "role": self.role, "org": self.org}

    def require(self, *roles: str) -> Caller:
        if self.role not in roles:
            raise Forbidden(f"role {self.role} may not do this (allowed: {', '.join(roles)})")
        return self


def may_see(caller: Caller, case: Case, assigned_experts: frozenset[str] = frozenset()) -> bool:
    role = caller.role
    if role in ("ministry", "auditor", "privacy"):
        return True
    if role == "applicant":
        return case.applicant.get("credit_code") == caller.org
    if role == "province":
        return case.province == caller.org
    if role == "city":
        return case.city is not None and case.city == caller.org
    if role == "evaluator":
        return case.evaluator is not None and case.evaluator == caller.org
    if role == "expert":
        return caller.org in assigned_experts or caller.sub in assigned_experts
    return False


def require_case(caller: Caller, case: Case, *roles: str) -> Case:
    """The caller's role is one of `roles` and the case is within its reach."""
    caller.require(*roles)
    if not may_see(caller, case):
        # Forbidden rather than not-found: the caller learns the case exists but
        # nothing of it, and an official can tell a wrong case id from a wrong token.
        raise Forbidden(f"{caller.role} {caller.org} has no access to case {case.id}")
    return case
