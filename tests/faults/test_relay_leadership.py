"""The outbox relay through a database outage: the leader that lost its connections leads again.

The relay holds its leadership as a PostgreSQL session lock. When the database goes away
(here: a fault proxy resets every connection of the relay, while the test keeps writing
to the ledger directly), the session ends and the lock with it. Once the database is
back the relay must take the lead again and send what was committed meanwhile: before
this test, a leader whose lock connection failed inside its transaction kept the broken
connection and raised on every pass, never to lead again.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.infra.ledger import CaseLedger
from shared.infra.messaging.relay import Relay
from tests.faultproxy import FaultProxy
from tests.faults.conftest import through
from tests.integration.test_relay import EXCHANGE, drain, submit

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.fixture
def ledger_url(make_database):
    return make_database("ledger")


@pytest.fixture
def proxy(ledger_url):
    host_port = ledger_url.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    with FaultProxy(host, int(port or 5432), name="postgres") as proxy:
        yield proxy


def test_a_relay_leader_that_lost_its_database_leads_again_and_sends_what_was_committed_meanwhile(
    ledger_url, proxy, make_vhost
):
    amqp = make_vhost("relay-outage")
    writer = CaseLedger(ledger_url, owner="intake")
    reader = CaseLedger(through(ledger_url, proxy), owner=None)
    relay = Relay(reader, through(ledger_url, proxy), amqp, EXCHANGE)
    try:
        first = submit(writer)
        assert relay.run_once() == 1 and relay.leads

        proxy.cut()
        second = submit(writer)  # committed while the relay cannot reach the database
        with pytest.raises(sa.exc.OperationalError):  # the loop (RelayRunner) logs it and tries again later
            relay.run_once()
        assert not relay.leads

        proxy.restore()
        assert relay.run_once() == 1, "the relay leads again and sends the event committed during the outage"
        assert relay.leads
    finally:
        relay.close()
        reader.close()
        writer.close()
    assert [m[0] for m in drain(amqp)] == [f"{first.id}:1", f"{second.id}:1"]
