"""The services' HTTP APIs, called as the signed-in person (their bearer token) or as nobody
(public routes). A refusal comes back as a message to show, with the service's per-field
reasons, never as an exception page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

TIMEOUT = 15  # seconds: the services answer in well under one; an upload of 50 MiB on a LAN too


@dataclass
class Answer:
    data: Any = None
    status: int = 0
    error: str = ""  # the service's own message, or "" when it answered 2xx
    code: str = ""  # the service's error code (`quota_exceeded`, `invalid`, ...)
    fields: dict[str, Any] = field(default_factory=dict)  # field path -> the rule it broke

    @property
    def ok(self) -> bool:
        return not self.error and self.status < 400


@dataclass
class Download:
    """A file a service gave (CSV, xlsx, a bundle), to hand to the browser as it came."""
    content: bytes
    content_type: str
    filename: str


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _refusal(response: requests.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        return Answer(status=response.status_code, error=f"{response.status_code}: {response.text[:200]}")
    if not isinstance(body, dict):
        return Answer(status=response.status_code, error=f"{response.status_code}: {str(body)[:200]}")
    message = body.get("message") or body.get("error") or str(body)
    fields = body.get("fields") if isinstance(body.get("fields"), dict) else {}
    return Answer(status=response.status_code, error=f"{response.status_code}: {message}",
                  code=str(body.get("error") or ""), fields=fields or {})


def call(base: str, path: str, token: str | None = None, params: dict | None = None) -> Answer:
    """GET a JSON resource."""
    return send(base, "GET", path, token, params=params)


def send(base: str, method: str, path: str, token: str | None = None, *, json: Any = None,
         params: dict | None = None, files: dict | None = None, data: Any = None) -> Answer:
    """Any JSON call: a command (POST/PUT with a JSON body), or an upload (`files`, or the file's
    bytes as the body in `data`)."""
    try:
        response = requests.request(method, f"{base}{path}", headers=_headers(token), json=json, params=params,
                                    files=files, data=data, timeout=TIMEOUT)
    except requests.RequestException:
        return Answer(status=503, error="unreachable", code="unreachable")
    if response.status_code >= 400:
        return _refusal(response)
    if response.status_code == 204 or not response.content:
        return Answer(data=None, status=response.status_code)
    try:
        return Answer(data=response.json(), status=response.status_code)
    except ValueError:
        return Answer(status=502, error="502: the service answered something other than JSON", code="bad_gateway")


def download(base: str, path: str, token: str | None = None, params: dict | None = None) -> Download | Answer:
    """A file as the service gave it, or the refusal as an Answer."""
    try:
        response = requests.get(f"{base}{path}", headers=_headers(token), params=params, timeout=TIMEOUT)
    except requests.RequestException:
        return Answer(status=503, error="unreachable", code="unreachable")
    if response.status_code >= 400:
        return _refusal(response)
    disposition = response.headers.get("Content-Disposition", "")
    name = disposition.split("filename=")[-1].strip('"; ') if "filename=" in disposition else path.rsplit("/", 1)[-1]
    return Download(response.content, response.headers.get("Content-Type", "application/octet-stream"), name)
