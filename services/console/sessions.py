"""Server-side sessions: the cookie holds only a random id; tokens stay on the server.

Two stores with one interface (get, new, save, drop): `SessionStore` in this process's
memory (one console process; a restart asks people to sign in again), and
`shared_sessions.DatabaseSessions`, a table every console process reads, chosen by
`CONSOLE_SESSIONS_URL`. Idle sessions are dropped after `idle_seconds`; the provider's
refresh tokens outlive them no longer than its own sign-in (a working day)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

COOKIE = "console_session"


@dataclass
class Session:
    sid: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    lang: str = "zh"
    tokens: dict | None = None  # access_token, id_token, refresh_token, expires_at
    pending: dict | None = None  # the sign-in under way: state, nonce, PKCE verifier
    seen: float = field(default_factory=time.monotonic)
    notices: list[dict] = field(default_factory=list)  # shown once on the next page (pages.common.notify)
    # What a shared store last wrote, so an unchanged session is not written on every request.
    stored: str | None = field(default=None, repr=False, compare=False)
    stored_seen: datetime | None = field(default=None, repr=False, compare=False)


class SessionStore:
    def __init__(self, idle_seconds: float = 8 * 3600):
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, sid: str | None) -> Session | None:
        now = time.monotonic()
        with self._lock:
            for stale in [k for k, s in self._sessions.items() if now - s.seen > self.idle_seconds]:
                del self._sessions[stale]
            found = self._sessions.get(sid or "")
            if found is not None:
                found.seen = now
            return found

    def new(self, lang: str = "zh") -> Session:
        session = Session(secrets.token_urlsafe(32), lang=lang)
        with self._lock:
            self._sessions[session.sid] = session
        return session

    def save(self, session: Session) -> None:
        """Nothing to do: the request changed the very object this store holds."""

    def drop(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)
