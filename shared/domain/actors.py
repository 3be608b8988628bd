"""Who acted: the part of a caller every event of every stream records."""

from __future__ import annotations

from typing import Any

from shared.domain.errors import DomainRuleViolation


def actor_record(actor: dict[str, Any]) -> dict[str, Any]:
    """{"sub", "role", "org"} of `actor`, refused if any is missing or blank."""
    missing = [k for k in ("sub", "role", "org") if not actor.get(k)]
    if missing:
        raise DomainRuleViolation("actor", f"actor lacks {', '.join(missing)}")
    return {"sub": actor["sub"], "role": actor["role"], "org": actor["org"]}
