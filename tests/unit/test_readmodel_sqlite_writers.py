"""Two green threads of one service writing its SQLite read model, the first waiting on I/O in the
middle of its transaction, as a projection does that reads a PostgreSQL ledger (psycopg waits
greenly: LEDGER_URL=postgresql://… beside the default SQLite read models).

SQLite makes a second writer wait in its busy handler, which blocks the process's only OS thread:
the first writer could not run again to commit, and both waited for the busy timeout (30 s), after
which the second failed with "database is locked". One connection per SQLite database makes the
second wait greenly for the first instead.
"""

from __future__ import annotations

import eventlet
import sqlalchemy as sa
from eventlet.event import Event

from shared.infra.config import sqlite_file
from shared.infra.readmodels.store import ReadModelStore, database_engine


def test_a_writer_that_waits_on_io_mid_transaction_does_not_stall_the_next(tmp_path):
    metadata = sa.MetaData()
    rows = sa.Table("rows", metadata, sa.Column("k", sa.String(20), primary_key=True))
    store = ReadModelStore(f"sqlite:///{tmp_path}/rm.db", metadata)
    inside = Event()
    order: list[str] = []

    def first():
        with store.session() as session:
            session.execute(rows.insert().values(k="first"))
            session.flush()  # SQLite's write lock taken
            inside.send()
            eventlet.sleep(0.05)  # a green wait on I/O, as on a PostgreSQL ledger's socket
            order.append("first committing")

    def second():
        inside.wait()
        with store.session() as session:
            session.execute(rows.insert().values(k="second"))
            order.append("second wrote")

    writers = [eventlet.spawn(first), eventlet.spawn(second)]
    for writer in writers:
        writer.wait()  # raises the writer's error: "database is locked" without the fix
    with store.session() as session:
        assert set(session.execute(sa.select(rows.c.k)).scalars()) == {"first", "second"}
    assert order == ["first committing", "second wrote"]
    store.dispose()


def test_only_a_sqlite_file_is_held_to_one_connection(tmp_path):
    assert sqlite_file(f"sqlite:///{tmp_path}/rm.db") == f"{tmp_path}/rm.db"
    assert [sqlite_file(url) for url in ("sqlite://", "sqlite:///:memory:", "postgresql://h/db")] == [None] * 3
    on_file = database_engine(f"sqlite:///{tmp_path}/rm.db")
    assert (on_file.pool.size(), on_file.pool._max_overflow) == (1, 0)
    on_file.dispose()
