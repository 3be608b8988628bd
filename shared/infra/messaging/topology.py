"""The RabbitMQ topology: one topic exchange for the ledger, three quorum queues per service.

Declared by the relay before it publishes and by each service before it
consumes, with identical arguments, so no event is published to an exchange
that has nowhere to put it. A message a service fails to handle is moved by the
subscriber to the service's retry queue (TTL) and comes back; after `max_attempts`
it is parked in the service's parked queue with the error, for an operator to replay.

Quorum queues (Raft-replicated on every node of a cluster) so that a broker node lost
loses no message. A message delivered `DELIVERY_LIMIT + 1` times without an
acknowledgement (it kills its consumer each time, or the consumer stops with it in
hand) is dead-lettered by the broker straight to the parked queue with reason
`delivery_limit`: not to the retry queue, since RabbitMQ drops a message that
dead-letters round a cycle in which no one rejected it (main -> retry -> main, by
delivery limit and expiry), which is why the subscriber moves failed messages to the
retry queue itself instead of rejecting them. Dead-lettering is at-least-once (a
quorum queue's default, at-most-once, drops a message whose target is unavailable);
that strategy needs `x-overflow: reject-publish`, and with no length limit set it
never rejects anything.

A queue's type and arguments cannot change once declared (PRECONDITION_FAILED): a
broker that still has the classic queues of an older release is upgraded with
`caseplatform queues upgrade` (shared/infra/messaging/upgrade.py).
"""

from __future__ import annotations

from kombu import Exchange, Queue

from shared.infra.config import SERVICES
from shared.infra.messaging.contracts import binding

RETRY_DELAY_MS = 1000
# Redeliveries without an acknowledgement before the broker parks a message. Not only a
# message that kills its consumer returns unacknowledged: so does every message in hand
# (up to the prefetch, 50) when a process stops or its connection drops, so this is set
# well above the stops and restarts one message could live through.
DELIVERY_LIMIT = 20
QUORUM = {"x-queue-type": "quorum"}
AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}

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
            **QUORUM, **AT_LEAST_ONCE,
            "x-delivery-limit": DELIVERY_LIMIT,
            # One process of a service consumes at a time, the others wait as standbys (the
            # broker hands the queue to one when the active one goes): competing consumers
            # split a case's events between processes, and its later versions failed out of
            # order round the retry queue until parked (tests/faults/test_replicas.py).
            "x-single-active-consumer": True,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": f"{main_name}.parked",
        },
    )
    retry = Queue(
        f"{main_name}.retry",
        durable=True,
        queue_arguments={
            **QUORUM, **AT_LEAST_ONCE,
            "x-message-ttl": RETRY_DELAY_MS,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": main_name,
        },
    )
    parked = Queue(f"{main_name}.parked", durable=True, queue_arguments=dict(QUORUM))
    return main, retry, parked


def take(conn, queue: str, *, most: int | None = None, idle: float = 1.0) -> list:
    """The messages waiting in `queue` (up to `most`), in queue order, unacknowledged: the
    caller acknowledges each, or closes `conn` to give them back.

    By consuming: a main queue has a single active consumer, and RabbitMQ refuses basic.get
    on such a quorum queue (RESOURCE_LOCKED). Returns once nothing came for `idle` seconds.
    """
    got: list = []
    channel = conn.channel()
    channel.basic_qos(0, most or 0, False)
    tag = channel.basic_consume(queue, callback=lambda raw: got.append(channel.message_to_python(raw)))
    while most is None or len(got) < most:
        before = len(got)
        try:
            conn.drain_events(timeout=idle)
        except TimeoutError:
            if len(got) == before:
                break
    channel.basic_cancel(tag)
    return got


def declare(channel, exchange_name: str, services=SERVICES) -> None:
    ledger_exchange(exchange_name)(channel).declare()
    for service in services:
        main, retry, parked = service_queues(service, exchange_name)
        for queue in (main, retry, parked):
            queue(channel).declare()
        for key in SUBSCRIPTIONS[service][1:]:
            main(channel).bind_to(exchange=ledger_exchange(exchange_name), routing_key=key)
