"""Outbox relay: the ledger's notification log, published to RabbitMQ in commit order.

Nothing is dispatched inline after a save: a command only appends to the
ledger, and the relay carries what was committed. Its position is stored in the
ledger database and moved only after the broker confirmed the batch, so a crash
re-sends (at-least-once) and never skips. Every service process runs a relay;
a leadership lock (PostgreSQL advisory lock, or a file lock beside the SQLite
ledger) lets exactly one of them publish at a time.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path

import sqlalchemy as sa
from kombu import Connection, Producer

from shared import topology
from shared.config import sqlalchemy_url
from shared.contracts import message_id, routing_key
from shared.ledger import CaseLedger, schema_lock, to_recorded
from shared.pools import engine_options

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x63617365  # "case": one relay leader per ledger database

_metadata = sa.MetaData()
relay_position = sa.Table(
    "relay_position",
    _metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)


class PositionStore:
    """The last notification id the broker confirmed, kept in the ledger database."""

    def __init__(self, engine: sa.Engine, url: str, name: str = "rabbitmq"):
        self.engine = engine
        self.name = name
        with schema_lock(url):
            _metadata.create_all(engine)

    def get(self) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(relay_position.c.position).where(relay_position.c.name == self.name)
            ).first()
        return row[0] if row else 0

    def set(self, position: int) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                relay_position.update()
                .where(relay_position.c.name == self.name)
                .values(position=position)
            ).rowcount
            if not updated:
                conn.execute(relay_position.insert().values(name=self.name, position=position))


class Leadership:
    def acquire(self) -> bool:
        raise NotImplementedError

    def holds(self) -> bool:
        """Checks that the lock is still held (may ask the database)."""
        raise NotImplementedError

    @property
    def held(self) -> bool:
        """Whether the lock was held at the last acquire or check; costs nothing."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class PostgresLeadership(Leadership):
    """A session-level advisory lock: released by the server if this process dies."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.conn: sa.Connection | None = None

    def acquire(self) -> bool:
        if self.holds():
            return True
        self.release()
        conn = self.engine.connect()
        try:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
            conn.commit()
        except BaseException:
            conn.close()  # back to the pool now: a database outage must not use the pool up
            raise
        if got:
            self.conn = conn
            return True
        conn.close()
        return False

    @property
    def held(self) -> bool:
        return self.conn is not None

    def holds(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute(sa.text("SELECT 1"))
            self.conn.commit()
            return True
        except sa.exc.SQLAlchemyError:
            # The session is gone, and the lock with it: another relay may lead now. Any
            # SQLAlchemy error, not only the driver's: a connection that failed inside its
            # transaction refuses everything after with PendingRollbackError, and a relay that
            # kept it would never lead again (tests/faults/test_relay_leadership.py).
            self._drop()
            return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self.conn.commit()
            except sa.exc.SQLAlchemyError:
                pass  # a broken session: closing it below ends it, and its lock with it
            self._drop()

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        try:
            conn.invalidate()  # closed, not returned to the pool: the server ends the session
            conn.close()
        except sa.exc.SQLAlchemyError:
            pass


class FileLeadership(Leadership):
    """An exclusive flock on a file beside the SQLite ledger; the kernel drops it with the process."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        if self.fd is not None:
            return True
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    @property
    def held(self) -> bool:
        return self.fd is not None

    def holds(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def leadership_for(ledger_url: str, engine: sa.Engine) -> Leadership:
    if ledger_url.startswith("sqlite:///"):
        return FileLeadership(Path(ledger_url[len("sqlite:///"):] + ".relay.lock"))
    if ledger_url.startswith(("postgresql", "postgres")):
        return PostgresLeadership(engine)
    raise ValueError(f"no relay leadership for {ledger_url!r}")


class Relay:
    def __init__(
        self, ledger: CaseLedger, ledger_url: str, amqp_uri: str, exchange: str,
        batch_size: int = 500, application_name: str | None = None,
    ):
        self.ledger = ledger
        # The leader holds one connection for its lock and borrows one more for its position;
        # a standby only tries the lock now and then.
        pool = engine_options(ledger_url, name=application_name, size=1, max_overflow=1)
        self.engine = sa.create_engine(sqlalchemy_url(ledger_url), pool_pre_ping=True, **pool)
        self.positions = PositionStore(self.engine, ledger_url)
        self.leadership = leadership_for(ledger_url, self.engine)
        self.amqp_uri = amqp_uri
        self.exchange = topology.ledger_exchange(exchange)
        self.exchange_name = exchange
        self.batch_size = batch_size
        self.connection: Connection | None = None
        self.producer: Producer | None = None

    def _producer(self) -> Producer:
        if self.producer is None:
            # confirm_publish: publish() returns only once the broker has the message.
            self.connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
            channel = self.connection.channel()
            topology.declare(channel, self.exchange_name)
            self.producer = Producer(channel, exchange=self.exchange)
        return self.producer

    def reset_broker(self) -> None:
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass
        self.connection = None
        self.producer = None

    @property
    def leads(self) -> bool:
        """As of the last `run_once`: the loop asks this after every pass, so no query here."""
        return self.leadership.held

    def run_once(self) -> int:
        """Publishes the next batch if this relay leads; returns how many events went out."""
        if not self.leadership.acquire():
            return 0
        position = self.positions.get()
        batch = list(self.ledger.notifications(position, self.batch_size))
        if not batch:
            return 0
        producer = self._producer()
        for notification_id, event in batch:
            recorded = to_recorded(event, notification_id)
            body = recorded.as_dict()
            body["message_id"] = message_id(recorded.case_id, recorded.version)
            producer.publish(
                json.dumps(body, ensure_ascii=False),
                routing_key=routing_key(recorded.stream, recorded.type),
                content_type="application/json",
                content_encoding="utf-8",
                message_id=body["message_id"],
                delivery_mode=2,
                retry=False,
            )
        # Re-check leadership before moving the position: a relay that lost its
        # lock mid-batch has only published duplicates, which consumers absorb.
        if self.leadership.holds():
            self.positions.set(batch[-1][0])
        return len(batch)

    def close(self) -> None:
        self.reset_broker()
        self.leadership.release()
        self.engine.dispose()
