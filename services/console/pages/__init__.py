"""The console's pages, one module per kind of person: each registers its routes."""

from __future__ import annotations

import importlib

from flask import Flask

from services.console.pages.common import Refused

__all__ = ["Refused", "register"]

AREAS = ("public", "applicant", "applicant_form", "authority", "ministry_calls", "ministry", "review", "audit",
         "privacy", "notices")


def register(app: Flask) -> None:
    for area in AREAS:
        module = importlib.import_module(f"services.console.pages.{area}")
        module.register(app)
