"""Pages of area `audit` (being built)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    return None
