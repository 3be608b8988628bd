"""Errors the domain and the applications raise, each mapped to one HTTP status.

They carry what an official needs to act: the field and the rule for bad input,
the current state for an illegal step. `shared.infra.web.http` turns them into
`{"error": code, "message": ..., "fields": {...}}`.
"""

from __future__ import annotations


class PlatformError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(PlatformError):
    """Bad input: every failing field at once, each with its rule."""

    status = 400
    code = "validation_failed"

    def __init__(self, fields: dict, message: str = "the request has invalid fields"):
        super().__init__(message, fields)


class DomainRuleViolation(PlatformError):
    """A rule of the notices refuses this input (one field, one rule)."""

    status = 400
    code = "rule_violated"

    def __init__(self, field: str, rule: str):
        super().__init__(f"{field}: {rule}", {field: [rule]})
        self.field = field
        self.rule = rule


class Unauthenticated(PlatformError):
    status = 401
    code = "unauthenticated"


class Forbidden(PlatformError):
    status = 403
    code = "forbidden"


class NotFound(PlatformError):
    status = 404
    code = "not_found"


class Conflict(PlatformError):
    status = 409
    code = "conflict"


class IllegalTransition(Conflict):
    """The case's current state does not allow this step."""

    code = "illegal_transition"

    def __init__(self, event: str, state: str, allowed: tuple[str, ...], detail: str = ""):
        message = f"cannot record {event}: the case is {state}"
        message += f"; {detail}" if detail else f" (allowed from: {', '.join(allowed)})"
        super().__init__(message, {"state": [state]})
        self.event = event
        self.state = state
        self.allowed = allowed


class ConcurrentUpdate(Conflict):
    """Another command changed the case first; the caller may retry."""

    code = "concurrent_update"


class EventNotOwned(PlatformError):
    """A service tried to append an event type it does not own: a programming error."""

    code = "event_not_owned"


class PlacesExhausted(Conflict):
    """A limited number of places (a quota, a shortlist) is used up; says by which cases."""

    code = "places_exhausted"

    def __init__(self, what: str, capacity: int, holders: list[str]):
        super().__init__(
            f"{what}: {len(holders)} of {capacity} places are used, by {', '.join(holders)}",
            {"places": [f"{len(holders)} of {capacity} used"], "held_by": list(holders)},
        )
        self.capacity = capacity
        self.holders = list(holders)


class DeadlinePassed(DomainRuleViolation):
    """A level acts after its deadline."""

    code = "deadline_passed"


class PayloadTooLarge(PlatformError):
    """A request body past the route's limit: refused before (or as soon as) it passes it."""

    status = 413
    code = "payload_too_large"

    def __init__(self, field: str, limit: int):
        rule = f"the body is larger than the limit of {limit} bytes"
        super().__init__(rule, {field: [rule]})
        self.limit = limit
