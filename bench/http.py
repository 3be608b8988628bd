"""A lean keep-alive HTTP client for the load generators (one per client thread).

`requests` costs the client more CPU per call than the services' own parsing, on
the same two cores; `http.client` with one persistent connection costs little.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit


class HttpError(RuntimeError):
    def __init__(self, status: int, body: bytes):
        super().__init__(f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
        self.status = status


class Client:
    def __init__(self, base_url: str, timeout: float = 120.0):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, *, json_body: Any = None, data: Any = None, token: str | None = None,
                headers: dict | None = None, expect: tuple[int, ...] = (200, 201)) -> Any:
        """Sends one request (a JSON body, or raw `data`: bytes or an iterable of chunks with a Content-Length
        header); returns the decoded JSON answer, or raises HttpError for another status."""
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        body = data
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            all_headers["Content-Type"] = "application/json"
        reused = self.conn is not None
        try:
            status, answer = self._send(method, path, body, all_headers)
        except (ConnectionError, http.client.BadStatusLine):
            # The server closed an idle keep-alive connection: only then is a resend safe.
            self.close()
            if not reused or (body is not None and not isinstance(body, bytes)):
                raise
            status, answer = self._send(method, path, body, all_headers)
        if status not in expect:
            raise HttpError(status, answer)
        return json.loads(answer) if answer else None

    def _send(self, method, path, body, headers) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.will_close:
            self.close()
        return response.status, data
