"""What the service classes declare, read from the code rather than listed by hand in a test."""

from __future__ import annotations

import importlib

from shared.infra.config import SERVICES


def services_declaring(dependency: type) -> set[str]:
    """The services whose nameko class declares a `dependency` (e.g. TimerIdentity, PersonalData)."""
    found = set()
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.service")
        classes = [c for c in vars(module).values() if isinstance(c, type) and getattr(c, "name", None) == name]
        if any(isinstance(v, dependency) for c in classes for v in vars(c).values()):
            found.add(name)
    return found
