"""What the fault tests read from PostgreSQL directly, around the proxies: who waits on a lock,
who holds the relay's lead, how far the relay has published."""

from __future__ import annotations

import psycopg

from shared.infra.messaging.leadership import ADVISORY_LOCK_KEY


def waiting_on_a_lock(url: str, application_name: str) -> bool:
    """Whether a connection named `application_name` is blocked on a lock in the database of `url`."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND wait_event_type = 'Lock'", (application_name,)).fetchone()[0] > 0


def connections_of(url: str, application_name: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            (application_name,)).fetchone()[0]


def ledger_position(system) -> tuple[int, int]:
    """(last notification committed, last notification the broker confirmed to the relay)."""
    with psycopg.connect(system.ledger_url, autocommit=True) as conn:
        committed = conn.execute("SELECT coalesce(max(notification_id), 0) FROM ledger_events").fetchone()[0]
        published = conn.execute("SELECT coalesce(max(position), 0) FROM relay_position").fetchone()[0]
    return committed, published


def relay_leader(system) -> str | None:
    """The service whose process holds the relay's leadership lock, by its connection's name."""
    with psycopg.connect(system.ledger_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s",
            (ADVISORY_LOCK_KEY >> 32, ADVISORY_LOCK_KEY & 0xFFFFFFFF)).fetchone()
    return row[0].split("-")[1] if row and row[0].startswith("caseplatform-") else None


def relay_waiting_on_its_position(system) -> str | None:
    """The service whose relay is blocked writing its position (the leader: standbys never write it)."""
    with psycopg.connect(system.ledger_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE 'caseplatform-%%-relay' AND wait_event_type = 'Lock'").fetchone()
    return row[0].split("-")[1] if row else None


def lock_holders_ended(system, service: str) -> int:
    """Ends the service's relay sessions blocked on a lock, as the server does for a dead client; how many."""
    with psycopg.connect(system.ledger_url, autocommit=True) as conn:
        return len(conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND wait_event_type = 'Lock'", (f"caseplatform-{service}-relay",)).fetchall())
