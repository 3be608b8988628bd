"""The RabbitMQ topology: one topic exchange for the ledger, one durable queue per service.

Declared by the relay before it publishes and by each service before it
consumes, with identical arguments, so no event is published to an exchange
that has nowhere to put it. A message a service fails to handle waits in the
service's retry queue (TTL) and comes back; after `max_attempts` it is parked
in the service's parked queue with the error, for an operator to replay.
"""

from __future__ import annotations

from kombu import Exchange, Queue

from shared.infra.config import SERVICES
from shared.infra.messaging.contracts import binding

RETRY_DELAY_MS = 1000

# What each service's read models need, by kind of stream (a kind the contract does not
# declare fails at import). Every service keeps the case's stage, so each takes
# every case event; intake also lists the calls. Allocation streams (quotas, shortlist
# places) are read from the ledger where they are enforced, so no queue takes them.
# Narrowing a service is one line here.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    **{service: (binding("case"),) for service in SERVICES},
    "intake": (binding("case"), binding("call"), binding("calendar")),  # and the recorded calendar years
    "review": (binding("case"), binding("panel")),  # the panels' assignments: each expert's list of cases
    "publication": (binding("case"), binding("publiclist")),  # its public lists are streams of their own
    "notifications": (binding("case"), binding("panel")),  # the experts hear of their assignments
}


def ledger_exchange(name: str) -> Exchange:
    return Exchange(name, type="topic", durable=True)


def queue_name(service: str) -> str:
    return f"ledger.{service}"


def service_queues(service: str, exchange_name: str) -> tuple[Queue, Queue, Queue]:
    """(main, retry, parked) queues of one service."""
    exchange = ledger_exchange(exchange_name)
    main_name = queue_name(service)
    main = Queue(
        main_name,
        exchange=exchange,
        routing_key=SUBSCRIPTIONS[service][0],
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": f"{main_name}.retry",
        },
    )
    retry = Queue(
        f"{main_name}.retry",
        durable=True,
        queue_arguments={
            "x-message-ttl": RETRY_DELAY_MS,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": main_name,
        },
    )
    parked = Queue(f"{main_name}.parked", durable=True)
    return main, retry, parked


def declare(channel, exchange_name: str, services=SERVICES) -> None:
    ledger_exchange(exchange_name)(channel).declare()
    for service in services:
        main, retry, parked = service_queues(service, exchange_name)
        for queue in (main, retry, parked):
            queue(channel).declare()
        for key in SUBSCRIPTIONS[service][1:]:
            main(channel).bind_to(exchange=ledger_exchange(exchange_name), routing_key=key)
