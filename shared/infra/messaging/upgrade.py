"""Moves a broker from the classic queues of older releases to today's quorum queues, messages kept.

A queue's type cannot change once declared: declaring `ledger.intake` as a quorum queue
where a classic one exists fails with PRECONDITION_FAILED, and every service and the
relay would stop at start. Run with the services and the relay stopped (nothing may
publish or consume meanwhile): for each service whose queues are not today's, every
message of its main, retry and parked queues is moved to a temporary quorum queue, the
old queues are deleted, today's topology declared, and the messages moved back (the retry
queue's straight to the main queue, where they were going). A copy is acknowledged only
once the broker confirmed it, so a crash half-way loses nothing: run the command again.
"""

from __future__ import annotations

import amqp.exceptions
from kombu import Connection, Producer, Queue

from shared.infra.config import SERVICES
from shared.infra.messaging import topology


def _is_todays(conn: Connection, queue: Queue) -> bool:
    """Whether `queue` is absent or already declared with today's arguments."""
    channel = conn.channel()
    try:
        queue(channel).declare()
        return True
    except amqp.exceptions.PreconditionFailed:
        return False  # the broker closed that channel
    finally:
        if channel.is_open:
            channel.close()


def _move(conn: Connection, source: str, target: str) -> int:
    producer = Producer(conn.channel())
    messages = topology.take(conn, source)
    for message in messages:
        producer.publish(message.body, exchange="", routing_key=target,
                         content_type=message.content_type or "application/json",
                         content_encoding=message.content_encoding,
                         message_id=message.properties.get("message_id"),
                         headers=message.headers or {}, delivery_mode=2)
        message.ack()  # once the broker confirmed the copy
    return len(messages)


def _exists(conn: Connection, name: str) -> bool:
    channel = conn.channel()
    try:
        channel.queue_declare(name, passive=True)
        return True
    except amqp.exceptions.NotFound:
        return False
    finally:
        if channel.is_open:
            channel.close()


def upgrade_queues(amqp_uri: str, exchange: str, services=SERVICES) -> dict[str, int]:
    """Upgrades each service's queues that are not today's; messages moved, by service.

    Holding queues left by a run that stopped half-way are emptied back too.
    """
    upgraded: dict[str, int] = {}
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        for service in services:
            main, retry, parked = topology.service_queues(service, exchange)
            back_to = {main.name: main.name, retry.name: main.name, parked.name: parked.name}
            holding = {name: f"{name}.upgrading" for name in back_to}
            if not all(_is_todays(conn, q) for q in (main, retry, parked)):
                for name, hold in holding.items():
                    Queue(hold, durable=True, queue_arguments=dict(topology.QUORUM))(conn.channel()).declare()
                    _move(conn, name, hold)
                    conn.channel().queue_delete(name)
            topology.declare(conn.channel(), exchange, services=[service])
            for name, hold in holding.items():
                if _exists(conn, hold):
                    upgraded[service] = upgraded.get(service, 0) + _move(conn, hold, back_to[name])
                    conn.channel().queue_delete(hold)
    return upgraded
