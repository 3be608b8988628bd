"""What the same machine does without us, measured in the same run as the commands.

- raw INSERT: one single-row INSERT … COMMIT per operation with psycopg (its C build, as the
  services use it; `PSYCOPG_IMPL=python` runs everything on the pure-Python build), into a
  table with a bigserial key and a JSON payload the size of a case event;
- eventsourcing save: `Application.save()` of one new aggregate, one event per
  transaction, on the same PostgreSQL persistence module the ledger uses;
- the same save through eventsourcing's insert function (`POSTGRES_ENABLE_DB_FUNCTIONS`), which
  takes no table lock: what the lock-free insert would buy the store (the ledger does not use it:
  without the lock, notification ids can commit out of order, and a reader of the log could pass
  an event that commits late);
- grouped saves: `GROUP` new aggregates in one `save()`, one transaction: what group commit (the
  events of several concurrent commands in one transaction) would buy the store, in events per
  second (`per_s` counts transactions).

Both run in one process with one thread per client, as one service process serves its
clients, at the same concurrency levels as the commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from bench.cpu import CpuMeter
from bench.load import closed_loop
from shared.infra.config import eventsourcing_env

# About the size of a case event's stored state (actor, a reason, a rank, a timestamp).
PAYLOAD = json.dumps({"actor": {"sub": "SAMPLE-official", "role": "province", "org": "440000"},
                      "reason": "SAMPLE 推荐理由 " * 8, "rank": 1, "timestamp": "2025-01-01T00:00:00+00:00"},
                     ensure_ascii=False)


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def raw_insert(url: str, clients: int, seconds: float, max_ops: int = 10**9) -> dict:
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_rows (id bigserial PRIMARY KEY, payload jsonb NOT NULL)")

    def insert(conn, _item) -> None:
        conn.execute("INSERT INTO bench_rows (payload) VALUES (%s)", (PAYLOAD,))
        conn.commit()

    outcome = closed_loop(iter(int, 1), insert, clients=clients, seconds=seconds, max_ops=max_ops,
                          make_state=lambda: psycopg.connect(_dsn(url)), close_state=lambda c: c.close())
    return outcome.summary(clients)


class Note(Aggregate):
    """The smallest aggregate: created with one field, one event."""

    def __init__(self, text: str):
        self.text = text


class Notes(Application):
    name = "BenchNotes"


GROUP = 8


def _saves(url: str, clients: int, seconds: float, max_ops: int, per_save: int = 1, **settings: str) -> dict:
    env = {**eventsourcing_env(url), "POSTGRES_POOL_SIZE": str(clients), "POSTGRES_MAX_OVERFLOW": "0", **settings}
    app = Notes(env=env)
    try:
        def save(_state, _item) -> None:
            app.save(*(Note(PAYLOAD) for _ in range(per_save)))

        summary = closed_loop(iter(int, 1), save, clients=clients, seconds=seconds, max_ops=max_ops).summary(clients)
        return {**summary, "events_per_s": round(summary["per_s"] * per_save, 1)}
    finally:
        app.close()


def eventsourcing_save(url: str, clients: int, seconds: float, max_ops: int = 10**9) -> dict:
    return _saves(url, clients, seconds, max_ops)


def eventsourcing_save_lock_free(url: str, clients: int, seconds: float, max_ops: int = 10**9) -> dict:
    return _saves(url, clients, seconds, max_ops, POSTGRES_ENABLE_DB_FUNCTIONS="y")


def eventsourcing_save_grouped(url: str, clients: int, seconds: float, max_ops: int = 10**9) -> dict:
    return _saves(url, clients, seconds, max_ops, per_save=GROUP)


BASELINES: dict[str, Callable[..., dict]] = {
    "raw_insert": raw_insert, "eventsourcing_save": eventsourcing_save,
    "eventsourcing_save_lock_free": eventsourcing_save_lock_free,
    "eventsourcing_save_grouped": eventsourcing_save_grouped,
}


def measure(make_database: Callable[[str], str], levels: tuple[int, ...], seconds: float,
            log: Callable[[str], None] = print) -> dict:
    results: dict[str, list[dict]] = {}
    meter = CpuMeter({})  # the client is this process (load_generator), the server PostgreSQL
    for name, run in BASELINES.items():
        url = make_database(name)
        results[name] = []
        for clients in levels:
            before = meter.read()
            summary = run(url, clients, seconds)
            # the same account as a command's (bench/cpu.py), so the two can be set side by side
            summary["cpu"] = CpuMeter.per_command(before, meter.read(), summary["ok"])
            results[name].append(summary)
            events = f" ({summary['events_per_s']:,.0f} events/s)" if "events_per_s" in summary else ""
            log(f"  {name:<28} {clients:>3} clients: {summary['per_s']:>8,.0f}/s{events}  p50 {summary['p50_ms']} ms  "
                f"p99 {summary['p99_ms']} ms  errors {summary['errors']}")
    return results

