"""The relay leader's wake-up: a LISTEN on the channel the ledger NOTIFYs at every commit."""

from __future__ import annotations

import contextlib
import logging
import time

import psycopg
from psycopg import sql

from shared.infra.ledger import CaseLedger
from shared.infra.pools import MAX_NAME

log = logging.getLogger(__name__)

LISTEN_RETRY_PAUSE = 1.0  # seconds the leader polls before trying a failed LISTEN connection again


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
        # Unnamed (None, which psycopg leaves out): libpq's default, the process's PGAPPNAME.
        name = self.application_name[:MAX_NAME] if self.application_name else None
        # Keepalives: a connection whose server vanished without a reset errors within a
        # minute instead of staying silent (and the relay polling) for hours.
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2, keepalives=1,
                               keepalives_idle=20, keepalives_interval=5, keepalives_count=3, application_name=name)
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except BaseException:
            conn.close()
            raise
        self.conn = conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):  # already broken: nothing to end
                conn.close()


def commit_listener(ledger: CaseLedger, ledger_url: str, application_name: str | None) -> CommitListener | None:
    """A listener on the ledger's NOTIFY channel, or None where there is no NOTIFY (SQLite)."""
    channel = getattr(ledger.recorder, "channel_name", None)
    if channel is None or not ledger_url.startswith(("postgresql", "postgres")):
        return None
    return CommitListener(ledger_url, channel, application_name)
