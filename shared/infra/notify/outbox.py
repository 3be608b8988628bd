"""The delivery outbox: each notification recorded once, sent under a lease, marked, retried or parked.

"Exactly once in effect" means, here:
- recorded once: a notification has a dedupe key (say, the event's message id, the
  recipient and the channel); recording it again, after a redelivered event or a restart,
  changes nothing (INSERT ... ON CONFLICT DO NOTHING on a unique key);
- sent at most once per lease: `claim` takes pending notifications that are due and not
  leased, and leases them, in ONE UPDATE ... RETURNING; two processes claiming at the same
  moment never both get the same row (PostgreSQL re-checks the WHERE on the row the other
  one just updated; SQLite has one writer at a time). Only the holder of the lease (its
  claim token) can mark the outcome;
- marked sent once the SMTP server or the endpoint accepted it; a failure is kept with its
  reason, and the retry policy gives the next attempt or parks it (never dropped: an
  operator lists the parked and puts them back with `requeue`);
- a crash between "accepted" and "marked" leaves the row leased; when the lease runs out it
  is sent again. That one repeat is unavoidable without the receiver's help, and the
  receiver gets it: the same Message-ID (mail.py) or delivery id (webhook.py) as the first,
  so it can drop the copy. The lease must be longer than one send can take (the SMTP and
  webhook timeouts), or a slow send could be repeated by another process while it runs.

Attempts are counted when claimed, so a notification that crashes its sender every time
still reaches the bound: `park_abandoned` parks it once its last lease ran out.

The service owns the database: these are tables in their own MetaData and functions that
take a connection (each call one short transaction of the caller's) or an engine.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Row

from shared.infra.notify.errors import DeliveryFailed
from shared.infra.notify.retry import DEFAULT_POLICY, PARK, RetryPolicy, next_attempt

log = logging.getLogger(__name__)

PENDING, SENT, PARKED = "pending", "sent", "parked"
CHANNELS = ("email", "webhook")
DEFAULT_LEASE = timedelta(minutes=5)

metadata = sa.MetaData()

notifications = sa.Table(
    "notification_outbox",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("dedupe_key", sa.String(300), nullable=False, unique=True),
    sa.Column("channel", sa.String(16), nullable=False),
    # Whom it concerns (a person's or an organisation's id: the listing is per recipient),
    # and where it goes (an e-mail address or a webhook endpoint's id).
    sa.Column("recipient", sa.String(200), nullable=False),
    sa.Column("address", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default=PENDING),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("claim_token", sa.String(36)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("parked_at", sa.DateTime(timezone=True)),
    sa.Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    sa.Index("ix_notification_outbox_recipient", "recipient", "created_at"),
)


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must carry their time zone")
    return moment.astimezone(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A time read back: SQLite returns it without its zone, and it was written in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def notification_id(dedupe_key: str) -> str:
    """The id follows from the dedupe key: every process that records it names it the same."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"caseplatform:notification:{dedupe_key}"))


def record(conn: Connection, *, dedupe_key: str, channel: str, recipient: str, address: str, kind: str,
           payload: dict[str, Any], now: datetime) -> tuple[str, bool]:
    """Records a notification to send; (its id, True) the first time, (its id, False) after that."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}")
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    ident = notification_id(dedupe_key)
    statement = insert(notifications).values(
        id=ident, dedupe_key=dedupe_key, channel=channel, recipient=recipient, address=address, kind=kind,
        payload=payload, status=PENDING, attempts=0, next_attempt_at=_utc(now), created_at=_utc(now),
    ).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return ident, conn.execute(statement).rowcount == 1


def claim(conn: Connection, *, now: datetime, lease: timedelta = DEFAULT_LEASE, limit: int = 10) -> list[Row]:
    """Leases up to `limit` due notifications to the caller, in one statement; the rows, each with its
    claim_token (pass it to mark_sent / mark_failed) and its attempts counted."""
    now = _utc(now)
    t = notifications
    free = sa.and_(t.c.status == PENDING, t.c.next_attempt_at <= now,
                   sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until < now))
    # SKIP LOCKED (PostgreSQL; SQLite renders no FOR UPDATE) lets two claimers take different
    # rows instead of one waiting on the other's; `free` repeated outside is what makes it safe.
    # A MATERIALIZED CTE, not `IN (subquery)`: PostgreSQL may run such a subquery again for
    # each row it updates, and a LIMIT then no longer limits anything.
    due = (sa.select(t.c.id).where(free).order_by(t.c.next_attempt_at).limit(limit)
           .with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED"))
    token = str(uuid.uuid4())
    statement = (t.update().where(t.c.id.in_(sa.select(due.c.id)), free)
                 .values(claimed_until=now + lease, claim_token=token, attempts=t.c.attempts + 1)
                 .returning(*t.c))
    return list(conn.execute(statement))


def mark_sent(conn: Connection, ident: str, token: str, *, now: datetime) -> bool:
    """Marks a claimed notification sent; False if the lease was lost (it ran out and another took it)."""
    t = notifications
    done = conn.execute(t.update().where(t.c.id == ident, t.c.claim_token == token, t.c.status == PENDING)
                        .values(status=SENT, sent_at=_utc(now), claimed_until=None, last_error=None))
    return done.rowcount == 1


def mark_failed(conn: Connection, ident: str, token: str, *, now: datetime, error: str, permanent: bool = False,
                policy: RetryPolicy = DEFAULT_POLICY) -> str | None:
    """Keeps the failure; PENDING (to retry at the policy's time) or PARKED; None if the lease was lost."""
    t = notifications
    row = conn.execute(sa.select(t.c.attempts).where(t.c.id == ident, t.c.claim_token == token,
                                                     t.c.status == PENDING)).first()
    if row is None:
        return None
    when = PARK if permanent else next_attempt(row.attempts, _utc(now), policy=policy, key=ident)
    values: dict[str, Any] = {"claimed_until": None, "last_error": error[:2000]}
    if when is PARK:
        values.update(status=PARKED, parked_at=_utc(now))
    else:
        values.update(next_attempt_at=when)
    done = conn.execute(t.update().where(t.c.id == ident, t.c.claim_token == token, t.c.status == PENDING)
                        .values(**values))
    if done.rowcount != 1:
        return None
    return PARKED if when is PARK else PENDING


def park_abandoned(conn: Connection, *, now: datetime, policy: RetryPolicy = DEFAULT_POLICY) -> int:
    """Parks the notifications whose last allowed attempt never reported back (its lease ran out)."""
    t = notifications
    now = _utc(now)
    done = conn.execute(t.update().where(
        t.c.status == PENDING, t.c.attempts >= policy.max_attempts, t.c.claimed_until < now,
    ).values(status=PARKED, parked_at=now, claimed_until=None,
             last_error=sa.func.coalesce(t.c.last_error, "") + " (no outcome from the last attempt)"))
    return done.rowcount


def requeue(conn: Connection, ids: Iterable[str], *, now: datetime) -> int:
    """An operator puts parked notifications back, each with its full number of attempts again."""
    t = notifications
    done = conn.execute(t.update().where(t.c.id.in_(list(ids)), t.c.status == PARKED).values(
        status=PENDING, attempts=0, next_attempt_at=_utc(now), parked_at=None, claimed_until=None,
        claim_token=None))
    return done.rowcount


def for_recipient(conn: Connection, recipient: str, *, limit: int = 100, offset: int = 0) -> list[Row]:
    """What was recorded for `recipient`, newest first, with its status."""
    t = notifications
    return list(conn.execute(sa.select(t).where(t.c.recipient == recipient)
                             .order_by(t.c.created_at.desc(), t.c.id).limit(limit).offset(offset)))


def listing(conn: Connection, *, status: str | None = None, channel: str | None = None, limit: int = 100,
            offset: int = 0) -> list[Row]:
    """The operator's list: every notification (or those of one status or channel), newest first."""
    t = notifications
    query = sa.select(t)
    if status:
        query = query.where(t.c.status == status)
    if channel:
        query = query.where(t.c.channel == channel)
    return list(conn.execute(query.order_by(t.c.created_at.desc(), t.c.id).limit(limit).offset(offset)))


@dataclass
class Pass:
    """What one `deliver_due` pass did, by notification id."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    parked: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # the lease ran out before the outcome was marked


def deliver_due(engine: Engine, send: Callable[[Row], object], *, now: datetime,
                lease: timedelta = DEFAULT_LEASE, limit: int = 10, policy: RetryPolicy = DEFAULT_POLICY) -> Pass:
    """One pass: claims what is due (one transaction), sends each, and marks each (one transaction each).

    `send(row)` delivers one notification, raising DeliveryFailed when it could not; any other
    exception is kept as a temporary failure (logged with its traceback), so a bug delays a
    notification until the bound parks it, and loses nothing.
    """
    outcome = Pass()
    with engine.begin() as conn:
        park_abandoned(conn, now=now, policy=policy)
        rows = claim(conn, now=now, lease=lease, limit=limit)
    for row in rows:
        error, permanent = None, False
        try:
            send(row)
        except DeliveryFailed as exc:
            error, permanent = exc.reason, exc.permanent
        except Exception as exc:
            log.exception("notification %s: the sender failed unexpectedly", row.id)
            error = f"{type(exc).__name__}: {exc}"
        with engine.begin() as conn:
            if error is None:
                (outcome.sent if mark_sent(conn, row.id, row.claim_token, now=now) else outcome.lost).append(row.id)
                continue
            state = mark_failed(conn, row.id, row.claim_token, now=now, error=error, permanent=permanent,
                                policy=policy)
        {PENDING: outcome.retrying, PARKED: outcome.parked, None: outcome.lost}[state].append(row.id)
    return outcome
