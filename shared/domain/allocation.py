"""Limited places as a stream in the ledger: a quota or a per-direction limit that holds under concurrency.

A province-level authority may endorse at most 5 products (382号), a 计划单列市 at
most 2; a 揭榜挂帅 direction shortlists at most 5 units (220号). Each such limit
is one `Allocation` stream, keyed by call, kind and scope. Taking a place appends
to it, in the same ledger transaction as the case's own event: two officials
taking the fifth and sixth place from the same version collide on the
allocation's version, exactly as two commands on one case do, and the one that
retries finds the places used. The stream is also the audit trail of who held
which place and who gave it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from shared.domain.actors import Actor, actor_record
from shared.domain.errors import DomainRuleViolation, PlacesExhausted
from shared.domain.personal import ACTOR, classified

ALLOCATION_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseplatform:allocation")

#: kind -> the service that appends to it
KINDS = {
    "recommendation": "verification",  # places of one recommending authority in one call
    "shortlist": "review",  # 入围 places of one direction
    "success": "review",  # places on the successful list of one direction
}


def allocation_id(call_id: str, kind: str, scope: str) -> UUID:
    if kind not in KINDS:
        raise ValueError(f"unknown allocation kind {kind!r}")
    return uuid5(ALLOCATION_NAMESPACE, f"{call_id}/{kind}/{scope}")



class Allocation(Aggregate):
    class Event(Aggregate.Event):
        actor: Actor
        personal_fields: ClassVar[Mapping[str, str | None]] = classified(actor=ACTOR)

    class AllocationOpened(Aggregate.Created):
        actor: Actor
        call_id: str
        kind: str
        scope: str
        personal_fields = classified(actor=ACTOR, call_id=None, kind=None, scope=None)

    class PlaceTaken(Event):
        case_id: str
        capacity: int  # the limit in force when the place was taken
        personal_fields = classified(case_id=None)

        def apply(self, allocation: Allocation) -> None:
            allocation.holders.append(self.case_id)

    class PlaceReleased(Event):
        case_id: str
        reason: str
        personal_fields = classified(case_id=None, reason=None)

        def apply(self, allocation: Allocation) -> None:
            allocation.holders.remove(self.case_id)

    def __init__(self, *, actor: Actor, call_id: str, kind: str, scope: str) -> None:
        self.call_id = call_id
        self.kind = kind
        self.scope = scope
        self.holders: list[str] = []

    @classmethod
    def open(cls, *, actor: Actor, call_id: str, kind: str, scope: str) -> Allocation:
        return cls._create(
            cls.AllocationOpened, id=allocation_id(call_id, kind, scope), actor=actor_record(actor),
            call_id=call_id, kind=kind, scope=scope,
        )

    @property
    def description(self) -> str:
        return f"{self.kind} places of {self.scope} in call {self.call_id}"

    def take(self, *, actor: Actor, case_id: str, capacity: int) -> None:
        if case_id in self.holders:
            raise DomainRuleViolation("case_id", f"case {case_id} already holds one of the {self.description}")
        if len(self.holders) >= capacity:
            raise PlacesExhausted(self.description, capacity, self.holders)
        self.trigger_event(Allocation.PlaceTaken, actor=actor_record(actor), case_id=case_id, capacity=capacity)

    def release(self, *, actor: Actor, case_id: str, reason: str) -> None:
        if case_id not in self.holders:
            raise DomainRuleViolation("case_id", f"case {case_id} holds none of the {self.description}")
        self.trigger_event(Allocation.PlaceReleased, actor=actor_record(actor), case_id=case_id, reason=reason)
