"""The services' HTTP APIs, called as the signed-in person (their bearer token) or as nobody
(public routes). A refusal comes back as a message to show, never as an exception page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class Answer:
    data: Any = None
    status: int = 0
    error: str = ""  # the service's own message, or "" when it answered 2xx

    @property
    def ok(self) -> bool:
        return not self.error and self.status < 400


def call(base: str, path: str, token: str | None = None, params: dict | None = None) -> Answer:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(f"{base}{path}", headers=headers, params=params, timeout=15)
    except requests.RequestException:
        return Answer(status=503, error="unreachable")
    if response.status_code >= 400:
        try:
            body = response.json()
            message = body.get("message") or body.get("error") or str(body)
        except ValueError:
            message = response.text[:200]
        return Answer(status=response.status_code, error=f"{response.status_code}: {message}")
    return Answer(data=response.json(), status=response.status_code)
