"""Each service's own read-model database, and the inbox that makes consumers idempotent.

A projection's change and the record that its event was processed commit in
one transaction: a redelivered event finds its message id already recorded and
changes nothing. Events of one case may arrive out of order (several workers,
retries); projections that keep a case's latest state compare versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from shared.infra.config import ensure_sqlite_parent, sqlalchemy_url, sqlite_file
from shared.infra.pools import engine_options

KEPT: dict = {"kept": True}
"""A table's `info` when a service writes it from its commands, not from events (a draft, a claim,
an authority's contact): no replay could make it again, so a rebuild leaves it as it is."""


def moment_of(text: str) -> datetime:
    """A time a read model keeps as text (an event's ISO timestamp); UTC when it says no zone."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def derived_tables(metadata: sa.MetaData) -> list[sa.Table]:
    """The tables of `metadata` that the events make: what a rebuild drops and fills again."""
    return [t for t in metadata.sorted_tables if not t.info.get("kept")]


def processed_events_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "processed_events",
        metadata,
        sa.Column("message_id", sa.String(80), primary_key=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def database_engine(url: str, *, pool_size: int = 1, max_overflow: int = 4,
                    application_name: str | None = None) -> sa.Engine:
    """An engine on a service's own database (SQLite or PostgreSQL), pooled as pools.py says."""
    kwargs: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        ensure_sqlite_parent(url)
        kwargs["connect_args"] = {"timeout": 30}
        if sqlite_file(url):
            # One connection, for which a green thread waits greenly: SQLite makes a second writer
            # wait in its busy handler, which blocks the whole process, so a first writer that
            # waits on I/O mid-transaction (a PostgreSQL ledger's socket) never ran again to
            # commit, and both waited the 30 s out (tests/unit/test_readmodel_sqlite_writers.py).
            kwargs.update(pool_size=1, max_overflow=0)
    else:
        # A consumer's workers and the HTTP requests share the pool; past its maximum they
        # wait their turn (each holds a connection for one short transaction).
        kwargs.update(engine_options(url, name=application_name, size=pool_size, max_overflow=max_overflow))
    return sa.create_engine(sqlalchemy_url(url), **kwargs)


class ReadModelStore:
    def __init__(self, url: str, metadata: sa.MetaData, *, pool_size: int = 1, max_overflow: int = 4,
                 application_name: str | None = None, engine: sa.Engine | None = None):
        self.metadata = metadata
        if "processed_events" not in metadata.tables:
            processed_events_table(metadata)
        self.processed = metadata.tables["processed_events"]
        self.engine = engine or database_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                                                application_name=application_name)
        metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def in_memory(cls, metadata: sa.MetaData) -> ReadModelStore:
        """The same tables in a SQLite database in this process's memory (one connection, kept open)."""
        engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool,
                                  connect_args={"check_same_thread": False})
        return cls("sqlite://", metadata, engine=engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    def apply_once(self, event: dict, project: Callable[[Session, dict], None]) -> bool:
        """Runs `project` for `event` unless its message id was already processed.

        Returns False for a duplicate. Both writes commit together or not at all.
        """
        try:
            with self.session() as session:
                session.execute(
                    self.processed.insert().values(
                        message_id=event["message_id"], event_type=event["type"]
                    )
                )
                session.flush()
                project(session, event)
        except sa.exc.IntegrityError:
            with self.session() as session:
                seen = session.execute(
                    sa.select(self.processed.c.message_id).where(
                        self.processed.c.message_id == event["message_id"]
                    )
                ).first()
            if seen:
                return False
            raise
        return True

    def apply_batch(self, events: list[dict], project: Callable[[Session, dict], None]) -> list[dict]:
        """Runs `project` for each of `events` not yet processed, in their order, in one transaction.

        Returns the duplicates it skipped (processed before, or earlier in `events`). Any
        error rolls the whole batch back: the caller then applies its events one by one
        (`apply_once`), which also absorbs a duplicate a concurrent consumer committed
        between the SELECT and the INSERT (the IntegrityError here).
        """
        ids = [event["message_id"] for event in events]
        with self.session() as session:
            seen = set(session.execute(
                sa.select(self.processed.c.message_id).where(self.processed.c.message_id.in_(ids))
            ).scalars())
            fresh: list[dict] = []
            duplicates: list[dict] = []
            for event in events:
                (duplicates if event["message_id"] in seen else fresh).append(event)
                seen.add(event["message_id"])
            if fresh:
                session.execute(self.processed.insert(), [
                    {"message_id": event["message_id"], "event_type": event["type"]} for event in fresh
                ])
                for event in fresh:
                    project(session, event)
        return duplicates

    def processed_count(self) -> int:
        with self.session() as session:
            return session.execute(sa.select(sa.func.count()).select_from(self.processed)).scalar_one()

    def dispose(self) -> None:
        self.engine.dispose()


def copy_tables(source: sa.Engine, target: sa.Engine, tables: list[sa.Table], chunk: int = 5000) -> dict[str, int]:
    """Every row of `tables` from `source` into `target`, in chunks, in one transaction of the target
    (the tables emptied first): how many rows each. SQLite gives back a time without its zone; a
    column that keeps one gets UTC, which is what SQLite's own clock and the projections write."""
    copied: dict[str, int] = {}
    with source.connect() as read, target.begin() as write:
        for table in tables:
            zoned = [c.name for c in table.columns if isinstance(c.type, sa.DateTime) and c.type.timezone]
            write.execute(table.delete())
            copied[table.name] = 0
            for part in read.execution_options(yield_per=chunk).execute(sa.select(table)).partitions():
                rows = [_with_zone(dict(r._mapping), zoned) for r in part]
                write.execute(table.insert(), rows)
                copied[table.name] += len(rows)
    return copied


def _with_zone(row: dict, zoned: list[str]) -> dict:
    for name in zoned:
        moment = row.get(name)
        if moment is not None and moment.tzinfo is None:
            row[name] = moment.replace(tzinfo=UTC)
    return row
