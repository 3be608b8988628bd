"""The data subjects' keys and the record of who read whose data, in a database apart from the ledger.

One row per key: the case and the data subject (a path in the application, "cover.contact_1")
it seals, its 256-bit AES key, and when it was destroyed (the key set to NULL: crypto-shredding).
A backup of the ledger holds no key, so it cannot bring an erased person back; the key store's
own backups must be kept no longer than the shortest retention they may outlive (deploy/README.md).

`KeyStore` is the interface a KMS could replace: create, fetch, destroy, nothing else of the keys.
The access record (`personal_access`) lives here too: it names cases and people's accounts, not
the data they read.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from shared.infra.readmodels.store import database_engine

if TYPE_CHECKING:
    from shared.domain.access import Caller

metadata = sa.MetaData()

keys = sa.Table(
    "personal_keys", metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("subject", sa.String(300), nullable=False),  # the data subject's path in the case's documents
    sa.Column("kind", sa.String(40), nullable=False),  # shared.domain.personal's kind of subject
    sa.Column("key", sa.LargeBinary, nullable=True),  # NULL: destroyed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
)

access = sa.Table(
    "personal_access", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("sub", sa.String(200), nullable=False),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("org", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("route", sa.String(200), nullable=False),  # why: the request that showed the data
    sa.Column("subjects", sa.Text, nullable=False),  # JSON list of the subjects' paths shown
)

erasures = sa.Table(
    # Erasures of personal data kept outside the ledger (an authority's contact, a read model's
    # profile): the ledger's own erasures are events on their streams.
    "personal_erasures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("sub", sa.String(200), nullable=False),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("org", sa.String(64), nullable=False),
    sa.Column("record", sa.String(64), nullable=False, index=True),  # "authority:420000"
    sa.Column("subjects", sa.Text, nullable=False),  # JSON list
    sa.Column("request", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class Key:
    key_id: str
    case_id: str
    subject: str
    kind: str
    key: bytes | None  # None: destroyed
    created_at: datetime
    destroyed_at: datetime | None


def _key(row) -> Key:
    return Key(row.key_id, row.case_id, row.subject, row.kind, row.key, row.created_at, row.destroyed_at)


class KeyStore:
    def __init__(self, url: str, *, pool_size: int = 1, max_overflow: int = 4, application_name: str | None = None):
        self.engine = database_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                                      application_name=application_name)
        _create_tables(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def live_key(self, case_id: str, subject: str, kind: str) -> Key:
        """The subject's key in force, made now if it has none (never made, or destroyed: a person named
        again after an erasure gets a new key, and the erased values stay erased)."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(keys).where(
                keys.c.case_id == case_id, keys.c.subject == subject, keys.c.key.is_not(None),
            ).order_by(keys.c.created_at).limit(1)).first()
            if row is not None:
                return _key(row)
            made = Key(uuid.uuid4().hex, case_id, subject, kind, os.urandom(32), datetime.now(UTC), None)
            conn.execute(keys.insert().values(key_id=made.key_id, case_id=case_id, subject=subject, kind=kind,
                                              key=made.key, created_at=made.created_at))
            return made

    def fetch(self, key_ids: Iterable[str]) -> dict[str, Key]:
        wanted = sorted(set(key_ids))
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            return {row.key_id: _key(row) for row in conn.execute(sa.select(keys).where(keys.c.key_id.in_(wanted)))}

    def of_case(self, case_id: str) -> list[Key]:
        with self.engine.connect() as conn:
            return [_key(r) for r in conn.execute(
                sa.select(keys).where(keys.c.case_id == case_id).order_by(keys.c.subject, keys.c.created_at))]

    def records(self) -> list[str]:
        """Every stream (a case, a panel) that ever had a key: where a person's data may be."""
        with self.engine.connect() as conn:
            return [r.case_id for r in conn.execute(sa.select(keys.c.case_id).distinct().order_by(keys.c.case_id))]

    def destroy(self, key_ids: Iterable[str], *, at: datetime | None = None) -> int:
        """Destroys the keys (idempotent); how many were still live."""
        wanted = sorted(set(key_ids))
        if not wanted:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(keys.update().where(keys.c.key_id.in_(wanted), keys.c.key.is_not(None))
                                .values(key=None, destroyed_at=at or datetime.now(UTC))).rowcount

    def record_reading(self, by: Caller, *, record: str, route: str, subjects: Iterable[str]) -> None:
        """A reading by a caller: data kept outside the ledger shown, or a person's copy that showed it."""
        self.record_access(sub=by.sub, role=by.role, org=by.org, case_id=record, route=route, subjects=subjects)

    def record_access(self, *, sub: str, role: str, org: str, case_id: str, route: str,
                      subjects: Iterable[str], at: datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(access.insert().values(at=at or datetime.now(UTC), sub=sub, role=role, org=org,
                                                case_id=case_id, route=route,
                                                subjects=json.dumps(sorted(set(subjects)))))

    def record_erasure(self, by: Caller, *, record: str, subjects: Iterable[str], request: str, reason: str,
                       at: datetime | None = None) -> dict:
        """Records an erasure of data the ledger does not hold: who, when, which record, whose, why."""
        moment, whose = at or datetime.now(UTC), sorted(set(subjects))
        values = {"sub": by.sub, "role": by.role, "org": by.org, "record": record, "request": request,
                  "reason": reason}
        with self.engine.begin() as conn:
            conn.execute(erasures.insert().values(at=moment, subjects=json.dumps(whose), **values))
        return {"at": moment.isoformat(), "subjects": whose, **values}

    def erasures(self, *, record: str | None = None, limit: int = 500, offset: int = 0) -> list[dict]:
        query = sa.select(erasures).order_by(erasures.c.id)
        if record is not None:
            query = query.where(erasures.c.record == record)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).all()
        return [{"at": _utc(r.at).isoformat(), "sub": r.sub, "role": r.role, "org": r.org, "record": r.record,
                 "subjects": json.loads(r.subjects), "request": r.request, "reason": r.reason} for r in rows]

    def accesses(self, *, case_id: str | None = None, sub: str | None = None, limit: int = 500,
                 offset: int = 0) -> list[dict]:
        query = sa.select(access).order_by(access.c.id)
        if case_id is not None:
            query = query.where(access.c.case_id == case_id)
        if sub is not None:
            query = query.where(access.c.sub == sub)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).all()
        return [{"at": _utc(r.at).isoformat(), "sub": r.sub, "role": r.role, "org": r.org, "case_id": r.case_id,
                 "route": r.route, "subjects": json.loads(r.subjects)} for r in rows]


def _create_tables(engine: sa.Engine, attempts: int = 10) -> None:
    """Every service that reads personal data opens the key store, several at the same instant:
    PostgreSQL lets two `CREATE TABLE`s of the same name race (one fails on its catalogue's unique
    index), so the loser looks again and finds the table made."""
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
