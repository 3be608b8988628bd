"""What the ledger committed against what every read model applied, and the figures of each fault.

- committed: every event of the ledger, as the relay publishes it, for the streams a
  service subscribes to (shared.infra.messaging.topology.SUBSCRIPTIONS); a fault's figure counts those
  committed while it was injected, its checks cover every event of the ledger;
- lost: committed events a read model has not applied once the system has settled;
- duplicates applied: read-model rows that differ from a replay of the ledger through
  the service's own projection into a scratch database (an event applied twice, or a
  half-applied one, shows up as a row the replay does not have), plus application
  documents the documents service attached twice to one case;
- duplicates absorbed: redeliveries a service recognised and skipped (its log says
  "redelivery absorbed"): proof that duplicates were delivered, and did nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from shared.domain.case import EVENT_TYPES, state_after
from shared.domain.case.transitions import allowed_from
from shared.infra.config import SERVICES, sqlalchemy_url
from shared.infra.ledger import CaseLedger
from shared.infra.messaging import topology
from shared.infra.messaging.contracts import integration_event
from shared.infra.readmodels.store import ReadModelStore

ABSORBED = "redelivery absorbed"


def subscribed_streams(service: str) -> set[str]:
    return {pattern.split(".", 1)[0] for pattern in topology.SUBSCRIPTIONS[service]}


def committed_events(ledger_url: str) -> list[dict]:
    """Every event in the ledger, in commit order, as the integration event the relay sends."""
    ledger = CaseLedger(ledger_url, owner=None, env={"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"})
    try:
        events, position = [], 0
        while batch := list(ledger.notifications(position, 1000)):
            for notification_id, event in batch:
                events.append(integration_event(event, notification_id))
            position = batch[-1][0]
        return events
    finally:
        ledger.close()


def for_service(events: list[dict], service: str) -> list[dict]:
    streams = subscribed_streams(service)
    return [e for e in events if e["stream"] in streams]


def applied_ids(readmodel_url: str) -> list[str]:
    engine = sa.create_engine(sqlalchemy_url(readmodel_url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT message_id FROM processed_events")).scalars())
    finally:
        engine.dispose()


def case_histories(events: list[dict]) -> dict[str, list[dict]]:
    cases: dict[str, list[dict]] = {}
    for event in events:
        if event["stream"] == "case":
            cases.setdefault(event["case_id"], []).append(event)
    return cases


def sequence_errors(history: list[dict]) -> list[str]:
    """Why a case's stored history is not a sequence the state machine allows (empty: it is)."""
    errors, state = [], None
    for expected_version, event in enumerate(history, start=1):
        if event["version"] != expected_version:
            errors.append(f"version {event['version']} where {expected_version} was due")
        if event["type"] not in EVENT_TYPES:
            errors.append(f"v{event['version']}: unknown event {event['type']}")
            continue
        if state is None and event["type"] != "Submitted":
            errors.append(f"v{event['version']}: a case starts with Submitted, not {event['type']}")
        elif state is not None and state not in allowed_from(event["type"]):
            errors.append(f"v{event['version']}: {event['type']} is not allowed from {state}")
        state = state_after(event["type"], event["payload"], state)
    return errors


def documents_attached_twice(history: list[dict]) -> list[str]:
    """Application documents the documents service attached more than once to one case."""
    named = Counter(e["payload"]["sha256"] for e in history
                    if e["type"] == "EvidenceAttached" and e["payload"]["step"] == "application")
    return [digest for digest, count in named.items() if count > 1]


def _rows(engine: sa.Engine, table: sa.Table) -> Counter:
    columns = [c for c in table.columns if c.name != "processed_at"]  # when, not what
    with engine.connect() as conn:
        return Counter(tuple(row) for row in conn.execute(sa.select(*columns)))


def replay_differences(service: str, events: list[dict], live_url: str, scratch_dir: Path) -> list[str]:
    """Rows in which the live read model differs from the ledger replayed through the service's projection.

    Only the tables the projection fills are compared: the others (drafts, claims, an
    authority's contact) are written by commands, not by events, and stay empty in the replay.
    """
    module = importlib.import_module(f"services.{service}.readmodels")
    scratch_path = scratch_dir / f"{service}-replay-{time.monotonic_ns()}.db"
    scratch = ReadModelStore(f"sqlite:///{scratch_path}", module.metadata)
    live = sa.create_engine(sqlalchemy_url(live_url), poolclass=sa.pool.NullPool)
    try:
        for event in for_service(events, service):
            scratch.apply_once(event, module.project)
        differences = []
        for table in module.metadata.sorted_tables:
            replayed = _rows(scratch.engine, table)
            if not replayed:
                continue
            found = _rows(live, table)
            for row in (found - replayed).elements():
                differences.append(f"{service}.{table.name}: live row not in the replay {row}")
            for row in (replayed - found).elements():
                differences.append(f"{service}.{table.name}: replayed row missing live {row}")
        return differences
    finally:
        scratch.dispose()
        live.dispose()
        scratch_path.unlink(missing_ok=True)


def wait_quiet(system, timeout: float = 120.0) -> bool:
    """Waits until every read model has applied every committed event and nothing new is committed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = committed_events(system.ledger_url)
        if all({e["message_id"] for e in for_service(events, s)} <= set(applied_ids(system.readmodel_urls[s]))
               for s in SERVICES) and len(committed_events(system.ledger_url)) == len(events):
            return True
        time.sleep(0.2)
    return False


def absorbed_count(system) -> int:
    return sum(system.log(service).count(ABSORBED) for service in SERVICES)


# --------------------------------------------------------------------------- figures


@dataclass
class FaultRow:
    fault: str
    injections: int = 1  # how many times the fault was injected in this scenario
    survived: bool = False
    committed: int = 0
    lost: int = 0
    duplicates_absorbed: int = 0
    duplicates_applied: int = 0


@dataclass
class Figures:
    rows: list[FaultRow] = field(default_factory=list)

    def totals(self) -> dict:
        return {
            "injected": sum(r.injections for r in self.rows),
            "survived": sum(r.injections for r in self.rows if r.survived),
            "committed": sum(r.committed for r in self.rows),
            "lost": sum(r.lost for r in self.rows),
            "duplicates_absorbed": sum(r.duplicates_absorbed for r in self.rows),
            "duplicates_applied": sum(r.duplicates_applied for r in self.rows),
        }


FIGURES = Figures()
CONNECTIONS: dict = {}  # PostgreSQL connections of one system, from test_connection_budget.py


class Fault:
    """One injected fault: `settle()` waits for the system to catch up and counts; the figures
    are kept whether the test passes (survived) or not."""

    def __init__(self, name: str, system, scratch_dir: Path, injections: int = 1):
        self.row = FaultRow(name, injections)
        self.system = system
        self.scratch_dir = scratch_dir
        self.absorbed_before = absorbed_count(system)
        self.committed_before = len(committed_events(system.ledger_url))
        self.settled = False

    def settle(self, stalled: float = 60.0) -> FaultRow:
        """Waits until the system is quiet (every read model has applied every committed event it
        subscribes to, and nothing new was committed while it was being checked), then asserts
        that none was lost and none applied twice, and that every case's history is a sequence
        the state machine allows. A backlog may take a while: it waits as long as the read models
        make progress, and gives up once none has applied anything for `stalled` seconds."""
        system = self.system
        progress, last_progress = -1, time.monotonic()
        while True:
            events = committed_events(system.ledger_url)
            missing, phantoms, applied_in_all = {}, [], 0
            for service in SERVICES:
                expected = {e["message_id"] for e in for_service(events, service)}
                applied = set(applied_ids(system.readmodel_urls[service]))
                missing[service] = expected - applied
                phantoms += sorted(applied - expected)
                applied_in_all += len(applied)
            if applied_in_all > progress:
                progress, last_progress = applied_in_all, time.monotonic()
            differences = [] if any(missing.values()) else [
                d for service in SERVICES
                for d in replay_differences(service, events, system.readmodel_urls[service], self.scratch_dir)]
            # A react (documents attaching named files) may still be committing: count only a quiet system.
            quiet = len(committed_events(system.ledger_url)) == len(events)
            if (quiet and not any(missing.values()) and not phantoms and not differences) \
                    or time.monotonic() - last_progress > stalled:
                break
            time.sleep(0.5)
        row = self.row
        row.committed = len(events) - self.committed_before  # during this fault; the checks cover them all
        row.lost = sum(len(m) for m in missing.values())
        histories = case_histories(events)
        twice = {case: d for case, h in histories.items() if (d := documents_attached_twice(h))}
        invalid = {case: e for case, h in histories.items() if (e := sequence_errors(h))}
        row.duplicates_applied = len(differences) + len(phantoms) + sum(len(d) for d in twice.values())
        row.duplicates_absorbed = absorbed_count(system) - self.absorbed_before
        self.settled = True
        assert not any(missing.values()), \
            f"events committed but not applied: { {s: (len(m), sorted(m)[:3]) for s, m in missing.items() if m} }"
        assert quiet, "the ledger kept growing while the system was being checked"
        assert not phantoms, f"applied but never committed: {phantoms[:5]}"
        assert not differences, "read models differ from the ledger's replay:\n" + "\n".join(differences[:20])
        assert not twice, f"application documents attached twice: {twice}"
        assert not invalid, f"case histories the state machine does not allow: {invalid}"
        return row


@contextlib.contextmanager
def fault(name: str, system, scratch_dir: Path, injections: int = 1):
    """Records one fault scenario in the session's figures; survived if the block completes settled."""
    injected = Fault(name, system, scratch_dir, injections)
    FIGURES.rows.append(injected.row)
    yield injected
    assert injected.settled, "a fault test settles the system before it ends"
    injected.row.survived = True
