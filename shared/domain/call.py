"""A call (征集/揭榜通知) as a stream in the ledger: defined once, then amended, never rewritten.

The definition itself (what a call may say and how it is checked) is
`shared.domain.call_rules`; this aggregate only keeps its versions in order, so
that every service reads the same call from the same place, and an auditor sees
who changed a call and when beside the cases judged under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from shared.domain.actors import Actor, actor_record
from shared.domain.errors import DomainRuleViolation
from shared.domain.personal import ACTOR, BY_SCHEMA, classified
from shared.domain.versioned import Versioned

CALL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseplatform:call")


def call_stream_id(call_id: str) -> UUID:
    """One stream per call id: defining the same call twice collides on its first version."""
    return uuid5(CALL_NAMESPACE, call_id)



class Call(Versioned, Aggregate):
    class Event(Aggregate.Event):
        actor: Actor
        personal_fields: ClassVar[Mapping[str, str | None]] = classified(actor=ACTOR)

    class CallDefined(Aggregate.Created):
        actor: Actor
        call_id: str
        definition: dict[str, Any]  # the JSON form of version 1
        personal_fields = classified(actor=ACTOR, call_id=None, definition=BY_SCHEMA)

    class CallAmended(Event):
        version: int
        changes: dict[str, Any]  # what the ministry sent
        definition: dict[str, Any]  # the whole JSON form of the new version
        personal_fields = classified(changes=BY_SCHEMA, definition=BY_SCHEMA)

        def apply(self, call: Call) -> None:
            call.versions.append(self.definition)

    def __init__(self, *, actor: Actor, call_id: str, definition: dict[str, Any]) -> None:
        self.call_id = call_id
        self.versions: list[dict[str, Any]] = [definition]

    @classmethod
    def define(cls, *, actor: Actor, definition: dict[str, Any]) -> Call:
        if definition.get("version") != 1 or definition.get("amended_from") is not None:
            raise DomainRuleViolation("version", "a new call starts at version 1; later versions are amendments")
        return cls._create(
            cls.CallDefined, id=call_stream_id(definition["call_id"]), actor=actor_record(actor),
            call_id=definition["call_id"], definition=definition,
        )

    def amend(self, *, actor: Actor, changes: dict[str, Any], definition: dict[str, Any]) -> None:
        expected = len(self.versions) + 1
        if definition.get("version") != expected or definition.get("call_id") != self.call_id:
            raise DomainRuleViolation("version", f"the next version of {self.call_id} is {expected}")
        self.trigger_event(
            Call.CallAmended, actor=actor_record(actor), version=expected, changes=changes, definition=definition,
        )

    def _no_version(self, version: int) -> str:
        return f"no call {self.call_id} version {version}"

