"""Six services starting at once on a fresh SQLite ledger each create the ledger's tables.

`caseplatform run` on a new machine did exactly this, and one service died with "table
relay_position already exists" (create_all looks, then creates). The schema lock
serialises creation across processes.
"""

import multiprocessing as mp

import sqlalchemy as sa

PROCESSES = 8


def _start(url: str, barrier) -> None:
    from shared.infra.ledger import CaseLedger
    from shared.infra.messaging.leadership import PositionStore

    barrier.wait()  # every process reaches the creation at the same moment
    ledger = CaseLedger(url, owner="intake")
    engine = sa.create_engine(url)
    PositionStore(engine, url)
    engine.dispose()
    ledger.close()


def test_processes_racing_to_create_the_tables_of_a_fresh_ledger_all_start(tmp_path):
    url = f"sqlite:///{tmp_path}/var/ledger.db"  # the folder does not exist yet either
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    processes = [ctx.Process(target=_start, args=(url, barrier)) for _ in range(PROCESSES)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    tables = sa.inspect(sa.create_engine(url)).get_table_names()
    assert "relay_position" in tables
