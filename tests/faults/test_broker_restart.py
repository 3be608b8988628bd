"""The broker itself restarts with events waiting in its queues.

A proxy cut (test_broker_outage.py) shows what the services do when the broker goes away;
it cannot show what the broker keeps, since the real broker never stops. That is this
module's part, on a RabbitMQ node of the test's own (tests/faults/private_rabbitmq.py; the
shared broker other tests use is never restarted): its application is stopped, which
closes every connection and drops whatever is not durable, and started again from disk.
The exchange and the queues are durable and every message persistent, confirmed to the
relay before it moved on: the events waiting in a queue at the restart are still there
after it, and every read model applies every committed event once.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.faults import accounting, private_rabbitmq
from tests.faults.conftest import start_faulty_system
from tests.faults.probes import ledger_position, waiting_on_a_lock
from tests.faults.workload import Workload
from tests.infra import wait_for

pytestmark = [
    pytest.mark.e2e, pytest.mark.faults,
    pytest.mark.skipif(not private_rabbitmq.available(),
                       reason="needs RabbitMQ's own scripts (/usr/lib/rabbitmq/bin) to run a private node"),
]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    node = private_rabbitmq.PrivateRabbitMQ(tmp_path_factory.mktemp("rabbitmq")).start()
    try:
        yield node
    finally:
        node.close()


@pytest.fixture(scope="module")
def system(broker, make_database, s3_settings, tmp_path_factory):
    system = start_faulty_system(make_database, broker.amqp_uri, s3_settings, tmp_path_factory.mktemp("faulty"))
    try:
        yield system
    finally:
        system.close()


def test_events_waiting_in_the_queues_survive_a_broker_restart_and_are_applied_once(system, broker, tmp_path):
    workload = Workload(system.platform)
    audit_rm = system.readmodel_urls["audit"]
    assert accounting.wait_quiet(system)
    with accounting.fault("broker restart (private node: stop_app, start_app) with events queued",
                          system, tmp_path) as fault:
        with psycopg.connect(audit_rm) as lock:
            # The audit service cannot apply anything: its events wait in its queue.
            lock.execute("LOCK TABLE touches IN EXCLUSIVE MODE")
            filed = [workload.file(city) for city in ("420100", "420200", "420500")]
            assert all(f is not None and f.accepted for f in filed)
            assert wait_for(lambda: waiting_on_a_lock(audit_rm, "caseplatform-audit-readmodel"), timeout=60)
            assert wait_for(lambda: (lambda c, p: c == p)(*ledger_position(system)), timeout=60), \
                "the broker confirmed every event before the restart"
            queued = {e["message_id"] for e in accounting.committed_events(system.ledger_url)
                      if e["stream"] == "case"} - set(accounting.applied_ids(audit_rm))
            assert len(queued) > 10, "more events wait for audit than it holds unacknowledged"

            broker.restart()

            during = workload.file("420600")  # commands need the ledger, not the broker
            assert during is not None and during.accepted
        assert wait_for(lambda: queued <= set(accounting.applied_ids(audit_rm)), timeout=120), \
            "the events queued before the restart were kept and applied"
        stopped = {s: p.returncode for s, p in system.procs.items() if p.poll() is not None}
        assert not stopped, f"services stopped by the restart: {stopped}"
        row = fault.settle()
    assert row.lost == 0 and row.duplicates_applied == 0
