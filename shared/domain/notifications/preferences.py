"""What a person receives, per kind: immediately, in a daily digest, or not at all.

Refusals and overdue notices (`MANDATORY`) may go into a digest but cannot be turned off:
choosing "off" for one is refused naming the field, as any rule of the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.domain.errors import DomainRuleViolation
from shared.domain.notifications.kinds import MANDATORY, Kind


class Delivery:
    IMMEDIATELY = "immediately"
    DAILY_DIGEST = "daily_digest"
    OFF = "off"

    ALL = (IMMEDIATELY, DAILY_DIGEST, OFF)


@dataclass(frozen=True)
class Preferences:
    """A person's choices; a kind not chosen is sent immediately."""

    choices: Mapping[str, str] = field(default_factory=dict)

    def delivery_of(self, kind: str) -> str:
        return self.choices.get(kind, Delivery.IMMEDIATELY)

    def choose(self, kind: str, delivery: str) -> Preferences:
        """These preferences with `kind` delivered as `delivery`; refused for an unknown kind or delivery,
        and for "off" on a kind that cannot be turned off."""
        name = f"preferences.{kind}"
        if kind not in Kind.ALL:
            raise DomainRuleViolation(name, f"no kind of notice {kind!r}")
        if delivery not in Delivery.ALL:
            raise DomainRuleViolation(name, f"delivery is one of {', '.join(Delivery.ALL)}, not {delivery!r}")
        if delivery == Delivery.OFF and kind in MANDATORY:
            raise DomainRuleViolation(
                name, f"{kind} is a refusal or an overdue notice: it cannot be turned off (a daily digest may hold it)")
        return Preferences({**self.choices, kind: delivery})

    @classmethod
    def of(cls, choices: Mapping[str, str]) -> Preferences:
        """Every choice checked, as `choose` checks one."""
        preferences = cls()
        for kind, delivery in choices.items():
            preferences = preferences.choose(kind, delivery)
        return preferences
