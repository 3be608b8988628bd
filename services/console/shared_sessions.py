"""Sessions every console process reads: a table, so two replicas (or a restarted console) serve
the same signed-in people.

What the table would give someone who reads it — a backup, a replica, an operator — is
nothing they can use: a row is keyed by the SHA-256 of the session id (the cookie's value
is not stored, so a row cannot be turned back into a cookie), and its contents (the
person's access, id and refresh tokens, the CSRF secret, a sign-in under way) are sealed
with AES-GCM under `CONSOLE_SESSION_KEY`, with the row's key as associated data (a sealed
value moved to another row does not open). The key lives in the console's environment
(a secret), never in the database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.console.sessions import Session
from shared.infra.config import ensure_sqlite_parent, sqlalchemy_url
from shared.infra.pools import engine_options

SEEN_RESOLUTION = timedelta(minutes=1)  # how stale `seen` may get before a read writes it again
_SEALED_FIELDS = ("csrf", "lang", "tokens", "pending", "notices")

metadata = sa.MetaData()
sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256(session id), hex
    sa.Column("sealed", sa.LargeBinary, nullable=False),  # nonce (12 bytes) + AES-GCM ciphertext
    sa.Column("seen", sa.DateTime(timezone=True), nullable=False, index=True),
)


def session_key(value: str) -> bytes:
    """The key from its text form: 32 bytes, URL-safe base64 (`caseplatform` writes one locally)."""
    try:
        key = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError("CONSOLE_SESSION_KEY must be 32 bytes in URL-safe base64 "
                         "(e.g. openssl rand -base64 32 | tr '+/' '-_')")
    return key


def new_session_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _row_id(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # SQLite forgets the zone


class DatabaseSessions:
    """The SessionStore of a console with more than one process."""

    def __init__(self, url: str, key: bytes, idle_seconds: float = 8 * 3600):
        ensure_sqlite_parent(url)
        self.engine = sa.create_engine(sqlalchemy_url(url), **engine_options(url, name="console-sessions", size=2,
                                                                            max_overflow=8))
        metadata.create_all(self.engine)
        self.idle = timedelta(seconds=idle_seconds)
        self._aead = AESGCM(key)

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        ident, now = _row_id(sid), datetime.now(UTC)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(sessions).where(sessions.c.id == ident)).first()
            if row is None:
                return None
            if now - _as_utc(row.seen) > self.idle:
                conn.execute(sessions.delete().where(sessions.c.id == ident))
                return None
        try:
            values = json.loads(self._aead.decrypt(row.sealed[:12], row.sealed[12:], ident.encode()))
        except Exception:  # noqa: BLE001 - another key, or a row tampered with: no session, sign in again
            return None
        session = Session(sid, **values)
        session.stored = self._record(session)
        session.stored_seen = _as_utc(row.seen)
        return session

    def new(self, lang: str = "zh") -> Session:
        session = Session(secrets.token_urlsafe(32), lang=lang)
        with self.engine.begin() as conn:  # the idle ones go when someone arrives, not on a timer
            conn.execute(sessions.delete().where(sessions.c.seen < datetime.now(UTC) - self.idle))
        self.save(session)
        return session

    def save(self, session: Session) -> None:
        """Writes the session when it changed, or when its `seen` is over a minute old."""
        record, now = self._record(session), datetime.now(UTC)
        if record == session.stored and session.stored_seen and now - session.stored_seen < SEEN_RESOLUTION:
            return
        ident = _row_id(session.sid)
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, record.encode(), ident.encode())
        with self.engine.begin() as conn:
            if conn.execute(sessions.update().where(sessions.c.id == ident)
                            .values(sealed=sealed, seen=now)).rowcount == 0:
                conn.execute(sessions.insert().values(id=ident, sealed=sealed, seen=now))
        session.stored, session.stored_seen = record, now

    def drop(self, sid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.id == _row_id(sid)))

    @staticmethod
    def _record(session: Session) -> str:
        values = asdict(session)
        return json.dumps({name: values[name] for name in _SEALED_FIELDS}, ensure_ascii=False, sort_keys=True)
