"""An event a consumer cannot process: retried a bounded number of times, parked with its reason,
the consumer goes on with the next ones, and the operator lists and replays it.

tests/integration/test_subscriber.py holds the subscriber to these rules with one service
in the test process and events it publishes itself. Here the poison comes down the real
pipeline: a committed ledger event, published by the relay, that the audit service's
projection cannot apply because its read model refuses the row (a check constraint the
test adds, as a schema or data problem in production would). The operator works with the
shipped command, `caseplatform parked list|replay <service>`, as a separate process.
A message that is not an integration event at all is parked at once, without retries.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from kombu import Connection, Producer

from shared.infra.messaging import topology
from tests.faults import accounting
from tests.faults.conftest import MAX_DELIVERY_ATTEMPTS
from tests.faults.operator_commands import operator, parked
from tests.faults.workload import Workload
from tests.infra import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

EXCHANGE = "ledger.events"
CONSTRAINT = "fault_injected_poison"


def test_an_event_a_read_model_refuses_is_retried_parked_with_its_reason_and_replayed_by_the_operator(
    faulty_system, tmp_path
):
    system = faulty_system
    workload = Workload(system.platform)
    audit_rm = system.readmodel_urls["audit"]
    unit = workload.new_unit("420500")
    assert workload.upload_evidence(unit)
    with accounting.fault("poison: an event the audit read model refuses, parked and replayed",
                          system, tmp_path) as fault:
        with psycopg.connect(audit_rm, autocommit=True) as conn:
            conn.execute(f"ALTER TABLE touches ADD CONSTRAINT {CONSTRAINT} "
                         f"CHECK (NOT (actor_org = '{unit.org}' AND event_type = 'Submitted'))")
        filed = workload.submit(unit, "420500")
        assert filed.accepted, filed.body
        poison = f"{filed.case_id}:1"

        found = wait_for(lambda: [p for p in parked(system, "audit") if p["message_id"] == poison], timeout=60)
        assert len(found) == 1, "parked once"
        assert found[0]["attempts"] == MAX_DELIVERY_ATTEMPTS
        assert "IntegrityError" in found[0]["error"] and CONSTRAINT in found[0]["error"], found[0]["error"]
        assert found[0]["event"]["type"] == "Submitted" and found[0]["event"]["case_id"] == filed.case_id
        log = system.log("audit")
        assert log.count(f"{poison} failed, attempt") == MAX_DELIVERY_ATTEMPTS - 1, "retried a bounded number of times"
        assert f"parking {poison} after {MAX_DELIVERY_ATTEMPTS} attempt(s)" in log

        # The consumer went on: the case's next events and a case filed after it are applied.
        after = workload.file("420500")
        assert after.accepted, after.body
        case_events = [e["message_id"] for e in accounting.committed_events(system.ledger_url)
                       if e["stream_id"] in (filed.case_id, after.case_id)]
        assert wait_for(lambda: set(case_events) - {poison} <= set(accounting.applied_ids(audit_rm)), timeout=60)
        assert poison not in accounting.applied_ids(audit_rm)
        assert [p["message_id"] for p in parked(system, "audit")] == [poison], "listing leaves it parked"
        for service in accounting.SERVICES:
            if service != "audit":
                assert poison in accounting.applied_ids(system.readmodel_urls[service]), service

        # The operator mends the cause, then puts the message back.
        with psycopg.connect(audit_rm, autocommit=True) as conn:
            conn.execute(f"ALTER TABLE touches DROP CONSTRAINT {CONSTRAINT}")
        assert operator(system, "parked", "replay", "audit").strip() == "1 message(s) back in ledger.audit"
        assert wait_for(lambda: poison in accounting.applied_ids(audit_rm), timeout=60)
        assert parked(system, "audit") == []
        row = fault.settle()
    assert row.lost == 0 and row.duplicates_applied == 0


def test_a_message_that_is_not_an_integration_event_is_parked_at_once_and_the_consumers_go_on(
    faulty_system, tmp_path
):
    system = faulty_system
    workload = Workload(system.platform)
    with accounting.fault("poison: a message that is not an integration event, parked at once",
                          system, tmp_path) as fault:
        with Connection(system.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            Producer(conn.channel()).publish(
                json.dumps({"message_id": "garbage:1", "type": "Submitted"}),
                exchange=topology.ledger_exchange(EXCHANGE), routing_key="case.Submitted",
                content_type="application/json", message_id="garbage:1", delivery_mode=2)
        for service in accounting.SERVICES:
            found = wait_for(lambda s=service: [p for p in parked(system, s) if p["message_id"] == "garbage:1"],
                             timeout=60)
            assert found and found[0]["attempts"] == 1, service
            assert found[0]["error"].startswith("not an integration event"), found[0]["error"]
            assert "case_id" in found[0]["error"], "the reason names the missing field"
        filed = workload.file("420600")
        assert filed.accepted, filed.body
        row = fault.settle()
    assert row.lost == 0 and row.duplicates_applied == 0
