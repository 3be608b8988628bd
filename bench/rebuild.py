"""Rebuilding every service's read models from the ledger's notification log, beside reading the log raw.

The events go the way the relay and the subscriber take them, minus the broker:
the notification log read with `CaseLedger.notifications` (the relay's read), each
event turned into the integration event the relay publishes (`to_recorded`, message
id), kept only if the service's queue binds its routing key (`shared.infra.messaging.topology`), and
applied by the service's own `project` together with its `processed_events` row
into a fresh read-model database. Two ways of applying are measured:

- `in memory`: what `caseplatform rebuild-readmodels` does (`Rebuilder.in_memory`,
  `shared/infra/readmodels/rebuild.py`, the code measured here): the projection runs batched
  against an in-memory SQLite copy of the service's tables, then each table is written to the
  service's database in bulk, in one transaction; the time counts both;
- `batched`: many events per transaction straight into the service's database (what the
  rebuild did before, kept as the comparison);
- `per event`: one transaction per event through `ReadModelStore.apply_once`, exactly
  as the live subscriber applies an event that arrives alone (on a sample: it is slow).

The six rebuild at once, each in its own process as each service would rebuild its own,
for a bounded time: on a 2-core machine a million events through six read models takes
about an hour, and the rate (what the target is about) is steady long before. The
result says how far each got and the time the whole log would take at that rate.

The same code fills the services' read models before a run starts (`fill_read_models`),
so they start where a service that had heard every seeded event would be.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import psycopg

from shared.infra.config import SERVICES
from shared.infra.ledger import CaseLedger
from shared.infra.readmodels.rebuild import LOG_BATCH, Rebuilder, integration_events


def _postgres_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def read_log_raw(ledger_url: str, batch: int = LOG_BATCH) -> dict:
    """Every row of the notification log with plain psycopg, keyset-paged: the floor under any reader."""
    rows = size = 0
    after = 0
    started = time.perf_counter()
    with psycopg.connect(_postgres_dsn(ledger_url)) as conn:
        while True:
            page = conn.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM ledger_events "
                "WHERE notification_id > %s ORDER BY notification_id LIMIT %s", (after, batch)).fetchall()
            if not page:
                break
            rows += len(page)
            size += sum(len(r[4]) for r in page)
            after = page[-1][0]
    seconds = time.perf_counter() - started
    return {"events": rows, "seconds": seconds, "events_per_s": rows / seconds, "mib": size / 2**20}


def read_log_decoded(ledger: CaseLedger) -> dict:
    """The log read and turned into integration events (the relay's work before publishing), nothing applied."""
    started = time.perf_counter()
    n = sum(1 for _ in integration_events(ledger))
    seconds = time.perf_counter() - started
    return {"events": n, "seconds": seconds, "events_per_s": n / seconds}


def fill_read_models(ledger_url: str, readmodel_urls: dict[str, str]) -> None:
    """Brings each service's read models to the end of the ledger's log (before the services start)."""
    with ProcessPoolExecutor(len(readmodel_urls), mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in [pool.submit(_fill, ledger_url, service, url) for service, url in readmodel_urls.items()]:
            done.result()


def _fill(ledger_url: str, service: str, url: str) -> None:
    ledger = CaseLedger(ledger_url, owner=None)
    rebuilder = Rebuilder(service, url)
    try:
        rebuilder.in_memory(ledger)
    finally:
        rebuilder.close()
        ledger.close()


def _rebuild(ledger_url: str, service: str, url: str, sample_url: str, seconds: float, sample: int) -> dict:
    """In its own process, as each service would rebuild its own: in memory for `seconds`, batched
    straight into the database for `seconds`, then the sample."""
    ledger = CaseLedger(ledger_url, owner=None)
    try:
        rebuilder = Rebuilder(service, url)
        try:
            in_memory = rebuilder.in_memory(ledger, seconds=seconds)
            rebuilder.reset()
            batched = rebuilder.batched(ledger, seconds=seconds)
        finally:
            rebuilder.close()
        one = Rebuilder(service, sample_url)
        try:
            per_event = one.one_by_one(ledger, sample)
        finally:
            one.close()
    finally:
        ledger.close()
    return {"in_memory": in_memory, "batched": batched, "per_event": per_event}


def measure(ledger_url: str, make_database: Callable[[str], str], seconds: float, per_event_sample: int,
            log: Callable[[str], None] = print) -> dict:
    """Raw and decoded reads of the whole log, then every service' read models rebuilt at once, each by
    its own process into a fresh database, for at most `seconds` (the rate, and how far each got)."""
    ledger = CaseLedger(ledger_url, owner=None)
    try:
        total = ledger.max_notification_id()
        raw = read_log_raw(ledger_url)
        log(f"  raw read of the log: {raw['events']:,} events, {raw['events_per_s']:,.0f}/s")
        decoded = read_log_decoded(ledger)
        log(f"  log read and decoded: {decoded['events_per_s']:,.0f}/s")
    finally:
        ledger.close()
    urls = {s: (make_database(f"rebuild_{s}"), make_database(f"one_{s}")) for s in SERVICES}
    started = time.perf_counter()
    with ProcessPoolExecutor(len(SERVICES), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {s: pool.submit(_rebuild, ledger_url, s, url, sample_url, seconds, per_event_sample)
                   for s, (url, sample_url) in urls.items()}
        results = {s: f.result() for s, f in futures.items()}
    wall = time.perf_counter() - started
    services = {}
    for service, r in results.items():
        m, b, p = r["in_memory"], r["batched"], r["per_event"]
        services[service] = {
            "log_events_read": m["read"], "applied": m["applied"], "seconds": m["seconds"],
            "projection_seconds": m["projection_seconds"], "rows_written": sum(m["rows"].values()),
            "complete": m["read"] >= total, "log_events_per_s": m["read"] / m["seconds"],
            "batched": {"log_events_read": b["read"], "applied": b["applied"], "seconds": b["seconds"],
                        "log_events_per_s": b["read"] / b["seconds"]},
            "per_event": {**p, "events_per_s": p["applied"] / p["seconds"] if p["seconds"] else None},
        }
        log(f"  {service}: in memory {m['read']:,} of {total:,} log events in {m['seconds']:.1f} s "
            f"({m['read'] / m['seconds']:,.0f}/s, {m['applied']:,} applied, {sum(m['rows'].values()):,} rows "
            f"written in {m['seconds'] - m['projection_seconds']:.1f} s); batched into the database: "
            f"{b['read'] / b['seconds']:,.0f}/s; one transaction per event: "
            f"{services[service]['per_event']['events_per_s'] or 0:,.0f}/s")
    # All seven at once keep up with the log at the pace of the slowest.
    all_rate = min(s["log_events_per_s"] for s in services.values())
    batched_rate = min(s["batched"]["log_events_per_s"] for s in services.values())
    return {
        "ledger_events": total,
        "batched_all_read_models": {"events_per_s": batched_rate,
                                    "ratio_to_raw_read": batched_rate / raw["events_per_s"]},
        "time_box_seconds": seconds,
        "raw_read": raw,
        "decoded_read": decoded,
        "services": services,
        "wall_seconds": wall,
        "all_read_models": {"events_per_s": all_rate, "estimated_seconds_for_whole_log": total / all_rate},
        "ratio_to_raw_read": all_rate / raw["events_per_s"],
    }
