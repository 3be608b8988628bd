"""What the same machine does without us, measured in the same run as the commands.

- raw INSERT: one single-row INSERT … COMMIT per operation with psycopg (its C build, as the
  services use it; `PSYCOPG_IMPL=python` runs everything on the pure-Python build), into a
  table with a bigserial key and a JSON payload the size of a case event;
- eventsourcing save: `Application.save()` of one new aggregate, one event per
  transaction, on the same PostgreSQL persistence module the ledger uses.

Both run in one process with one thread per client, as one service process serves its
clients, at the same concurrency levels as the commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

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


def eventsourcing_save(url: str, clients: int, seconds: float, max_ops: int = 10**9) -> dict:
    env = {**eventsourcing_env(url), "POSTGRES_POOL_SIZE": str(clients), "POSTGRES_MAX_OVERFLOW": "0"}
    app = Notes(env=env)
    try:
        def save(_state, _item) -> None:
            app.save(Note(PAYLOAD))

        outcome = closed_loop(iter(int, 1), save, clients=clients, seconds=seconds, max_ops=max_ops)
        return outcome.summary(clients)
    finally:
        app.close()


BASELINES: dict[str, Callable[..., dict]] = {"raw_insert": raw_insert, "eventsourcing_save": eventsourcing_save}


def measure(make_database: Callable[[str], str], levels: tuple[int, ...], seconds: float,
            log: Callable[[str], None] = print) -> dict:
    results: dict[str, list[dict]] = {}
    for name, run in BASELINES.items():
        url = make_database(name)
        results[name] = []
        for clients in levels:
            summary = run(url, clients, seconds)
            results[name].append(summary)
            log(f"  {name:<20} {clients:>3} clients: {summary['per_s']:>8,.0f}/s  p50 {summary['p50_ms']} ms  "
                f"p99 {summary['p99_ms']} ms  errors {summary['errors']}")
    return results

