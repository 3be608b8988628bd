"""The one function that reads a unit's contacts out of its application.

The addresses are sealed (issue #21): they are kept sealed in the read model and the outbox, and
opened only by the sender at the moment of sending (`Vault.open_for_delivery`), so an erased
contact's address is gone from here too, and a notice to it is parked unsent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def application_contacts(application: Mapping[str, Any]) -> list[str]:
    """The contacts' e-mail addresses an application gives (382号's cover: contact_1, contact_2)."""
    cover = application.get("cover") or {}
    found = []
    for name in sorted(cover):
        contact = cover[name]
        if name.startswith("contact_") and isinstance(contact, Mapping) and contact.get("email"):
            found.append(str(contact["email"]).strip())
    return found
