"""Reading one case back: its raw rows, the aggregate replayed from every event, and from a snapshot.

The ledger takes no snapshots today; here a `CaseLedger` subclass with eventsourcing's
`snapshotting_intervals` stands for what enabling it would give. With an interval of N,
the store snapshots each case at versions N, 2N, …, so a read replays at most N−1
events after the latest snapshot: `snapshot, worst case` is a snapshot N−1 events
behind the head, `snapshot at head` none behind. Every read through a snapshot is
checked to give the same case as the full replay. A typical case (its whole history,
submitted to published) is replayed too, for scale.
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
from shared.infra.ledger import CaseLedger

CALL_ID = "sample-bench-replay"


def snapshotting_ledger(url: str, interval: int) -> CaseLedger:
    class SnapshottingLedger(CaseLedger):
        name = CaseLedger.name  # eventsourcing names a subclass after itself: keep the ledger's tables
        snapshotting_intervals: ClassVar[dict[type, int]] = {Case: interval}

    return SnapshottingLedger(url, owner=None)


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


def measure(ledger_url: str, case_events: tuple[int, ...], interval: int, replays: int,
            log: Callable[[str], None] = print) -> dict:
    seeder = Seeder(ledger_url, CALL_ID)
    cases = {n: seeder.long_case(n).id for n in case_events}
    [(typical_id, _)] = seeder.cases(1, "typical")
    seeder.close()
    plain = CaseLedger(ledger_url, owner=None)
    snapshots = snapshotting_ledger(ledger_url, interval)
    dsn = ledger_url.replace("postgresql+psycopg://", "postgresql://")
    results = {}
    try:
        with psycopg.connect(dsn) as conn:
            for n, case_id in cases.items():
                raw_ms, rows = _timed(partial(_raw_rows, conn, case_id), replays)
                assert len(rows) == n, f"case of {n} events read back with {len(rows)} rows"
                full_ms, full = _timed(partial(plain.get_case, case_id), replays)
                started = time.perf_counter()
                snapshots.take_snapshot(case_id, version=max(1, n - (interval - 1)))
                first_ms = (time.perf_counter() - started) * 1000
                worst_ms, worst = _timed(partial(snapshots.get_case, case_id), replays)
                # What the write path pays every `interval` events: the case from the previous
                # snapshot and the events since, and one row written.
                started = time.perf_counter()
                snapshots.take_snapshot(case_id)
                take_ms = (time.perf_counter() - started) * 1000
                head_ms, head = _timed(partial(snapshots.get_case, case_id), replays)
                for read in (worst, head):
                    if _state(read) != _state(full):
                        raise AssertionError(f"the case of {n} events read through a snapshot differs from its replay")
                results[str(n)] = {
                    "events": n, "raw_rows_ms": raw_ms, "replay_ms": full_ms,
                    "snapshot_worst_case_ms": worst_ms, "snapshot_at_head_ms": head_ms,
                    "events_after_snapshot_worst_case": interval - 1, "take_snapshot_ms": take_ms,
                    "first_snapshot_ms": first_ms,
                }
                log(f"  case of {n:,} events: raw rows {raw_ms:.1f} ms, replay {full_ms:.1f} ms, "
                    f"snapshot ({interval - 1} behind) {worst_ms:.1f} ms, snapshot at head {head_ms:.1f} ms")
            typical_events = plain.get_case(typical_id).version
            typical_ms, _ = _timed(lambda: plain.get_case(typical_id), max(replays, 5))
            log(f"  a typical case ({typical_events} events, submitted to published): replay {typical_ms:.1f} ms")
    finally:
        plain.close()
        snapshots.close()
    return {"snapshot_interval": interval, "repeats": replays, "cases": results,
            "typical_case": {"events": typical_events, "replay_ms": typical_ms}}
