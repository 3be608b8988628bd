"""Who acted: the part of a caller every event of every stream records."""

from __future__ import annotations

from typing import Any, TypeAlias

from shared.domain.errors import DomainRuleViolation

#: An acting party as a command receives it: "sub", "role" and "org" at least (a caller's
#: claims may carry more, which `actor_record` leaves out of the event).
Actor: TypeAlias = dict[str, Any]


def actor_record(actor: Actor) -> Actor:
    """{"sub", "role", "org"} of `actor`, refused if any is missing or blank."""
    missing = [k for k in ("sub", "role", "org") if not actor.get(k)]
    if missing:
        raise DomainRuleViolation("actor", f"actor lacks {', '.join(missing)}")
    return {"sub": actor["sub"], "role": actor["role"], "org": actor["org"]}
