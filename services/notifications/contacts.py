"""The one function that reads a unit's contacts out of its application.

Another change encrypts the application's personal fields; their decryption hooks in here, and
nowhere else reads an e-mail address out of an application.
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
