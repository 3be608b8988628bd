"""PostgreSQL goes away (every connection lost, none accepted) and comes back.

How the outage is made: the services reach PostgreSQL only through a proxy, which resets
every connection (ledger pools, read-model pools, the relay's lock and position, the audit
follower) and every new one until it is restored. To a service this is a database
restart or a network failure; the server itself is shared with other tests and keeps
running, so the test reads and locks it directly. A private cluster restart would show
no more: what a client sees of a restart is exactly its connections reset and refused,
and what the server keeps across one (every committed transaction) is PostgreSQL's promise,
not the platform's.

A command in flight is held at its write by a lock the test takes on the ledger's table,
then the connections are cut under it: it fails with 503 and the API's error, and nothing
of it is written. While the database is away commands and reads fail the same way, events
wait in their queues (none is parked for it), and once it is back the same processes, never
restarted, take commands and apply every event once.
"""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.faults import accounting
from tests.faults.conftest import MAX_DELIVERY_ATTEMPTS
from tests.faults.operator_commands import parked
from tests.faults.probes import waiting_on_a_lock
from tests.faults.workload import Party, Workload, unclean_outcomes
from tests.infra import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def case_history(system, case_id: str) -> list[str]:
    return [e["type"] for e in accounting.committed_events(system.ledger_url) if e["stream_id"] == case_id]


def test_a_command_in_flight_when_the_database_goes_away_fails_cleanly_and_the_services_reconnect(
    faulty_system, tmp_path
):
    system, postgres = faulty_system, faulty_system.proxies["postgres"]
    workload = Workload(system.platform)
    filed = workload.file("420100")
    assert filed.accepted, filed.body
    # Documents attaches the filing's evidence when it hears Submitted: those appends must be
    # done, or they land while the lock below is taken and read as the command in flight's.
    assert accounting.wait_quiet(system), "the filing's events are applied before the fault"
    pids = {service: system.pid(service) for service in accounting.SERVICES}
    with accounting.fault("database outage: every PostgreSQL connection cut, a command in flight",
                          system, tmp_path) as fault:
        before = case_history(system, filed.case_id)
        in_flight = []
        with psycopg.connect(system.ledger_url) as lock:
            # Writers take this lock to append; the command waits here, its transaction open.
            lock.execute("LOCK TABLE ledger_events IN EXCLUSIVE MODE")
            command = threading.Thread(target=lambda: in_flight.append(workload.check(filed.case_id, "420100")))
            command.start()
            assert wait_for(lambda: waiting_on_a_lock(system.ledger_url, "caseplatform-verification-ledger"),
                            timeout=60)
            assert postgres.cut() > 0
            command.join(timeout=300)
        assert in_flight, "the command in flight was answered"
        answer = in_flight[0]
        assert answer.status == 503, answer
        assert answer.body["error"] == "service_unavailable", answer.body
        assert case_history(system, filed.case_id) == before, "nothing of the command in flight was written"

        # While the database is away: commands and reads are refused the same way.
        during = workload.check(filed.case_id, "420100")
        assert during.status == 503 and during.body["error"] == "service_unavailable", during
        inbox = Party(system.platform, "city", "420100").request("GET", "verification", "/inbox")
        assert inbox.status_code == 503 and inbox.json()["error"] == "service_unavailable", inbox.text

        postgres.restore()
        # The same processes reconnect on their own.
        after = workload.check(filed.case_id, "420100")
        assert after.accepted, after
        another = workload.file("420200")
        assert another.accepted, another.body
        assert {service: system.pid(service) for service in accounting.SERVICES} == pids
        assert all(system.procs[service].poll() is None for service in accounting.SERVICES)

        events = accounting.committed_events(system.ledger_url)
        assert unclean_outcomes(workload, events) == []
        row = fault.settle()
        for service in accounting.SERVICES:
            assert parked(system, service) == [], f"{service} parked an event for an outage"
    assert row.lost == 0 and row.duplicates_applied == 0


def test_an_event_met_by_the_outage_waits_for_the_database_without_being_parked(faulty_system, tmp_path):
    system, postgres = faulty_system, faulty_system.proxies["postgres"]
    workload = Workload(system.platform)
    audit_rm = system.readmodel_urls["audit"]
    filed = workload.file("420500")
    assert filed.accepted, filed.body
    assert accounting.wait_quiet(system), "the filing's events are applied: the lock below holds only the next"
    with accounting.fault("database outage: events delivered while it is away, commands refused",
                          system, tmp_path) as fault:
        with psycopg.connect(audit_rm) as lock:
            # The audit service receives the event and waits to write it; then the database goes.
            lock.execute("LOCK TABLE touches IN EXCLUSIVE MODE")
            checked = workload.check(filed.case_id, "420500")
            assert checked.accepted, checked
            assert wait_for(lambda: waiting_on_a_lock(audit_rm, "caseplatform-audit-readmodel"), timeout=60)
            postgres.cut()
        event = f"{filed.case_id}:{checked.body['version']}"
        met = f"{event} not applied, an outage"
        seen = system.log("audit").count(met)
        # Back to the queue more times than a poison message is tried, and never parked.
        assert wait_for(lambda: system.log("audit").count(met) >= seen + MAX_DELIVERY_ATTEMPTS + 1, timeout=120)
        assert f"parking {event}" not in system.log("audit")
        during = len(workload.outcomes)
        workload.check(filed.case_id, "420500")
        workload.file("420500")  # its first upload is refused: the deposit is a ledger write
        refused = workload.outcomes[during:]
        assert refused and all(o.status == 503 and o.body["error"] == "service_unavailable" for o in refused), refused
        postgres.restore()

        assert wait_for(lambda: event in accounting.applied_ids(audit_rm), timeout=60)
        events = accounting.committed_events(system.ledger_url)
        assert unclean_outcomes(workload, events) == []
        row = fault.settle()
        for service in accounting.SERVICES:
            assert parked(system, service) == [], f"{service} parked an event for an outage"
    assert row.lost == 0 and row.duplicates_applied == 0
