"""A service's read models rebuilt from the ledger: the log replayed through the service's own projection.

Read models are derived data; the ledger is the truth. When a read model is lost, was
written by older code (a new column, a projection fixed), or is suspected, the operator
stops the service and rebuilds it (`caseplatform rebuild-readmodels <service>`): the
tables its projection writes are dropped and created again (those its commands write, marked
`KEPT`, stay), and every event its queue binds is applied by its
`project`, in the log's order, with its `processed_events` rows, so the events still
waiting in its queue when it starts again are absorbed as duplicates. Reactions (a
service's commands on hearing an event) are not run again: they wrote to the ledger
already.

The events go the way the relay and the subscriber take them, minus the broker: the
notification log read with `CaseLedger.notifications` (the relay's read), each event
turned into the integration event the relay publishes (`contracts.integration_event`),
kept only if the service's queue binds its routing key. The benchmarks (bench/rebuild.py)
measure this code.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from shared.infra.ledger import CaseLedger
from shared.infra.messaging.contracts import integration_event, routing_key
from shared.infra.messaging.topology import SUBSCRIPTIONS
from shared.infra.readmodels.store import ReadModelStore, copy_tables, derived_tables

LOG_BATCH = 2000  # notifications per read of the log
APPLY_BATCH = 500  # events per read-model transaction


def subscribed(service: str, key: str) -> bool:
    """Whether the service's queue binds `key` (its patterns are `<kind>.#`)."""
    return any(pattern == "#" or key.startswith(pattern[:-1]) for pattern in SUBSCRIPTIONS[service])


def readmodels_of(service: str):
    return importlib.import_module(f"services.{service}.readmodels")


def integration_events(ledger: CaseLedger, after: int = 0, batch: int = LOG_BATCH) -> Iterator[tuple[str, dict]]:
    """(routing key, integration event) of every notification after `after`, as the relay publishes them."""
    while True:
        notifications = list(ledger.notifications(after, batch))
        if not notifications:
            return
        for notification_id, event in notifications:
            body = integration_event(event, notification_id)
            yield routing_key(body["stream"], body["type"]), body
            after = notification_id


class Rebuilder:
    """One service's read models in the database at `url`, filled from the ledger's log."""

    def __init__(self, service: str, url: str, application_name: str | None = None):
        module = readmodels_of(service)
        self.service = service
        self.project: Callable = module.project
        self.store = ReadModelStore(url, module.metadata, application_name=application_name)

    def close(self) -> None:
        self.store.dispose()

    def reset(self) -> None:
        """Drops the tables the events make (`processed_events` too) and creates them empty; the tables
        the service's commands write (`KEPT`) stay as they are."""
        self.store.metadata.drop_all(self.store.engine, tables=derived_tables(self.store.metadata))
        self.store.metadata.create_all(self.store.engine)

    def in_memory(self, ledger: CaseLedger, batch: int = APPLY_BATCH, seconds: float | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict:
        """`batched` into a copy of the service's tables in this process's memory (SQLite), then each
        derived table written to the service's database in bulk, in one transaction: what
        `caseplatform rebuild-readmodels` does. The projection's many small statements run against
        memory instead of over a connection; the database takes a few large inserts."""
        started = time.perf_counter()
        staging = ReadModelStore.in_memory(self.store.metadata)
        try:
            applied = self.batched(ledger, batch, seconds, progress, into=staging)
            rows = copy_tables(staging.engine, self.store.engine, derived_tables(self.store.metadata))
        finally:
            staging.dispose()
        return {**applied, "rows": rows, "seconds": time.perf_counter() - started,
                "projection_seconds": applied["seconds"]}

    def batched(self, ledger: CaseLedger, batch: int = APPLY_BATCH, seconds: float | None = None,
                progress: Callable[[int, int], None] | None = None, into: ReadModelStore | None = None) -> dict:
        """Applies every subscribed event, `batch` per transaction, until the log ends or `seconds` pass
        (into the service's database, or `into` another store of its tables).

        Returns how many log events were read and how many applied, and the position reached;
        `progress(read, applied)` is called after each transaction.
        """
        store = into or self.store
        started = time.perf_counter()
        read = applied = position = 0
        pending: list[dict] = []
        for key, event in integration_events(ledger):
            read += 1
            position = event["notification_id"]
            if subscribed(self.service, key):
                pending.append(event)
                if len(pending) >= batch:
                    store.apply_batch(pending, self.project)
                    applied += len(pending)
                    pending = []
                    if progress is not None:
                        progress(read, applied)
                    if seconds is not None and time.perf_counter() - started > seconds:
                        break
        if pending:
            store.apply_batch(pending, self.project)
            applied += len(pending)
        return {"read": read, "applied": applied, "position": position, "seconds": time.perf_counter() - started}

    def one_by_one(self, ledger: CaseLedger, limit: int) -> dict:
        """Applies the first `limit` subscribed events one transaction each, as the subscriber
        applies one arriving alone."""
        started = time.perf_counter()
        applied = 0
        for key, event in integration_events(ledger):
            if applied >= limit:
                break
            if subscribed(self.service, key):
                self.store.apply_once(event, self.project)
                applied += 1
        return {"applied": applied, "seconds": time.perf_counter() - started}


def connections_of(url: str, service: str) -> list[str]:
    """The service's own open connections to its read-model database (PostgreSQL; [] elsewhere).

    Every connection a service process opens is named `caseplatform-<service>-…`
    (shared/infra/pools.py), so a running service shows here, and a rebuild under it would race
    its subscriber.
    """
    if not url.startswith(("postgresql", "postgres")):
        return []
    from shared.infra.config import sqlalchemy_url

    engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(
                "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND (application_name = :exact OR application_name LIKE :prefix) "
                "ORDER BY application_name"),
                {"exact": f"caseplatform-{service}", "prefix": f"caseplatform-{service}-%"},
            ).scalars())
    finally:
        engine.dispose()
