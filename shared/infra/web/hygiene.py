"""What every answer carries and how refusals are logged and throttled (issue #18, finding 5).

- Headers: the services answer JSON and files to API clients and the console, never pages
  to embed, so every answer forbids sniffing, framing and referrers; an answer about a
  case, a draft or a person (any non-public route) is `Cache-Control: no-store`, so no
  proxy or shared browser keeps it. HSTS tells browsers to come back over HTTPS only
  (browsers ignore it over plain HTTP, so a local run is unaffected).
- Logs: a refusal (4xx) is the service doing its job: one INFO line, no traceback. nameko
  logs every exception a worker raises with its traceback at ERROR or WARNING; the filter
  below turns those of refusals into DEBUG lines without one, so a real fault (5xx) stands out.
- Failed authentication is counted per client address: past `limit` failures in `window`
  seconds the client gets 429 with Retry-After until the window has room again, so a
  stolen-token search or a broken integration costs the service little.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from werkzeug.wrappers import Response

from shared.domain.errors import PlatformError
from shared.infra.web.errors import refusal_of

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000",
}


def with_security_headers(response: Response, *, public: bool) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not public:
        response.headers["Cache-Control"] = "no-store"
    return response


class RefusalsQuiet(logging.Filter):
    """On nameko's container logger: a worker's refusal (a PlatformError answered with a
    4xx) becomes a DEBUG line with no traceback; anything else passes as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, PlatformError):
            refusal = refusal_of(error)
            if refusal is not None and refusal.status < 500:
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
                record.exc_info, record.exc_text = None, None
                return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def quiet_refusals() -> None:
    logger = logging.getLogger("nameko.containers")
    if not any(isinstance(f, RefusalsQuiet) for f in logger.filters):
        logger.addFilter(RefusalsQuiet())


class FailureThrottle:
    """Failed authentications per client address in a sliding window."""

    def __init__(self, limit: int = 30, window: float = 60.0, max_clients: int = 10_000):
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int | None:
        """Seconds until the client may try again, or None if it may now."""
        now = time.monotonic()
        with self._lock:
            if client not in self._failures:
                return None
            failures = self._recent(client, now)
            if len(failures) < self.limit:
                return None
            return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            if client not in self._failures and len(self._failures) >= self.max_clients:
                # Many addresses at once: forget those with no recent failure before adding one.
                for stale in [c for c, f in self._failures.items() if not f or f[-1] <= now - self.window]:
                    del self._failures[stale]
            self._recent(client, now).append(now)
