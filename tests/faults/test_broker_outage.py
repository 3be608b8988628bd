"""RabbitMQ goes away while commands keep arriving, then comes back.

How the outage is made: the services reach the broker only through a proxy, which resets
every AMQP connection (the relay's publisher, every service's consumer) and every new one
until it is restored. This is what a service sees of a broker that stops or a network that
drops; the broker itself is shared with other tests and is not stopped. What a proxy
cannot show, that the broker keeps what it holds across its own restart, rests on the
exchange and queues being durable and every message persistent and confirmed before the
relay moves on (shared/infra/messaging/topology.py, shared/infra/messaging/relay.py).

Promises held here: a command during the outage is done whole or refused with the API's
error, never half-done (commands only append to the ledger, so they are accepted); the
events committed while the broker was away reach every read model once it is back; and
events committed = events applied by each read model, with no duplicate applied.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from shared.infra.messaging.subscriber import LedgerSubscriber
from tests.faults import accounting
from tests.faults.probes import ledger_position
from tests.faults.workload import CommandStream, Workload, unclean_outcomes
from tests.infra import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


OUTAGES = 3


def test_commands_during_broker_outages_are_whole_and_every_event_reaches_every_read_model_once(
    faulty_system, tmp_path
):
    system, amqp = faulty_system, faulty_system.proxies["amqp"]
    workload = Workload(system.platform)
    accepted_during = []
    with accounting.fault(f"broker outage ×{OUTAGES}: every AMQP connection cut while commands arrive",
                          system, tmp_path, injections=OUTAGES) as fault:
        with CommandStream(workload, workers=1):
            assert wait_for(lambda: len(workload.cases) >= 2, timeout=60), "no case filed before the outage"
            for _ in range(OUTAGES):
                accepted_during += outage(system, amqp, workload)

        assert accepted_during, "commands were accepted while the broker was away"
        stopped = {s: p.returncode for s, p in system.procs.items() if p.poll() is not None}
        assert not stopped, f"services stopped by the outage: {stopped}"
        events = accounting.committed_events(system.ledger_url)
        assert unclean_outcomes(workload, events) == []
        row = fault.settle()
    assert row.lost == 0 and row.duplicates_applied == 0
    print(f"\nbroker outages: {len(workload.outcomes)} commands, {len(accepted_during)} accepted while the "
          f"broker was away; {row.committed} events committed, {row.lost} lost, {row.duplicates_absorbed} "
          f"duplicate deliveries absorbed, {row.duplicates_applied} applied")


def outage(system, amqp, workload: Workload) -> list:
    """Cuts the broker away while commands arrive and brings it back; returns the commands accepted meanwhile."""
    assert amqp.cut() >= len(accounting.SERVICES), "every service was connected to the broker"
    committed_at_cut, _ = ledger_position(system)
    resets = amqp.stats()["reset_while_cut"]
    during = len(workload.outcomes)
    # Each outage lasts while 30 more events are committed (commands need the ledger, not
    # the broker) and until the services have found the broker gone on reconnecting.
    assert wait_for(lambda: ledger_position(system)[0] >= committed_at_cut + 30
                    and amqp.stats()["reset_while_cut"] >= resets + 2 * len(accounting.SERVICES),
                    timeout=120)
    committed, published = ledger_position(system)
    assert published < committed, "events committed during the outage could not have been published"
    accepted = [o for o in workload.outcomes[during:] if o.accepted]
    amqp.restore()
    # Back: every consumer reconnected, and the relay sent what piled up while it was away.
    assert wait_for(lambda: amqp.stats()["live"] >= len(accounting.SERVICES), timeout=60)
    assert wait_for(lambda: ledger_position(system)[1] >= committed, timeout=60)
    return accepted


class _Gone:
    """A delivered message whose connection has just died: acknowledging it meets the socket's reset."""

    properties: ClassVar[dict[str, str]] = {"message_id": "00000000-0000-0000-0000-000000000001:1"}
    headers: ClassVar[dict] = {}

    class channel:
        connection = object()  # not yet noticed as closed by the consumer's loop

    def ack(self):
        raise ConnectionResetError(104, "Connection reset by peer")

    reject = requeue = ack


def test_a_message_settled_on_a_connection_that_just_died_does_not_stop_the_service():
    # nameko kills a container whose worker's result handling raises; the broker test above
    # caught an ack meeting a reset socket at the moment of an outage, which stopped the
    # intake service for good. The message stays the broker's and comes back: no raise.
    LedgerSubscriber().handle_message_processed(_Gone())
