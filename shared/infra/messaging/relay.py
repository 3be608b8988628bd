"""Outbox relay: the ledger's notification log, published to RabbitMQ in commit order.

Nothing is dispatched inline after a save: a command only appends to the
ledger, and the relay carries what was committed. Its position is stored in the
ledger database and moved only after the broker confirmed the batch, so a crash
re-sends (at-least-once) and never skips. Every service process runs a relay;
a leadership lock (PostgreSQL advisory lock, or a file lock beside the SQLite
ledger) lets exactly one of them publish at a time. On PostgreSQL the leader
waits for the ledger's NOTIFY when it has nothing to send, rather than polling.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa
from amqp.exceptions import MessageNacked
from kombu import Connection, Producer
from psycopg import sql

from shared.infra.messaging import topology
from shared.infra.config import sqlalchemy_url
from shared.infra.messaging.contracts import message_id, routing_key
from shared.infra.ledger import CaseLedger, schema_lock, to_recorded
from shared.infra.pools import MAX_NAME, engine_options

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x63617365  # "case": one relay leader per ledger database
CONFIRM_TIMEOUT = 30.0  # seconds a batch waits for the broker's confirms before it counts as not sent
LISTEN_RETRY_PAUSE = 1.0  # seconds the leader polls before trying a failed LISTEN connection again

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
            self.set_on(conn, position)

    def set_on(self, conn: sa.Connection, position: int) -> None:
        """Writes the position through `conn`, in its transaction (or at once if it autocommits)."""
        updated = conn.execute(
            relay_position.update()
            .where(relay_position.c.name == self.name)
            .values(position=position)
        ).rowcount
        if not updated:
            conn.execute(relay_position.insert().values(name=self.name, position=position))


class Leadership:
    # How many times this process has taken the lock afresh: a new term means another relay
    # may have led in between.
    term = 0

    def acquire(self) -> bool:
        raise NotImplementedError

    def holds(self) -> bool:
        """Checks that the lock is still held (may ask the database)."""
        raise NotImplementedError

    @property
    def held(self) -> bool:
        """Whether the lock was held at the last acquire or check; costs nothing."""
        raise NotImplementedError

    def move(self, positions: PositionStore, position: int) -> bool:
        """Stores `position` if the lock is still held; False (nothing stored) if it was lost.

        A relay that lost its lock mid-batch has only published duplicates, which consumers
        absorb; it must not move a position another leader now owns.
        """
        if not self.holds():
            return False
        positions.set(position)
        return True

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
        # Autocommit: the lock belongs to the session, not to a transaction, and the check
        # the leader makes on every pass (`holds`) is then one round trip, not two.
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
            conn.commit()
        except BaseException:
            conn.close()  # back to the pool now: a database outage must not use the pool up
            raise
        if got:
            self.conn = conn
            self.term += 1
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

    def move(self, positions: PositionStore, position: int) -> bool:
        # Written on the lock's own session: if it is alive the lock is held, so the write is
        # the check too, in one round trip (the session autocommits).
        if self.conn is None:
            return False
        try:
            positions.set_on(self.conn, position)
            return True
        except sa.exc.SQLAlchemyError:
            self._drop()  # the session is gone, and the lock with it (see holds)
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
        self.term += 1
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


class CommitListener:
    """Wakes the leader when the ledger commits: LISTEN on the channel eventsourcing NOTIFYs.

    eventsourcing's PostgreSQL recorder sends NOTIFY on its events table's channel in every
    inserting transaction, and PostgreSQL delivers it at the commit, when the events are
    readable. A dedicated autocommit connection: notifications reach only a session that is
    outside a transaction, and the pools' connections are busy with queries. Under eventlet,
    pure-Python psycopg waits with select(), which eventlet makes green: the wait yields to
    the hub (tests/integration/test_relay.py). A wait never outlasts its timeout, so a lost
    or silent connection costs a poll interval, not an event.
    """

    def __init__(self, url: str, channel: str, application_name: str | None = None):
        self.url = url
        self.channel = channel
        self.application_name = application_name
        self.conn: psycopg.Connection | None = None
        self.retry_at = 0.0

    def wait(self, timeout: float) -> bool:
        """Returns at a commit's notification or after `timeout`; False if it could not listen."""
        if self.conn is None:
            if time.monotonic() < self.retry_at:
                return False
            try:
                self._listen()
            except (psycopg.Error, OSError) as exc:
                log.warning("relay: cannot LISTEN for commits (%s); polling", exc)
                self.retry_at = time.monotonic() + LISTEN_RETRY_PAUSE
                return False
            # What was committed before LISTEN was not notified: the caller looks again at once.
            return True
        try:
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                pass
            # A burst's other notifications, already here: the next batch reads all their events.
            for _ in self.conn.notifies(timeout=0):
                pass
        except (psycopg.Error, OSError) as exc:
            log.warning("relay: lost its LISTEN connection (%s); polling until it is back", exc)
            self.close()
            return False
        return True

    def _listen(self) -> None:
        options = {"application_name": self.application_name[:MAX_NAME]} if self.application_name else {}
        # Keepalives: a connection whose server vanished without a reset errors within a
        # minute instead of staying silent (and the relay polling) for hours.
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2, keepalives=1,
                               keepalives_idle=20, keepalives_interval=5, keepalives_count=3, **options)
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except BaseException:
            conn.close()
            raise
        self.conn = conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except (psycopg.Error, OSError):
                pass  # already broken: nothing to end


def commit_listener(ledger: CaseLedger, ledger_url: str, application_name: str | None) -> CommitListener | None:
    """A listener on the ledger's NOTIFY channel, or None where there is no NOTIFY (SQLite)."""
    channel = getattr(ledger.recorder, "channel_name", None)
    if channel is None or not ledger_url.startswith(("postgresql", "postgres")):
        return None
    return CommitListener(ledger_url, channel, application_name)


class BatchConfirms:
    """The broker's publisher confirms for a whole batch, waited for once.

    A channel in confirm mode numbers its messages 1, 2, ... and the broker acks or nacks
    them, one or `multiple` at once, as it takes them: publishing a batch and then waiting
    for the last one costs one round trip, where a confirm per message costs one each.
    """

    def __init__(self, channel):
        channel.confirm_select()
        channel.events["basic_ack"].add(self._acked)
        channel.events["basic_nack"].add(self._nacked)
        self.channel = channel
        self.published = 0
        self.unconfirmed: set[int] = set()
        self.nacked: set[int] = set()

    def sent(self) -> None:
        self.published += 1
        self.unconfirmed.add(self.published)

    def _settle(self, delivery_tag: int, multiple: bool) -> set[int]:
        if multiple:
            settled = {tag for tag in self.unconfirmed if tag <= delivery_tag}
        else:
            settled = {delivery_tag} & self.unconfirmed
        self.unconfirmed -= settled
        return settled

    def _acked(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _nacked(self, delivery_tag: int, multiple: bool) -> None:
        self.nacked |= self._settle(delivery_tag, multiple)

    def wait(self, timeout: float) -> None:
        """Returns once the broker has taken every message sent; raises if it refused one or was silent."""
        deadline = time.monotonic() + timeout
        while self.unconfirmed and not self.nacked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.unconfirmed)} messages unconfirmed after {timeout:.0f} s")
            self.channel.connection.drain_events(timeout=remaining)
        if self.nacked:
            raise MessageNacked(f"the broker refused {len(self.nacked)} of the batch's messages")


class Relay:
    def __init__(
        self, ledger: CaseLedger, ledger_url: str, amqp_uri: str, exchange: str,
        batch_size: int = 500, application_name: str | None = None, listener_name: str | None = None,
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
        self.confirms: BatchConfirms | None = None
        # The position as this relay last read or wrote it. Only the leader writes it, so while
        # the lock is held without a break (one term) the stored one cannot have moved: read
        # again only in a new term.
        self.position: int | None = None
        self.position_term = 0
        # Only the leader listens: a standby holds no connection for it.
        self.listener = commit_listener(ledger, ledger_url, listener_name)

    def _producer(self) -> Producer:
        if self.producer is None:
            self.connection = Connection(self.amqp_uri)
            channel = self.connection.channel()
            topology.declare(channel, self.exchange_name)
            self.confirms = BatchConfirms(channel)
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
        self.confirms = None

    @property
    def leads(self) -> bool:
        """As of the last `run_once`: the loop asks this after every pass, so no query here."""
        return self.leadership.held

    def run_once(self) -> int:
        """Publishes the next batch if this relay leads; returns how many events went out."""
        if not self.leadership.acquire():
            self.position = None
            if self.listener is not None:
                self.listener.close()  # a standby does not listen: only the leader's counts against the budget
            return 0
        if self.position is None or self.position_term != self.leadership.term:
            self.position, self.position_term = self.positions.get(), self.leadership.term
        batch = list(self.ledger.notifications(self.position, self.batch_size))
        if not batch:
            return 0
        producer = self._producer()
        try:
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
                self.confirms.sent()
            self.confirms.wait(CONFIRM_TIMEOUT)
        except BaseException:
            # Not all confirmed (a nack, a broken connection, no answer): the position stays
            # and the whole batch goes again, on a new channel whose numbering starts afresh.
            self.reset_broker()
            raise
        self.position = None  # unknown until the write is known to have committed
        if self.leadership.move(self.positions, batch[-1][0]):
            self.position = batch[-1][0]
        return len(batch)

    def await_commit(self, timeout: float) -> bool:
        """Waits up to `timeout` for the ledger to commit something; False if it could not (then poll).

        For the leader, after a pass that sent nothing.
        """
        if self.listener is None or not self.leads:
            return False
        return self.listener.wait(timeout)

    def close(self) -> None:
        self.reset_broker()
        if self.listener is not None:
            self.listener.close()
        self.leadership.release()
        self.engine.dispose()
