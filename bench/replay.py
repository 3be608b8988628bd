"""Reading one case back: its raw rows, the aggregate replayed from every event, and as shipped.

The ledger snapshots a case every `SNAPSHOT_INTERVAL` (100) events, taken by the save that
reaches each multiple (shared/infra/ledger.py), so the seeder's own saves leave them. **As
shipped, at head** reads a case whose latest snapshot is its head (10,000 events: the snapshot
at 10,000); **as shipped, worst case** the same case with that snapshot removed, so the read
starts 100 events behind, the most a read can replay. **Every event** is a ledger with no
snapshots, what every read cost before. Every read through a snapshot is checked to give the
same case as the full replay. A typical case (its whole history, submitted to published) is
replayed too, for scale.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import ClassVar
from uuid import UUID

import psycopg

from bench.seed import Seeder
from bench.stats import median
from shared.domain.case import Case
from shared.infra.ledger import SNAPSHOT_INTERVAL, CaseLedger

CALL_ID = "sample-bench-replay"


def every_event_ledger(url: str) -> CaseLedger:
    class EveryEvent(CaseLedger):
        name = CaseLedger.name  # eventsourcing names a subclass after itself: keep the ledger's tables
        snapshotting_intervals: ClassVar[dict] = {}

    return EveryEvent(url, owner=None)


def _state(case: Case) -> dict:
    return {k: v for k, v in vars(case).items() if k != "_pending_events"}


def _raw_rows(conn: psycopg.Connection, case_id: UUID) -> list:
    return conn.execute("SELECT originator_version, topic, state FROM ledger_events "
                        "WHERE originator_id = %s ORDER BY originator_version", (case_id,)).fetchall()


def _timed(fn: Callable, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return median(times) * 1000, result


def _drop_snapshots_after(conn: psycopg.Connection, case_id: UUID, version: int) -> None:
    conn.execute("DELETE FROM ledger_snapshots WHERE originator_id = %s AND originator_version > %s",
                 (case_id, version))
    conn.commit()


def measure(ledger_url: str, case_events: tuple[int, ...], replays: int,
            log: Callable[[str], None] = print) -> dict:
    interval = SNAPSHOT_INTERVAL
    seeder = Seeder(ledger_url, CALL_ID)
    cases = {n: seeder.long_case(n).id for n in case_events}
    [(typical_id, _)] = seeder.cases(1, "typical")
    seeder.close()
    every_event = every_event_ledger(ledger_url)
    shipped = CaseLedger(ledger_url, owner=None)
    dsn = ledger_url.replace("postgresql+psycopg://", "postgresql://")
    results = {}
    try:
        with psycopg.connect(dsn) as conn:
            for n, case_id in cases.items():
                raw_ms, rows = _timed(partial(_raw_rows, conn, case_id), replays)
                assert len(rows) == n, f"case of {n} events read back with {len(rows)} rows"
                full_ms, full = _timed(partial(every_event.get_case, case_id), replays)
                head_ms, head = _timed(partial(shipped.get_case, case_id), replays)
                _drop_snapshots_after(conn, case_id, n - interval)
                worst_ms, worst = _timed(partial(shipped.get_case, case_id), replays)
                # What the write path pays every `interval` events: the case from the previous
                # snapshot and the events since, and one row written.
                started = time.perf_counter()
                shipped.take_snapshot(case_id)
                take_ms = (time.perf_counter() - started) * 1000
                for read in (worst, head):
                    if _state(read) != _state(full):
                        raise AssertionError(f"the case of {n} events read through a snapshot differs from its replay")
                results[str(n)] = {
                    "events": n, "raw_rows_ms": raw_ms, "replay_ms": full_ms,
                    "snapshot_worst_case_ms": worst_ms, "snapshot_at_head_ms": head_ms,
                    "events_after_snapshot_worst_case": interval, "take_snapshot_ms": take_ms,
                }
                log(f"  case of {n:,} events: raw rows {raw_ms:.1f} ms, every event {full_ms:.1f} ms, "
                    f"as shipped: worst case ({interval} behind) {worst_ms:.1f} ms, at head {head_ms:.1f} ms")
            typical_events = shipped.get_case(typical_id).version
            typical_ms, _ = _timed(lambda: shipped.get_case(typical_id), max(replays, 5))
            log(f"  a typical case ({typical_events} events, submitted to published): replay {typical_ms:.1f} ms")
    finally:
        every_event.close()
        shipped.close()
    return {"snapshot_interval": interval, "repeats": replays, "cases": results,
            "typical_case": {"events": typical_events, "replay_ms": typical_ms}}
