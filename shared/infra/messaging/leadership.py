"""Who publishes the ledger, and where it got to: the relay's leadership lock and its stored position.

Every service process runs a relay; a leadership lock (a PostgreSQL advisory lock, or a file
lock beside the SQLite ledger) lets exactly one of them publish at a time. The position (the
last notification id the broker confirmed) is kept in the ledger database and moved only by
the lock's holder, after the broker confirmed the batch (shared/infra/messaging/relay.py).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import sqlalchemy as sa

from shared.infra.ledger import schema_lock

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
        if conn is None:
            return
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
