"""A service process killed (SIGKILL) in the middle of its work: what it was doing is done again, once.

Two crashes, each held at a precise point by a lock the test takes in the database (the
services reach PostgreSQL through the fault proxy; the test reads and locks directly):

- the documents service, while it applies a `Submitted` event: it has already attached
  the documents the form names to the case (a write to the ledger) and inserted the
  event's inbox row, and waits on a table of its read model the test has locked;
- the process leading the outbox relay, after the broker confirmed a batch and before it
  recorded its position, waiting on the position row the test has locked.

Killed there, nothing of the unfinished transaction stays; the broker delivers the event
again (to the restarted process, or from the relay that takes the lead), and it is applied
once: the attachments are not made twice, and the re-sent batch is absorbed by every read
model that had applied it.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.faults import accounting
from tests.faults.probes import (
    connections_of,
    ledger_position,
    lock_holders_ended,
    relay_leader,
    relay_waiting_on_its_position,
    waiting_on_a_lock,
)
from tests.faults.workload import Workload
from tests.infra import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def case_events(system, case_id: str) -> list[str]:
    return [e["type"] for e in accounting.committed_events(system.ledger_url) if e["stream_id"] == case_id]


def submitted_id(outcome) -> str:
    return f"{outcome.case_id}:1"


def test_a_consumer_killed_while_it_applies_an_event_applies_it_once_after_restart(faulty_system, tmp_path):
    system = faulty_system
    workload = Workload(system.platform)
    documents_rm = system.readmodel_urls["documents"]
    with accounting.fault("documents killed (SIGKILL) mid-projection, after its ledger write",
                          system, tmp_path) as fault:
        with psycopg.connect(documents_rm) as lock:
            # Reads pass an EXCLUSIVE lock; the projection's write to this table waits behind it.
            lock.execute("LOCK TABLE case_versions IN EXCLUSIVE MODE")
            filed = workload.file("420100")
            assert filed.accepted, filed.body
            assert wait_for(lambda: waiting_on_a_lock(documents_rm, "caseplatform-documents-readmodel"), timeout=60)
            attached = case_events(system, filed.case_id)
            assert attached[0] == "Submitted" and set(attached[1:]) == {"EvidenceAttached"}, \
                "the documents the form names were attached (a write to the ledger) before the projection"
            system.kill("documents")
        # The killed process's transaction dies with its connection: its inbox row is not there.
        assert wait_for(lambda: connections_of(documents_rm, "caseplatform-documents-readmodel") == 0, timeout=30)
        assert submitted_id(filed) not in accounting.applied_ids(documents_rm)

        system.start("documents")
        assert wait_for(lambda: submitted_id(filed) in accounting.applied_ids(documents_rm), timeout=60)
        row = fault.settle()
    assert case_events(system, filed.case_id) == attached, "the redelivered Submitted attached nothing more"
    assert row.lost == 0 and row.duplicates_applied == 0


def test_the_relay_leader_killed_before_recording_its_position_is_replaced_and_its_batch_absorbed(
    faulty_system, tmp_path
):
    system = faulty_system
    workload = Workload(system.platform)
    with accounting.fault("relay leader killed (SIGKILL) between publishing and recording its position",
                          system, tmp_path) as fault:
        unit = workload.new_unit("420200")
        assert workload.upload_evidence(unit)
        assert wait_for(lambda: (lambda c, p: c == p)(*ledger_position(system)), timeout=60)
        with psycopg.connect(system.ledger_url) as lock:
            lock.execute("SELECT position FROM relay_position FOR UPDATE")
            filed = workload.submit(unit, "420200")  # the relay's next batch: this Submitted
            assert filed.accepted, filed.body
            leader = wait_for(lambda: relay_waiting_on_its_position(system), timeout=60)
            assert leader, "the leading relay published the batch and waits to record its position"
            # The batch went out and was confirmed: every read model applies it.
            assert wait_for(lambda: all(submitted_id(filed) in accounting.applied_ids(system.readmodel_urls[s])
                                        for s in accounting.SERVICES), timeout=60)
            system.kill(leader)
            # The leader writes its position on its lock's own session, which autocommits: the
            # server would finish that write once the row is free, and only then, the session
            # ended, let another relay lead (so a position is only ever written by the lock's
            # holder). A process that dies before its write reaches the server is the case
            # here: its session is ended before the row is free, so the write never happens.
            terminated = lock_holders_ended(system, leader)
            assert terminated == 1, terminated
        successor = wait_for(lambda: relay_leader(system), timeout=30)
        assert successor and successor != leader, "a standby relay took the lead"
        system.start(leader)
        row = fault.settle()
    # The successor sent the batch again from the recorded position; each read model skipped it.
    assert row.duplicates_absorbed >= len(accounting.SERVICES)
    assert row.lost == 0 and row.duplicates_applied == 0
    print(f"\nrelay leader {leader} killed, {successor} took the lead; "
          f"{row.duplicates_absorbed} re-sent deliveries absorbed")
