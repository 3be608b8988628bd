"""Errors the domain and the applications raise.

They carry what an official needs to act: the field and the rule for bad input, the
current state for an illegal step, the cases holding the places for a used-up quota. How
a client is told (the HTTP status, the `error` code) is the edge's business:
`shared.infra.web.errors` holds one table for every error class.
"""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    def __init__(self, message: str, fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(PlatformError):
    """Bad input: every failing field at once, each with its rule."""

    def __init__(self, fields: dict[str, Any], message: str = "the request has invalid fields"):
        super().__init__(message, fields)


class DomainRuleViolation(PlatformError):
    """A rule of the notices refuses this input (one field, one rule)."""

    def __init__(self, field: str, rule: str):
        super().__init__(f"{field}: {rule}", {field: [rule]})
        self.field = field
        self.rule = rule


class UnsupportedFileType(PlatformError):
    """A file whose bytes (or whose name) are not of a type accepted as evidence."""


class Forbidden(PlatformError):
    """The caller's role, or its organisation, may not do this (to this case)."""


class NotFound(PlatformError):
    """No such case, call, draft, document or checkpoint, or none the caller may know of."""


class Conflict(PlatformError):
    """What is recorded already (a state, another's change, the places taken) refuses this step."""


class IllegalTransition(Conflict):
    """The case's current state does not allow this step."""

    def __init__(self, event: str, state: str, allowed: tuple[str, ...], detail: str = ""):
        message = f"cannot record {event}: the case is {state}"
        message += f"; {detail}" if detail else f" (allowed from: {', '.join(allowed)})"
        super().__init__(message, {"state": [state]})
        self.event = event
        self.state = state
        self.allowed = allowed


class ConcurrentUpdate(Conflict):
    """Another command changed the case first; the caller may retry."""


class EventNotOwned(PlatformError):
    """A service tried to append an event type it does not own: a programming error."""


class PlacesExhausted(Conflict):
    """A limited number of places (a quota, a shortlist) is used up; says by which cases."""

    def __init__(self, what: str, capacity: int, holders: list[str]):
        super().__init__(
            f"{what}: {len(holders)} of {capacity} places are used, by {', '.join(holders)}",
            {"places": [f"{len(holders)} of {capacity} used"], "held_by": list(holders)},
        )
        self.capacity = capacity
        self.holders = list(holders)


class DeadlinePassed(DomainRuleViolation):
    """A level acts after its deadline."""
